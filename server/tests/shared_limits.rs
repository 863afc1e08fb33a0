//! Limits that hold across servers and bots: abuse counters and the bot's
//! per-user command limit in the JetStream key-value bucket `chat_limits`
//! (with the project's nats.conf), typing merged on every server, and what
//! happens when the bucket is unreachable.

use std::time::{Duration, Instant};

use bytes::Bytes;
use chat_shared::bus::json_payload;
use chat_shared::payloads::{NoteEvent, PresenceNote};
use futures::future::join_all;
use serde_json::json;

use crate::support::cluster::{Cluster, Shape};
use crate::support::{tells_presence, Ws, PASSWORD};

/// Logs into server `i` as alice with a wrong password; the status.
async fn wrong_password_on(cluster: &Cluster, i: usize) -> u16 {
    cluster.client(i).login("alice", "wrong password").await.0
}

#[actix_rt::test]
async fn failed_logins_count_across_servers() {
    let Some(cluster) = Cluster::start(Shape::servers(2)).await else {
        return;
    };
    cluster.user(0, "alice").await;
    for attempt in 0..10 {
        let status = wrong_password_on(&cluster, attempt % 2).await;
        assert_eq!(status, 401, "attempt {attempt}; logs:{}", cluster.logs());
    }
    for server in 0..2 {
        assert_eq!(
            wrong_password_on(&cluster, server).await,
            429,
            "server {server} knows of the others' failures; logs:{}",
            cluster.logs()
        );
    }
    let log = cluster.logs().to_ascii_lowercase();
    assert!(
        !log.contains("violation"),
        "nats.conf allows what the bucket needs: {log}"
    );
}

#[actix_rt::test]
async fn sign_ups_racing_on_two_servers_never_exceed_the_shared_limit() {
    let shape = Shape {
        servers: 2,
        server_env: vec![("CHAT_SIGNUPS_PER_HOUR", "6")],
        ..Shape::default()
    };
    let Some(cluster) = Cluster::start(shape).await else {
        return;
    };
    let attempts = (0..12).map(|i| {
        let mut client = cluster.client(i % 2);
        async move {
            let body = json!({"username": format!("racer{i:02}"), "password": PASSWORD});
            client.exchange("POST", "/api/register", Some(body)).await
        }
    });
    let answers = join_all(attempts).await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    let refused = answers.iter().filter(|a| a.status == 429).count();
    assert_eq!(
        (created, refused),
        (6, 6),
        "{answers:?}; logs:{}",
        cluster.logs()
    );
}

#[actix_rt::test]
async fn a_burst_of_typing_on_one_server_reaches_members_on_another_once_per_window() {
    let Some(cluster) = Cluster::start(Shape::servers(2)).await else {
        return;
    };
    let mut a = cluster.user(0, "alice").await.ws().await;
    let mut b = cluster.user(1, "bob").await.ws().await;
    a.join("general").await;
    b.join("general").await;
    a.expect("bob in the room", |f| tells_presence(f, "bob", "join"))
        .await;
    a.typing_bursts_reach_once_per_window("alice", &mut [&mut b])
        .await;
}

#[actix_rt::test]
async fn typing_notes_arriving_in_a_burst_from_another_server_reach_members_once() {
    let Some(cluster) = Cluster::start(Shape::default()).await else {
        return;
    };
    let mut b = cluster.user(0, "bob").await.ws().await;
    b.join("general").await;
    let elsewhere = cluster.nats[0].connect_as("server").await;
    let note = json_payload(&PresenceNote {
        user: "alice".to_owned(),
        event: NoteEvent::Typing,
        server: "srv-elsewhere".to_owned(),
    });
    for _ in 0..10 {
        let payload: Bytes = note.clone();
        elsewhere
            .publish("chat.presence.general", payload)
            .await
            .unwrap();
    }
    elsewhere.flush().await.unwrap();
    let seen = b
        .typing_frames_from("alice", Duration::from_millis(1500))
        .await;
    assert_eq!(seen, 1);
}

#[actix_rt::test]
async fn with_nats_down_logins_still_answer_and_the_limits_fail_open_with_a_warning() {
    let Some(mut cluster) = Cluster::start(Shape::default()).await else {
        return;
    };
    cluster.user(0, "alice").await;
    cluster.nats[0].stop().await;
    let started = Instant::now();
    assert_eq!(wrong_password_on(&cluster, 0).await, 401);
    assert_eq!(cluster.client(0).login("alice", PASSWORD).await.0, 200);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "answered in {:?}",
        started.elapsed()
    );
    let log = cluster.servers[0].proc.log_text();
    assert!(
        log.contains("shared limits unavailable"),
        "a warning is logged: {log}"
    );
}

/// Sends `/stock=aapl.us` to `general`; the bot's reply, if any within `wait`.
async fn ask_the_bot(ws: &mut Ws, wait: Duration) -> Option<String> {
    ws.send(json!({"type": "send", "channel": "general", "text": "/stock=aapl.us"}))
        .await;
    let deadline = Instant::now() + wait;
    while let Some(frame) = ws
        .next_frame(deadline.saturating_duration_since(Instant::now()))
        .await
    {
        if frame["type"] == "message" && frame["message"]["user"] == "stockbot" {
            return frame["message"]["text"].as_str().map(str::to_owned);
        }
    }
    None
}

#[actix_rt::test]
async fn the_bots_per_user_command_limit_holds_across_bots() {
    let shape = Shape {
        bots: 1,
        bot_env: vec![("BOT_RATE_COUNT", "3"), ("BOT_RATE_WINDOW_SECS", "120")],
        ..Shape::default()
    };
    let Some(mut cluster) = Cluster::start(shape).await else {
        return;
    };
    let mut alice = cluster.user(0, "alice").await.ws().await;
    alice.join("general").await;
    let long = Duration::from_secs(10);
    for i in 0..2 {
        let reply = ask_the_bot(&mut alice, long).await;
        assert_eq!(
            reply.as_deref(),
            Some("AAPL.US quote is $93.42 per share"),
            "command {i}; logs:{}",
            cluster.logs()
        );
    }
    // A second bot takes over: it knows of the first one's count.
    cluster.bots[0].terminate().await;
    cluster.start_bot().await;
    let third = ask_the_bot(&mut alice, long).await;
    assert_eq!(third.as_deref(), Some("AAPL.US quote is $93.42 per share"));
    let fourth = ask_the_bot(&mut alice, long).await.unwrap_or_default();
    assert!(
        fourth.starts_with("Easy, alice: at most 3 commands every 120 seconds"),
        "the limit is shared, the new bot refuses: {fourth:?}; logs:{}",
        cluster.logs()
    );
    let fifth = ask_the_bot(&mut alice, Duration::from_secs(2)).await;
    assert_eq!(fifth, None, "one polite word per window, then silence");
    let log = cluster.bots[1].log_text();
    assert!(
        log.contains("command ignored") && !log.to_ascii_lowercase().contains("unavailable"),
        "the second bot counted in the shared bucket: {log}"
    );
    assert!(!cluster.logs().to_ascii_lowercase().contains("violation"));
}
