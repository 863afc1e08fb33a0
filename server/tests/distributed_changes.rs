//! Edits and deletions in distributed mode: live on every server, readable
//! on the bus, applied by the archivers (also when the archive lags), and
//! the words of a deleted message gone from PostgreSQL.

use std::process::Command;
use std::time::{Duration, Instant};

use chat_shared::names::ChannelName;
use chat_shared::store::{PgStore, Store};
use futures::StreamExt;
use serde_json::{json, Value};

use crate::support::cluster::{Cluster, Shape};
use crate::support::pluck;
use crate::support::view::Watching;

fn change(kind: &str, id: &str, text: Option<&str>) -> Value {
    let reference = format!("r-{}", chat_shared::message::next_id());
    let mut frame = json!({"type": kind, "channel": "general", "id": id, "ref": reference});
    if let Some(text) = text {
        frame["text"] = json!(text);
    }
    frame
}

/// Waits until the archived message `id` satisfies `done`.
async fn archived_until(
    store: &PgStore,
    id: &str,
    what: &str,
    done: impl Fn(&chat_shared::message::Message) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let m = store.message(&ChannelName::general(), id).await.unwrap();
        if m.as_ref().is_some_and(&done) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: archived as {m:?}");
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_rt::test]
async fn edits_and_deletions_reach_every_server_and_the_archive_and_read_as_json_on_the_bus() {
    let Some(mut cluster) = Cluster::start(Shape {
        nats_nodes: 3,
        servers: 2,
        archivers: 2,
        ..Shape::default()
    })
    .await
    else {
        return;
    };
    let ops = cluster.nats[0].connect_as("ops").await;
    let mut watch = ops.subscribe("chat.>").await.unwrap();
    let mut a = cluster.user(0, "alice").await.ws().await;
    let mut b = cluster.user(1, "bob").await.ws().await;
    a.join("general").await;
    b.join("general").await;
    let first = a.say("general", "the meeting is on Tusday").await;
    let second = a.say("general", "bring the secret figures").await;

    let ack = b.answer(change("edit", &first, Some("mine"))).await;
    assert_eq!(ack["code"], "forbidden", "{ack}");
    let ack = a
        .answer(change("edit", &first, Some("the meeting is on Tuesday")))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let ack = a.answer(change("delete", &second, None)).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    for ws in [&mut a, &mut b] {
        let edited = ws
            .expect("the edit", |f| {
                f["type"] == "edited" && f["id"] == first.as_str()
            })
            .await;
        assert_eq!(edited["text"], "the meeting is on Tuesday");
        ws.expect("the deletion", |f| {
            f["type"] == "deleted" && f["id"] == second.as_str()
        })
        .await;
        let frames = ws.drain(Duration::from_millis(300)).await;
        assert!(
            frames.iter().all(|f| f["type"] != "message"
                || [&first, &second].contains(&&f["message"]["id"].as_str().unwrap().to_owned())),
            "a change is not a message: {frames:?}"
        );
    }
    // Operators read them on the message subject, in order with the messages.
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let m = tokio::time::timeout(Duration::from_secs(5), watch.next())
            .await
            .expect("traffic on chat.>")
            .unwrap();
        if m.subject.as_str() == "chat.msg.general" {
            let v: Value = serde_json::from_slice(&m.payload).expect("readable JSON");
            seen.push(v["type"].as_str().unwrap_or("message").to_owned());
        }
    }
    assert_eq!(seen, ["message", "message", "edited", "deleted"]);

    let store = PgStore::connect(&cluster.db_url, 1).await.unwrap();
    archived_until(&store, &first, "the edit", |m| {
        m.text.as_str() == "the meeting is on Tuesday" && m.edited_at.is_some()
    })
    .await;
    archived_until(&store, &second, "the deletion", |m| m.deleted).await;
    let out = Command::new("psql")
        .args([cluster.db_url.as_str(), "-At", "-c"])
        .arg(format!(
            "SELECT text || '|' || (deleted_at IS NOT NULL) FROM messages WHERE id = '{second}'"
        ))
        .output()
        .expect("psql runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "|true",
        "no words are left in the row"
    );

    // With every archiver down, a change is still part of what a join shows
    // (read back from the stream), and is archived once they are back.
    for archiver in &mut cluster.archivers {
        archiver.terminate().await;
    }
    let third = a.say("general", "lunch at noon").await;
    let ack = a.answer(change("edit", &third, Some("lunch at one"))).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let joined = cluster
        .user(1, "carol")
        .await
        .ws()
        .await
        .join("general")
        .await;
    assert_eq!(
        pluck(&joined["history"], "text"),
        ["the meeting is on Tuesday", "", "lunch at one"]
    );
    assert_eq!(joined["history"][1]["deleted"], true);
    assert!(joined["history"][2]["edited_at"].is_string(), "{joined}");
    cluster.start_archiver().await;
    archived_until(
        &store,
        &third,
        "the edit made while the archive lagged",
        |m| m.text.as_str() == "lunch at one",
    )
    .await;
}

#[actix_rt::test]
async fn a_client_catching_up_on_another_server_sees_every_change_it_missed() {
    // Two rounds from one address: more than the default rate limit allows.
    let Some(mut cluster) = Cluster::start(Shape {
        servers: 2,
        server_env: vec![("CHAT_RATE_COUNT", "1000")],
        ..Shape::default()
    })
    .await
    else {
        return;
    };
    let mut a = cluster.user(0, "alice").await.ws().await;
    a.join("general").await;
    let (bob, dave) = (cluster.user(1, "bob").await, cluster.user(1, "dave").await);
    crate::support::view::catch_up_equals_fresh_join(&mut a, &bob, &dave, "general").await;
    // And again with the archivers down while bob is away: when one is back
    // it has not stored everything yet, and the stream has the rest.
    let mut a = cluster.user(0, "gina").await.ws().await;
    a.join("general").await;
    let (erin, frank) = (
        cluster.user(1, "erin").await,
        cluster.user(0, "frank").await,
    );
    let mut watching = Watching::start(&mut a, &erin, "general").await;
    for archiver in &mut cluster.archivers {
        archiver.terminate().await;
    }
    watching.miss(&mut a).await;
    cluster.start_archiver().await;
    watching.catch_up(&erin, &frank).await;
}

#[actix_rt::test]
async fn reading_on_one_server_clears_the_marker_on_the_readers_connections_on_another() {
    let Some(cluster) = Cluster::start(Shape::servers(2)).await else {
        return;
    };
    let mut a = cluster.user(0, "alice").await.ws().await;
    let mut laptop = cluster.user(0, "bob").await.ws().await;
    let mut bob_there = cluster.client(1);
    let (status, _) = bob_there.login("bob", crate::support::PASSWORD).await;
    assert_eq!(status, 200);
    let mut phone = bob_there.ws().await;
    for ws in [&mut a, &mut laptop, &mut phone] {
        ws.join("general").await;
    }
    let first = a.say("general", "@bob one").await;
    a.say("general", "two").await;
    laptop
        .send(json!({"type": "read", "channel": "general", "id": first}))
        .await;
    let told = phone
        .expect("the read marker from the other server", |f| {
            f["type"] == "read"
        })
        .await;
    assert_eq!(told["id"], first.as_str());
    // Counted in the archive, once the archivers have stored "two".
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, list) = bob_there.get("/api/channels").await;
        let general = &list["channels"][0];
        let counts = (general["unread"].as_u64(), general["mentions"].as_u64());
        if counts == (Some(1), Some(0)) {
            break;
        }
        assert!(Instant::now() < deadline, "{list}");
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}
