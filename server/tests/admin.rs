//! Operators steer a running cluster over NATS: `chat.admin.*` requests,
//! sent as the `ops` user on `_INBOX_ops` inboxes, answered by one of two
//! servers on a three-node NATS cluster, and checked against what the
//! servers' clients see. Also the `chat-server admin` command.

use std::time::Duration;

use bytes::Bytes;
use chat_shared::testing::nats_password;
use serde_json::{json, Value};

use crate::support::cluster::{Cluster, Shape};
use crate::support::{Client, Ws, PASSWORD};

/// Two servers, each on its own node of a three-node NATS cluster, and the
/// operators' client on the third.
async fn cluster() -> Option<(Cluster, Ops)> {
    let cluster = Cluster::start(Shape {
        nats_nodes: 3,
        servers: 2,
        ..Shape::default()
    })
    .await?;
    let ops = Ops::connect(&cluster).await;
    Some((cluster, ops))
}

/// The operators' NATS connection, with their inbox prefix.
struct Ops(async_nats::Client);

impl Ops {
    async fn connect(cluster: &Cluster) -> Self {
        let client = async_nats::ConnectOptions::new()
            .user_and_password("ops".into(), nats_password("ops").into())
            .custom_inbox_prefix("_INBOX_ops")
            .connect(cluster.nats[2].url())
            .await
            .unwrap();
        Self(client)
    }

    /// The answer to `subject` with `body` (raw bytes), as JSON.
    async fn ask_raw(&self, subject: &str, body: impl Into<Bytes>) -> Value {
        let answer = tokio::time::timeout(
            Duration::from_secs(10),
            self.0.request(subject.to_owned(), body.into()),
        )
        .await
        .unwrap_or_else(|_| panic!("no answer to {subject} in time"))
        .unwrap_or_else(|e| panic!("{subject}: {e}"));
        serde_json::from_slice(&answer.payload).unwrap()
    }

    async fn ask(&self, subject: &str, body: Value) -> Value {
        self.ask_raw(subject, serde_json::to_vec(&body).unwrap())
            .await
    }
}

