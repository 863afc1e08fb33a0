//! Distributed mode with real processes: servers, bots and archivers on a
//! NATS cluster (the project's nats.conf) and a fresh PostgreSQL database.

use std::time::{Duration, Instant};

use bytes::Bytes;
use chat_shared::message::Message;
use chat_shared::names::ChannelName;
use chat_shared::store::{HistoryQuery, PgStore, Store};
use chat_shared::testing::nats_password;
use futures::StreamExt;
use serde_json::{json, Value};

use crate::support::cluster::{Cluster, Shape};
use crate::support::{pluck, tells_presence};

fn full() -> Shape {
    Shape {
        nats_nodes: 3,
        servers: 3,
        bots: 2,
        archivers: 2,
        ..Shape::default()
    }
}

/// Waits until the archive holds `n` messages of `channel`; returns them.
pub async fn archived(cluster: &Cluster, channel: &str, n: usize) -> Vec<Message> {
    let store = PgStore::connect(&cluster.db_url, 1).await.unwrap();
    let channel = ChannelName::parse(channel).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = store
            .messages(&channel, &HistoryQuery::latest(100))
            .await
            .unwrap();
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_rt::test]
async fn a_message_sent_on_one_server_reaches_clients_on_the_others_once_and_in_order() {
    let Some(cluster) = Cluster::start(full()).await else {
        return;
    };
    let alice = cluster.user(0, "alice").await;
    let bob = cluster.user(1, "bob").await.ws().await;
    let carol = cluster.user(2, "carol").await.ws().await;
    let mut a = alice.ws().await;
    let (mut b, mut c) = (bob, carol);
    a.join("general").await;
    b.join("general").await;
    c.join("general").await;
    let sent: Vec<String> = {
        let mut ids = Vec::new();
        for i in 0..15 {
            ids.push(a.say("general", &format!("hello {i}")).await);
        }
        ids
    };
    for ws in [&mut b, &mut c] {
        let mut got = Vec::new();
        while got.len() < sent.len() {
            let f = ws
                .expect("a message from alice", |f| {
                    f["type"] == "message" && f["message"]["user"] == "alice"
                })
                .await;
            assert_eq!(
                (&f["message"]["bot"], &f["message"]["kind"]),
                (&json!(false), &Value::Null),
                "signed by the server that took it: a person's post"
            );
            got.push(f["message"]["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(got, sent, "every message once, in send order");
        ws.expect_no_message(Duration::from_millis(500), "no duplicates")
            .await;
    }
}

#[actix_rt::test]
async fn presence_and_a_cookie_from_one_server_work_on_every_other() {
    let Some(cluster) = Cluster::start(Shape::servers(2)).await else {
        return;
    };
    let mut alice = cluster.user(0, "alice").await;
    let mut on_b = alice.on(&cluster.servers[1].addr);
    let (status, me) = on_b.get("/api/me").await;
    assert_eq!(
        (status, me["username"].as_str()),
        (200, Some("alice")),
        "no sticky sessions"
    );
    let mut b = cluster.user(1, "bob").await.ws().await;
    b.join("general").await;
    let mut a = on_b.on(&cluster.servers[0].addr).ws().await;
    let joined = a.join("general").await;
    // Members on other servers are in the list or announced right after it.
    if !joined["members"]
        .as_array()
        .unwrap()
        .contains(&json!("bob"))
    {
        a.expect("bob from the other server", |f| {
            tells_presence(f, "bob", "join")
        })
        .await;
    }
    b.expect("alice arrives", |f| tells_presence(f, "alice", "join"))
        .await;
    let (_, created) = alice.create_channel("cross").await;
    assert_eq!(created["name"], "cross");
    b.expect("channel_created from the other server", |f| {
        f["type"] == "channel_created" && f["channel"]["name"] == "cross"
    })
    .await;
}

#[actix_rt::test]
async fn a_stock_command_is_answered_exactly_once_by_two_bots() {
    let Some(cluster) = Cluster::start(full()).await else {
        return;
    };
    let mut a = cluster.user(0, "alice").await.ws().await;
    let mut c = cluster.user(2, "carol").await.ws().await;
    a.join("general").await;
    c.join("general").await;
    for _ in 0..4 {
        a.say("general", "/stock=aapl.us").await;
    }
    let mut replies = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while replies < 4 && Instant::now() < deadline {
        let f = c
            .expect("a bot reply", |f| {
                f["type"] == "message" && f["message"]["bot"] == true
            })
            .await;
        assert_eq!(f["message"]["text"], "AAPL.US quote is $93.42 per share");
        assert_eq!(f["message"]["user"], "stockbot");
        replies += 1;
    }
    let extra = c.drain(Duration::from_secs(1)).await;
    let more = extra
        .iter()
        .filter(|f| f["type"] == "message" && f["message"]["bot"] == true)
        .count();
    assert_eq!((replies, more), (4, 0), "four commands, four answers");
    let bot_logs: Vec<usize> = cluster
        .bots
        .iter()
        .map(|b| b.log_text().matches("command answered").count())
        .collect();
    assert_eq!(
        bot_logs.iter().sum::<usize>(),
        4,
        "answers split across bots: {bot_logs:?}"
    );
}

#[actix_rt::test]
async fn history_joined_on_one_server_includes_messages_sent_on_another() {
    let Some(cluster) = Cluster::start(full()).await else {
        return;
    };
    let mut a = cluster.user(0, "alice").await.ws().await;
    a.join("general").await;
    let ids = [
        a.say("general", "first").await,
        a.say("general", "second").await,
    ];
    assert_eq!(
        archived(&cluster, "general", 2).await.len(),
        2,
        "{}",
        cluster.logs()
    );
    let mut c = cluster.user(2, "carol").await.ws().await;
    let joined = c.join("general").await;
    assert_eq!(pluck(&joined["history"], "id"), ids);
}

#[actix_rt::test]
async fn an_operator_message_on_the_bus_reaches_every_server() {
    let Some(cluster) = Cluster::start(Shape {
        nats_nodes: 3,
        servers: 3,
        ..Shape::default()
    })
    .await
    else {
        return;
    };
    let mut sockets = Vec::new();
    for (i, name) in ["alice", "bob", "carol"].iter().enumerate() {
        let mut ws = cluster.user(i, name).await.ws().await;
        ws.join("general").await;
        sockets.push(ws);
    }
    let ops = cluster.nats[1].connect_as("ops").await;
    let announcement = json!({
        "id": chat_shared::message::next_id().to_string(), "channel": "general", "user": "ops",
        "text": "maintenance at noon", "ts": "2026-11-28T18:00:00.123Z", "bot": false
    });
    ops.publish("chat.msg.general", Bytes::from(announcement.to_string()))
        .await
        .unwrap();
    ops.publish("chat.msg.general", Bytes::from_static(b"{not json"))
        .await
        .unwrap();
    ops.flush().await.unwrap();
    for ws in &mut sockets {
        let m = ws.expect_message("general", "maintenance at noon").await;
        assert_eq!(m["user"], "ops");
    }
    // The garbage was dropped and nothing broke: the rooms still work.
    sockets[0].say("general", "still alive").await;
    sockets[2].expect_message("general", "still alive").await;
    assert_eq!(
        archived(&cluster, "general", 2).await.len(),
        2,
        "announcement and message archived, garbage not"
    );
}

/// Does `act` as `user` and reports whether NATS refused it (a permissions
/// violation). What `act` returns (a subscription) is kept meanwhile.
async fn violation<T, F>(
    cluster: &Cluster,
    user: &str,
    act: impl FnOnce(async_nats::Client) -> F,
) -> bool
where
    F: std::future::Future<Output = T>,
{
    let (tx, mut rx) = futures::channel::mpsc::unbounded();
    let client = async_nats::ConnectOptions::new()
        .user_and_password(user.to_owned(), nats_password(user).to_owned())
        .event_callback(move |e| {
            let tx = tx.clone();
            async move {
                let _ = tx.unbounded_send(e.to_string());
            }
        })
        .connect(cluster.nats[0].url())
        .await
        .unwrap();
    let _kept = act(client.clone()).await;
    client.flush().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    while let Ok(Some(event)) = actix_rt::time::timeout(
        deadline.saturating_duration_since(Instant::now()),
        rx.next(),
    )
    .await
    {
        if event.to_ascii_lowercase().contains("permissions violation") {
            return true;
        }
    }
    false
}

/// Publishes as `user` and reports whether NATS refused it.
async fn refused(cluster: &Cluster, user: &str, subject: &str) -> bool {
    let subject = subject.to_owned();
    violation(cluster, user, |client| async move {
        client
            .publish(subject, Bytes::from_static(b"{}"))
            .await
            .unwrap();
    })
    .await
}

/// Joins queue group `queue` on `subject` as `user` and reports whether NATS
/// refused it.
async fn refused_queue(cluster: &Cluster, user: &str, subject: &str, queue: &str) -> bool {
    let (subject, queue) = (subject.to_owned(), queue.to_owned());
    violation(cluster, user, |client| async move {
        client.queue_subscribe(subject, queue).await.unwrap()
    })
    .await
}

#[actix_rt::test]
async fn nats_refuses_what_nats_conf_does_not_allow() {
    let Some(cluster) = Cluster::start(Shape {
        servers: 0,
        archivers: 0,
        ..Shape::default()
    })
    .await
    else {
        return;
    };
    assert!(
        refused(&cluster, "bot", "chat.cmd.stock").await,
        "the bot may not issue commands"
    );
    assert!(refused(&cluster, "bot", "chat.history.general").await);
    assert!(
        refused(&cluster, "ops", "chat.cmd.stock").await,
        "operators may not impersonate a server"
    );
    assert!(refused(&cluster, "ops", "chat.presence.general").await);
    assert!(
        refused(&cluster, "archiver", "chat.msg.general").await,
        "the archiver never posts"
    );
    assert!(
        !refused(&cluster, "ops", "chat.msg.general").await,
        "operators may announce"
    );
    assert!(
        !refused(&cluster, "bot", "chat.msg.general").await,
        "the bot may reply"
    );
    assert!(
        !refused(&cluster, "server", "chat.msg.general").await,
        "servers store members' messages"
    );
    assert!(
        refused(&cluster, "server", "$JS.API.STREAM.DELETE.CHAT").await,
        "servers read the stream but may not delete it"
    );
    assert!(
        !refused(&cluster, "bot", "$KV.chat_limits.probe").await,
        "bots count commands in the chat_limits bucket"
    );
    assert!(
        !refused(&cluster, "server", "$KV.chat_limits.probe").await,
        "servers keep their abuse counters in the chat_limits bucket"
    );
    assert!(refused(&cluster, "server", "$KV.other.probe").await);
    assert!(refused(&cluster, "server", "$JS.API.STREAM.DELETE.KV_chat_limits").await);
    assert!(refused(&cluster, "ops", "$KV.chat_limits.probe").await);
}

#[actix_rt::test]
async fn no_one_but_the_bot_and_the_archiver_may_join_their_queue_groups() {
    let Some(cluster) = Cluster::start(Shape {
        bots: 1,
        ..Shape::default()
    })
    .await
    else {
        return;
    };
    for (user, subject, queue) in [
        ("ops", "chat.cmd.stock", "bot"),
        ("ops", "chat.cmd.*", "bot"),
        ("ops", "chat.>", "bot"),
        ("ops", "chat.history.general", "archiver"),
        ("ops", "chat.>", "archiver"),
        ("server", "chat.cmd.*", "bot"),
        ("server", "chat.history.*", "archiver"),
    ] {
        assert!(
            refused_queue(&cluster, user, subject, queue).await,
            "{user} may not join queue group {queue} on {subject}"
        );
    }
    // An operator who tries anyway never receives a command, and the bot
    // still answers every one.
    let ops = cluster.nats[0].connect_as("ops").await;
    let mut stolen = ops
        .queue_subscribe("chat.cmd.stock", "bot".into())
        .await
        .unwrap();
    ops.flush().await.unwrap();
    let mut a = cluster.user(0, "alice").await.ws().await;
    a.join("general").await;
    for _ in 0..4 {
        a.say("general", "/stock=aapl.us").await;
    }
    for _ in 0..4 {
        a.expect("a bot reply", |f| {
            f["type"] == "message" && f["message"]["user"] == "stockbot"
        })
        .await;
    }
    let frames = a.drain(Duration::from_millis(500)).await;
    assert!(
        frames.iter().all(|f| f["type"] != "error"),
        "no command went unanswered: {frames:?}"
    );
    let got = actix_rt::time::timeout(Duration::from_millis(200), stolen.next()).await;
    assert!(got.is_err(), "the operator received a command: {got:?}");
}

#[actix_rt::test]
async fn an_archiver_stopped_while_messages_flow_leaves_no_hole_in_history_and_stores_them_all_once_after_restart(
) {
    let Some(mut cluster) = Cluster::start(Shape::default()).await else {
        return;
    };
    let alice = cluster.user(0, "alice").await;
    let mut a = alice.ws().await;
    a.join("general").await;
    a.say("general", "before").await;
    assert_eq!(archived(&cluster, "general", 1).await.len(), 1);
    cluster.archivers[0].terminate().await;
    let mut sent = vec!["before".to_owned()];
    let mut i = 0;
    while sent.len() < 21 {
        // Stay under the per-connection rate limit by reconnecting.
        if i % 15 == 14 {
            a = alice.ws().await;
            a.join("general").await;
        }
        let text = format!("while down {i}");
        if i % 15 != 14 {
            a.say("general", &text).await;
            sent.push(text);
        }
        i += 1;
    }
    // Nothing archived them yet; a newcomer's last page and the history
    // route still show them all, read back from the stream.
    let store = PgStore::connect(&cluster.db_url, 1).await.unwrap();
    let general = ChannelName::general();
    let in_archive = store.messages(&general, &HistoryQuery::latest(100)).await;
    assert_eq!(in_archive.unwrap().len(), 1, "the archive lags");
    let mut bob = cluster.user(0, "bob").await;
    let mut b = bob.ws().await;
    let joined = b.join("general").await;
    assert_eq!(
        pluck(&joined["history"], "text"),
        sent,
        "the join's last page"
    );
    let (status, page) = bob.get("/api/channels/general/messages?limit=5").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(pluck(&page["messages"], "text"), sent[16..], "the newest 5");
    // A reply to a message that is not archived yet finds it in the stream.
    let last = joined["history"][20]["id"].as_str().unwrap();
    let reply = json!({"type": "send", "channel": "general", "text": "re", "ref": "r-reply-unarchived", "reply_to": last});
    let ack = b.answer(reply).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let (status, one) = bob
        .get(&format!("/api/channels/general/messages/{last}"))
        .await;
    assert_eq!((status, &one["message"]["text"]), (200, &json!(sent[20])));
    let oldest = page["messages"][0]["id"].as_str().unwrap();
    let before = format!("/api/channels/general/messages?limit=100&before={oldest}");
    let (_, older) = bob.get(&before).await;
    assert_eq!(pluck(&older["messages"], "text"), sent[..16], "paging back");
    cluster.start_archiver().await;
    sent.push("re".to_owned());
    let stored = archived(&cluster, "general", 22).await;
    let texts: Vec<String> = stored.iter().map(|m| m.text.to_string()).collect();
    assert_eq!(texts, sent, "all 22, once each, in order");
    assert_eq!(stored[21].reply_to.as_deref(), Some(last));
}

#[actix_rt::test]
async fn history_requests_for_unknown_channels_and_garbage_get_error_replies() {
    let Some(cluster) = Cluster::start(Shape {
        servers: 0,
        archivers: 2,
        ..Shape::default()
    })
    .await
    else {
        return;
    };
    let ops = cluster.nats[0].connect_as("ops").await;
    let ask = |subject: &'static str, body: &'static [u8]| {
        let ops = ops.clone();
        async move {
            let reply = ops
                .request(subject, Bytes::from_static(body))
                .await
                .expect("a reply, not a timeout");
            serde_json::from_slice::<Value>(&reply.payload).unwrap()
        }
    };
    assert_eq!(
        ask("chat.history.nowhere", b"{}").await["error"]["code"],
        "no_such_channel"
    );
    assert_eq!(
        ask("chat.history.general", b"garbage").await["error"]["code"],
        "invalid_request"
    );
    assert_eq!(
        ask("chat.history.general", br#"{"since":"nope"}"#).await["error"]["code"],
        "invalid_request"
    );
    let ok = ask("chat.history.general", br#"{"limit":5}"#).await;
    assert_eq!(ok["messages"], json!([]));
}

fn start_distributed(session_key: Option<&str>) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"));
    cmd.env("NATS_URL", "nats://127.0.0.1:1")
        .env(
            "DATABASE_URL",
            "postgres://chat:db-secret-password@127.0.0.1:1/chat",
        )
        .env("CHAT_BIND", "127.0.0.1:0")
        .env_remove("CHAT_SESSION_KEY");
    if let Some(k) = session_key {
        cmd.env("CHAT_SESSION_KEY", k);
    }
    cmd.output().expect("chat-server runs")
}

#[test]
fn distributed_mode_refuses_to_start_without_a_shared_session_key() {
    let out = start_distributed(None);
    let log =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(log.contains("CHAT_SESSION_KEY is required"), "{log}");
    assert!(
        !log.contains("db-secret-password"),
        "the database password is never logged: {log}"
    );

    let out = start_distributed(Some("too-short"));
    let log =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(log.contains("at least 64 bytes"), "{log}");
    assert!(!log.contains("too-short"), "the key is never logged: {log}");
}

#[actix_rt::test]
async fn logging_out_on_one_server_ends_the_session_on_every_server() {
    let Some(cluster) = Cluster::start(Shape::servers(2)).await else {
        return;
    };
    let mut alice = cluster.user(0, "alice").await;
    let on_b = alice.on(&cluster.servers[1].addr);
    let mut socket_on_b = on_b.ws().await;
    socket_on_b.join("general").await;
    assert_eq!(alice.post("/api/logout", json!({})).await.0, 204);
    let mut replay = on_b.clone();
    assert_eq!(
        replay.get("/api/me").await.0,
        401,
        "the old cookie is refused on the other server"
    );
    assert_eq!(
        socket_on_b.expect_close().await,
        Some(1008),
        "and its socket there is closed"
    );
}
