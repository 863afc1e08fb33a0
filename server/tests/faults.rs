//! Faults with real processes: bots, archivers, servers, NATS and PostgreSQL
//! stopping and coming back. Nothing is lost, nothing is duplicated, nobody
//! is left without an answer.

use std::time::{Duration, Instant};

use chat_shared::names::ChannelName;
use chat_shared::store::{HistoryQuery, PgStore, Store};
use serde_json::json;

use crate::support::cluster::{Cluster, Shape};
use crate::support::pg::PrivatePg;
use crate::support::{pluck, tells_presence, Client, Ws, PASSWORD};

/// Archivers that write only every minute: recent messages live only in the stream.
const SLOW_ARCHIVER: [(&str, &str); 2] = [
    ("ARCHIVER_FLUSH_MS", "60000"),
    ("ARCHIVER_BATCH_SIZE", "10000"),
];

/// Polls the archive until it holds `n` messages of #general (or the deadline).
async fn archived(db_url: &str, n: usize, within: Duration) -> Vec<String> {
    let store = PgStore::connect(db_url, 1).await.unwrap();
    let deadline = Instant::now() + within;
    loop {
        let texts: Vec<String> = store
            .messages(&ChannelName::general(), &HistoryQuery::latest(100))
            .await
            .map(|ms| ms.into_iter().map(|m| m.text.to_string()).collect())
            .unwrap_or_default();
        if texts.len() >= n || Instant::now() > deadline {
            return texts;
        }
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_ready(client: &mut Client, ready: bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = client.get("/readyz").await;
        if (status == 200) == ready {
            return;
        }
        assert!(Instant::now() < deadline, "readyz stayed {status}");
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_rt::test]
async fn with_no_bot_running_a_command_gets_an_error_and_once_a_bot_is_back_an_answer() {
    let Some(mut cluster) = Cluster::start(Shape {
        bots: 1,
        ..Shape::default()
    })
    .await
    else {
        return;
    };
    let mut a = cluster.user(0, "alice").await.ws().await;
    a.join("general").await;
    cluster.bots[0].kill();
    a.send(json!({"type": "send", "channel": "general", "text": "/stock=aapl.us", "ref": "cmd-1"}))
        .await;
    let error = a
        .expect("the bot is missing", |f| {
            f["type"] == "error" && f["ref"] == "cmd-1"
        })
        .await;
    assert_eq!(error["code"], "bot_unavailable", "{error}");
    cluster.start_bot().await;
    a.say("general", "/stock=aapl.us").await;
    let reply = a
        .expect_message("general", "AAPL.US quote is $93.42 per share")
        .await;
    assert_eq!(reply["user"], "stockbot");
}

/// `b` says a few things that `a` hears; returns the id of the last one.
async fn chat_before_the_crash(a: &mut Ws, b: &mut Ws) -> Vec<String> {
    let mut seen = Vec::new();
    for i in 0..3 {
        let id = b.say("general", &format!("before {i}")).await;
        a.expect_message("general", &format!("before {i}")).await;
        seen.push(id);
    }
    seen
}

/// Joins #general asking for what came after `since`; returns the ids of that history.
async fn rejoin_since(ws: &mut Ws, since: &str) -> Vec<String> {
    ws.send(json!({"type": "join", "channel": "general", "since": since}))
        .await;
    let joined = ws
        .expect("joined with since", |f| f["type"] == "joined")
        .await;
    pluck(&joined["history"], "id")
}

#[actix_rt::test]
async fn a_client_cut_off_by_a_dead_server_recovers_every_message_exactly_once_on_another() {
    let shape = Shape {
        servers: 2,
        archivers: 2,
        archiver_env: SLOW_ARCHIVER.to_vec(),
        ..Shape::default()
    };
    let Some(mut cluster) = Cluster::start(shape).await else {
        return;
    };
    let alice = cluster.user(0, "alice").await;
    let bob = cluster.user(1, "bob").await;
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    a.join("general").await;
    b.join("general").await;
    let seen = chat_before_the_crash(&mut a, &mut b).await;
    let last_seen = seen.last().unwrap().clone();
    cluster.servers[0].proc.kill();
    let mut missed = Vec::new();
    for i in 0..10 {
        missed.push(b.say("general", &format!("while away {i}")).await);
    }
    assert!(
        archived(&cluster.db_url, 13, Duration::ZERO).await.len() < 13,
        "the tail is not archived yet"
    );

    let mut again = alice.on(&cluster.servers[1].addr).ws().await;
    // Messages stored just before `since` may come again (a client drops
    // the ids it holds): docs/protocol.md, `join`.
    let (held, recovered): (Vec<String>, Vec<String>) = rejoin_since(&mut again, &last_seen)
        .await
        .into_iter()
        .partition(|id| *id < last_seen);
    assert_eq!(recovered, missed, "every missed message once, in order");
    assert!(
        held.iter().all(|id| seen.contains(id)),
        "and at most some it already held: {held:?}"
    );
    let id = b.say("general", "welcome back").await;
    let live = again.expect_message("general", "welcome back").await;
    assert_eq!(live["id"], id.as_str());
    again
        .expect_no_message(Duration::from_millis(500), "no duplicates")
        .await;
}

#[actix_rt::test]
async fn sigterm_closes_websockets_with_1001_and_keeps_every_accepted_message() {
    let shape = Shape {
        archiver_env: SLOW_ARCHIVER.to_vec(),
        ..Shape::default()
    };
    let Some(mut cluster) = Cluster::start(shape).await else {
        return;
    };
    let mut a = cluster.user(0, "alice").await.ws().await;
    a.join("general").await;
    for i in 0..5 {
        a.say("general", &format!("last words {i}")).await;
    }
    cluster.servers[0].proc.terminate().await;
    assert_eq!(
        a.expect_close().await,
        Some(1001),
        "clients are told to go elsewhere"
    );
    assert!(
        archived(&cluster.db_url, 5, Duration::ZERO)
            .await
            .is_empty(),
        "still only in the archiver's batch"
    );
    cluster.archivers[0].terminate().await;
    assert_eq!(
        archived(&cluster.db_url, 5, Duration::ZERO).await.len(),
        5,
        "a stopping archiver writes its batch"
    );
    cluster.start_archiver().await;
    actix_rt::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        archived(&cluster.db_url, 6, Duration::from_secs(2))
            .await
            .len(),
        5,
        "and acknowledged it: no redelivery"
    );
}

#[actix_rt::test]
async fn an_archiver_killed_with_a_backlog_catches_up_without_duplicates() {
    let shape = Shape {
        archiver_env: [&SLOW_ARCHIVER[..], &[("ARCHIVER_ACK_WAIT_SECS", "2")]].concat(),
        ..Shape::default()
    };
    let Some(mut cluster) = Cluster::start(shape).await else {
        return;
    };
    let mut a = cluster.user(0, "alice").await.ws().await;
    a.join("general").await;
    let mut sent = Vec::new();
    for i in 0..20 {
        let text = format!("backlog {i}");
        a.say("general", &text).await;
        sent.push(text);
    }
    cluster.archivers[0].kill();
    assert!(archived(&cluster.db_url, 1, Duration::ZERO)
        .await
        .is_empty());
    cluster.archiver_env.clear();
    cluster.start_archiver().await;
    let texts = archived(&cluster.db_url, 20, Duration::from_secs(20)).await;
    assert_eq!(texts, sent, "all 20, once each, in order");
}

#[actix_rt::test]
async fn nats_restarting_is_survived_and_nothing_sent_meanwhile_is_silently_dropped() {
    let Some(mut cluster) = Cluster::start(Shape {
        servers: 2,
        bots: 1,
        ..Shape::default()
    })
    .await
    else {
        return;
    };
    let (alice, bob) = (cluster.user(0, "alice").await, cluster.user(1, "bob").await);
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    a.join("general").await;
    b.join("general").await;
    a.say("general", "before the outage").await;
    b.expect_message("general", "before the outage").await;

    cluster.nats[0].stop().await;
    let mut probe = cluster.client(0);
    wait_ready(&mut probe, false).await;
    a.send(
        json!({"type": "send", "channel": "general", "text": "during the outage", "ref": "out-1"}),
    )
    .await;
    let refused = a.expect("a refusal", |f| f["ref"] == "out-1").await;
    assert_eq!(
        (refused["type"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("unavailable")),
        "{refused}"
    );

    cluster.nats[0].restart().await;
    for i in 0..2 {
        wait_ready(&mut cluster.client(i), true).await;
    }
    a.say("general", "after the outage").await;
    b.expect_message("general", "after the outage").await;
    b.say("general", "/stock=aapl.us").await;
    a.expect_message("general", "AAPL.US quote is $93.42 per share")
        .await;
    let texts = archived(&cluster.db_url, 4, Duration::from_secs(10)).await;
    assert_eq!(
        texts,
        [
            "before the outage",
            "after the outage",
            "/stock=aapl.us",
            "AAPL.US quote is $93.42 per share"
        ]
    );
}

#[actix_rt::test]
async fn postgres_down_means_503_and_not_ready_and_the_archive_catches_up_after() {
    let Some(pg) = PrivatePg::start() else { return };
    let shape = Shape {
        db_url: Some(pg.url("postgres")),
        ..Shape::default()
    };
    let Some(cluster) = Cluster::start(shape).await else {
        return;
    };
    let alice = cluster.user(0, "alice").await;
    let mut a = alice.ws().await;
    a.join("general").await;

    pg.stop();
    let mut probe = cluster.client(0);
    let started = Instant::now();
    let (status, body) = probe.login("alice", PASSWORD).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "no hang: {:?}",
        started.elapsed()
    );
    wait_ready(&mut probe, false).await;
    for i in 0..5 {
        a.say("general", &format!("while the database is down {i}"))
            .await;
    }

    pg.start_again();
    wait_ready(&mut probe, true).await;
    assert_eq!(probe.login("alice", PASSWORD).await.0, 200);
    let texts = archived(&cluster.db_url, 5, Duration::from_secs(20)).await;
    assert_eq!(texts.len(), 5, "{texts:?}\n{}", cluster.logs());
}

#[actix_rt::test]
async fn a_dead_servers_users_leave_the_rooms_of_every_other_server() {
    let Some(cluster) = Cluster::start(Shape::servers(2)).await else {
        return;
    };
    let mut a = cluster.user(0, "alice").await.ws().await;
    let mut b = cluster.user(1, "bob").await.ws().await;
    a.join("general").await;
    b.join("general").await;
    let mut cluster = cluster;
    cluster.servers[0].proc.kill();
    // Servers beat every 5 s and count a peer gone after 15 s of silence.
    let left = b
        .expect_within(Duration::from_secs(25), "alice's departure", |f| {
            tells_presence(f, "alice", "leave")
        })
        .await;
    assert_eq!(left["channel"], "general");
}

/// Sends `text` until it is acknowledged, always with the same `ref` (as the
/// UI retries): refusals while the cluster settles are tried again.
async fn say_until_stored(ws: &mut Ws, text: &str, reference: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        ws.send(json!({"type": "send", "channel": "general", "text": text, "ref": reference}))
            .await;
        let answer = ws
            .expect("an answer", |f| {
                (f["type"] == "ack" || f["type"] == "error") && f["ref"] == reference
            })
            .await;
        if answer["type"] == "ack" {
            return answer["id"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "never stored: {answer}");
        actix_rt::time::sleep(Duration::from_millis(300)).await;
    }
}

#[actix_rt::test]
async fn a_server_that_reconnects_to_nats_catches_its_clients_up_without_a_rejoin() {
    // Server 0 talks to NATS node 0, server 1 to node 1; the stream is
    // replicated on the three nodes, so it lives on without one.
    let Some(mut cluster) = Cluster::start(Shape {
        nats_nodes: 3,
        servers: 2,
        archiver_env: vec![("CHAT_STREAM_REPLICAS", "3")],
        ..Shape::default()
    })
    .await
    else {
        return;
    };
    let mut a = cluster.user(0, "alice").await.ws().await;
    let mut b = cluster.user(1, "bob").await.ws().await;
    a.join("general").await;
    b.join("general").await;
    a.say("general", "before").await;
    b.expect_message("general", "before").await;

    // Bob's server loses its NATS node (and knows no other) while alice
    // goes on talking; then the node comes back.
    cluster.nats[1].stop().await;
    let texts: Vec<String> = (0..20)
        .map(|i| format!("while bob's server was away {i}"))
        .collect();
    for (i, text) in texts.iter().enumerate() {
        say_until_stored(&mut a, text, &format!("c-away-{i:04}")).await;
    }
    cluster.nats[1].restart().await;
    let mut got = std::collections::HashSet::new();
    while got.len() < texts.len() {
        let f = b
            .expect_within(Duration::from_secs(30), "alice's messages", |f| {
                f["type"] == "message" && f["message"]["user"] == "alice"
            })
            .await;
        let text = f["message"]["text"].as_str().unwrap().to_owned();
        assert!(got.insert(text.clone()), "{text:?} arrived twice");
    }
    assert_eq!(
        got,
        texts.iter().cloned().collect(),
        "every message, live, no rejoin"
    );
    b.expect_no_message(Duration::from_secs(1), "and nothing twice")
        .await;
    assert!(
        cluster.logs().contains("following the stream again"),
        "bob's server followed the stream again by itself"
    );
}

#[actix_rt::test]
async fn a_bot_and_an_archiver_asked_to_stop_after_nats_is_gone_still_stop() {
    let Some(mut cluster) = Cluster::start(Shape {
        bots: 1,
        ..Shape::default()
    })
    .await
    else {
        return;
    };
    cluster.nats[0].kill();
    // Within the 5 s the last flush may wait, plus the archiver's own wind-down.
    let within = Duration::from_secs(10);
    cluster.bots[0].terminate_within(within).await;
    cluster.archivers[0].terminate_within(within).await;
    for log in [cluster.bots[0].log_text(), cluster.archivers[0].log_text()] {
        assert!(
            log.contains("stopping anyway") || log.contains("could not flush"),
            "{log}"
        );
    }
}