/// The id a server logged when it started listening.
fn server_id(cluster: &Cluster, i: usize) -> String {
    let log = cluster.servers[i].proc.log_text();
    let start = log.find("server=srv-").expect("the server logs its id") + "server=".len();
    log[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_owned()
}

/// `name` logged in on server `i` (registered already), and a socket there.
async fn login(cluster: &Cluster, i: usize, name: &str) -> (Client, Ws) {
    let mut c = cluster.client(i);
    let (status, body) = c.login(name, PASSWORD).await;
    assert_eq!(status, 200, "login {name}: {body}");
    let ws = c.ws().await;
    (c, ws)
}

fn is_refused_for_closing(frame: &Value) -> bool {
    frame["type"] == "error" && frame["code"] == "channel_closed"
}

#[actix_rt::test]
async fn operators_see_every_server_and_who_is_online_in_a_channel_on_any_of_them() {
    let Some((cluster, ops)) = cluster().await else {
        return;
    };
    let mut alice = cluster.user(0, "alice").await.ws().await;
    alice.join("general").await;
    cluster.user(1, "bob").await;
    let (_, mut bob) = login(&cluster, 1, "bob").await;
    bob.join("general").await;
    // alice again, on the other server: counted once.
    let (_, mut alice_too) = login(&cluster, 1, "alice").await;
    alice_too.join("general").await;

    let answer = ops.ask_raw("chat.admin.servers", Bytes::new()).await;
    let servers = answer["servers"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    let mut seen: Vec<(String, u64, u64)> = servers
        .iter()
        .map(|s| {
            let n = |k: &str| s[k].as_u64().unwrap();
            (
                s["id"].as_str().unwrap().to_owned(),
                n("connections"),
                n("channels"),
            )
        })
        .collect();
    seen.sort();
    let mut expected = vec![
        (server_id(&cluster, 0), 1, 1),
        (server_id(&cluster, 1), 2, 1),
    ];
    expected.sort();
    assert_eq!(seen, expected, "{answer}");

    let online = ops
        .ask("chat.admin.online", json!({"channel": "general"}))
        .await;
    assert_eq!(
        online,
        json!({"channel": "general", "online": ["alice", "bob"], "count": 2})
    );
    bob.send(json!({"type": "leave", "channel": "general"}))
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let online = ops
            .ask("chat.admin.online", json!({"channel": "general"}))
            .await;
        if online["online"] == json!(["alice"]) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "bob left: {online}");
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_rt::test]
async fn disconnecting_a_user_closes_their_sockets_on_every_server_and_their_cookies_stop_working()
{
    let Some((cluster, ops)) = cluster().await else {
        return;
    };
    let mut laptop = cluster.user(0, "alice").await;
    let mut laptop_socket = laptop.ws().await;
    laptop_socket.join("general").await;
    let (mut phone, mut phone_socket) = login(&cluster, 1, "alice").await;
    phone_socket.join("general").await;
    let mut bob = cluster.user(1, "bob").await;
    let mut bob_socket = bob.ws().await;
    bob_socket.join("general").await;

    let answer = ops
        .ask("chat.admin.disconnect", json!({"user": "ALICE"}))
        .await;
    assert_eq!(answer, json!({"user": "alice", "sessions_ended": 2}));
    assert_eq!(laptop_socket.expect_close().await, Some(1008));
    assert_eq!(phone_socket.expect_close().await, Some(1008));
    assert_eq!(laptop.get("/api/me").await.0, 401);
    assert_eq!(phone.get("/api/me").await.0, 401);
    assert_eq!(bob.get("/api/me").await.0, 200, "others keep theirs");
    bob_socket.say("general", "still here").await;

    let again = ops
        .ask("chat.admin.disconnect", json!({"user": "alice"}))
        .await;
    assert_eq!(again["sessions_ended"], 0, "{again}");
}

#[actix_rt::test]
async fn a_closed_channel_refuses_posts_on_every_server_but_keeps_its_readers_until_reopened() {
    let Some((cluster, ops)) = cluster().await else {
        return;
    };
    let mut alice = cluster.user(0, "alice").await;
    assert_eq!(alice.create_channel("trading").await.0, 201);
    let mut a = alice.ws().await;
    a.join("trading").await;
    let bob = cluster.user(1, "bob").await;
    let mut b = bob.ws().await;
    let joined = b.join("trading").await;
    assert_eq!(joined["closed"], false);
    let before = b.say("trading", "buy low").await;

    let answer = ops
        .ask("chat.admin.close", json!({"channel": "trading"}))
        .await;
    assert_eq!(answer, json!({"channel": "trading", "closed": true}));
    for ws in [&mut a, &mut b] {
        ws.expect("the channel closing", |f| {
            f["type"] == "channel_state" && f["channel"] == "trading" && f["closed"] == true
        })
        .await;
    }
    let refused = b
        .answer(json!({"type": "send", "channel": "trading", "text": "sell high", "ref": "s-1"}))
        .await;
    assert!(is_refused_for_closing(&refused), "{refused}");
    let edit =
        json!({"type": "edit", "channel": "trading", "id": before, "text": "x", "ref": "e-1"});
    assert!(is_refused_for_closing(&b.answer(edit).await));
    let react = json!({"type": "react", "channel": "trading", "id": before, "emoji": "👍", "on": true, "ref": "r-1"});
    assert!(is_refused_for_closing(&b.answer(react).await));
    let theirs = json!({"type": "send", "channel": "trading", "text": "me too", "ref": "s-2"});
    assert!(is_refused_for_closing(&a.answer(theirs).await));
    // The socket stays open, and the channel can still be read.
    let again = b.join("trading").await;
    assert_eq!(again["closed"], true, "{again}");
    let carol = cluster.user(0, "carol").await;
    let mut c = carol.ws().await;
    let fresh = c.join("trading").await;
    assert_eq!(
        fresh["closed"], true,
        "a new reader on the other server is told"
    );
    assert_eq!(fresh["history"][0]["text"], "buy low");
    let (status, list) = carol.clone().get("/api/channels").await;
    let trading = list["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "trading")
        .cloned();
    assert_eq!(
        (status, trading.map(|t| t["closed"].clone())),
        (200, Some(json!(true)))
    );

    let answer = ops
        .ask("chat.admin.reopen", json!({"channel": "trading"}))
        .await;
    assert_eq!(answer, json!({"channel": "trading", "closed": false}));
    b.expect("the channel reopening", |f| {
        f["type"] == "channel_state" && f["closed"] == false
    })
    .await;
    b.say("trading", "sell high").await;
    c.expect_message("trading", "sell high").await;
}

#[actix_rt::test]
async fn a_notice_reaches_clients_on_the_other_server_and_bad_requests_are_answered_as_such() {
    let Some((cluster, ops)) = cluster().await else {
        return;
    };
    let mut alice = cluster.user(0, "alice").await;
    assert_eq!(alice.create_channel("trading").await.0, 201);
    let mut a = alice.ws().await;
    a.join("general").await;
    let mut b = cluster.user(1, "bob").await.ws().await;
    b.join("trading").await;

    let sent = ops
        .ask(
            "chat.admin.notice",
            json!({"text": "Maintenance at 22:00 UTC"}),
        )
        .await;
    assert_eq!(sent, json!({"sent": true, "channel": null}));
    for ws in [&mut a, &mut b] {
        let notice = ws.expect("the notice", |f| f["type"] == "notice").await;
        assert_eq!(notice["text"], "Maintenance at 22:00 UTC");
        assert_eq!(notice["channel"], Value::Null);
        assert!(notice["at"].as_i64().is_some_and(|at| at > 0), "{notice}");
    }
    let sent = ops
        .ask(
            "chat.admin.notice",
            json!({"text": "Trading halts at 16:00", "channel": "trading"}),
        )
        .await;
    assert_eq!(sent, json!({"sent": true, "channel": "trading"}));
    let notice = b
        .expect("the channel's notice", |f| f["type"] == "notice")
        .await;
    assert_eq!(notice["channel"], "trading");
    let elsewhere = a.drain(Duration::from_millis(500)).await;
    assert!(
        elsewhere.iter().all(|f| f["type"] != "notice"),
        "alice is not in #trading: {elsewhere:?}"
    );
    let history = b.join("trading").await;
    assert!(
        history["history"].as_array().unwrap().is_empty(),
        "notices are not stored: {history}"
    );

    for (subject, body, code) in [
        ("chat.admin.online", &b"not json"[..], "bad_request"),
        ("chat.admin.online", b"{}", "bad_request"),
        (
            "chat.admin.online",
            br#"{"channel":"Bad Name"}"#,
            "bad_request",
        ),
        (
            "chat.admin.online",
            br#"{"channel":"nowhere"}"#,
            "not_found",
        ),
        ("chat.admin.close", br#"{"channel":"nowhere"}"#, "not_found"),
        (
            "chat.admin.disconnect",
            br#"{"user":"nobody"}"#,
            "not_found",
        ),
        ("chat.admin.disconnect", br#"{"user":"a b"}"#, "bad_request"),
        ("chat.admin.notice", br#"{"text":"  "}"#, "bad_request"),
        (
            "chat.admin.notice",
            br#"{"text":"hi","channel":"nowhere"}"#,
            "not_found",
        ),
        ("chat.admin.dance", b"", "bad_request"),
    ] {
        let answer = ops.ask_raw(subject, Bytes::from_static(body)).await;
        assert_eq!(answer["error"]["code"], code, "{subject} {answer}");
        assert!(answer["error"]["message"].is_string());
    }
    // Nothing else broke.
    a.say("general", "all good").await;
}

#[actix_rt::test]
async fn only_the_ops_user_may_send_admin_requests_and_the_admin_command_prints_the_answer() {
    let Some((cluster, ops)) = cluster().await else {
        return;
    };
    let (events, mut refusals) = tokio::sync::mpsc::unbounded_channel();
    let bot = async_nats::ConnectOptions::new()
        .user_and_password("bot".into(), nats_password("bot").into())
        .event_callback(move |event| {
            let events = events.clone();
            async move {
                if let async_nats::Event::ServerError(e) = event {
                    let _ = events.send(e.to_string());
                }
            }
        })
        .connect(cluster.nats[0].url())
        .await
        .unwrap();
    let close = Bytes::from_static(br#"{"channel":"general"}"#);
    let asked = tokio::time::timeout(
        Duration::from_secs(3),
        bot.request("chat.admin.close", close),
    )
    .await;
    assert!(!matches!(asked, Ok(Ok(_))), "the bot got an answer");
    let refusal = tokio::time::timeout(Duration::from_secs(3), refusals.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(refusal.contains("Permissions Violation"), "{refusal}");
    let mut alice = cluster.user(0, "alice").await.ws().await;
    let joined = alice.join("general").await;
    assert_eq!(joined["closed"], false, "the bot's request did nothing");
    let still = ops
        .ask("chat.admin.online", json!({"channel": "general"}))
        .await;
    assert_eq!(still["online"], json!(["alice"]));

    let run = |args: &'static [&'static str], user: &'static str| {
        let url = cluster.nats[1].url();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
                .args(args)
                .env("NATS_URL", url)
                .env("NATS_USER", user)
                .env("NATS_PASSWORD", nats_password(user))
                .output()
                .await
                .unwrap()
        }
    };
    let out = run(&["admin", "servers"], "ops").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_str(&stdout).expect("the answer alone, as JSON");
    let mut ids: Vec<&str> = answer["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected = [server_id(&cluster, 0), server_id(&cluster, 1)];
    expected.sort();
    assert_eq!(ids, expected, "{stdout}");
    assert!(stdout.contains("\n  \"servers\""), "pretty: {stdout}");

    let missing = run(&["admin", "close", "nowhere"], "ops").await;
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stdout).contains("not_found"));
    let as_bot = run(&["admin", "--timeout-secs", "2", "servers"], "bot").await;
    assert!(!as_bot.status.success());
    let why = String::from_utf8_lossy(&as_bot.stderr);
    assert!(why.contains("Permissions Violation"), "{why}");
}
