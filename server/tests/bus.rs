//! Messages from the bus, as operators (or anyone allowed on `chat.msg.>`)
//! publish them on a real nats-server with the project's nats.conf: who sent
//! it is marked (only a chat server's signature makes a person's message), and
//! what breaks a browser's rules reaches no one and is not archived.

use std::time::Duration;

use bytes::Bytes;
use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::distributed::archived;
use crate::support::cluster::{Cluster, Shape};
use crate::support::{pluck, Ws};

/// A Message as an operator would publish it with `nats pub`: a fresh id and
/// the time now.
fn bus_message(user: &str, text: &str) -> Value {
    json!({
        "id": chat_shared::message::next_id().to_string(), "channel": "general", "user": user,
        "text": text, "ts": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true), "bot": false
    })
}

/// Publishes `message` on `chat.msg.general` as the operators' NATS user, with `headers`.
async fn publish_as_ops(ops: &async_nats::Client, headers: &[(&str, &str)], message: &Value) {
    let mut map = async_nats::HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, *value);
    }
    ops.publish_with_headers("chat.msg.general", map, Bytes::from(message.to_string()))
        .await
        .unwrap();
}

/// One server and an archiver, alice in #general there, and the operators'
/// NATS connection.
async fn alice_and_ops() -> Option<(Cluster, Ws, async_nats::Client)> {
    let cluster = Cluster::start(Shape::default()).await?;
    let mut alice = cluster.user(0, "alice").await.ws().await;
    alice.join("general").await;
    let ops = cluster.nats[0].connect_as("ops").await;
    Some((cluster, alice, ops))
}

#[actix_rt::test]
async fn operator_and_system_posts_are_marked_and_a_forged_origin_makes_no_one_a_person() {
    let Some((cluster, mut alice, ops)) = alice_and_ops().await else {
        return;
    };
    let forged = [("Chat-Origin", "srv-01JDZZZZZZZZZZZZZZZZZZZZZZ")];
    let mut system = bus_message("system", "restarting at noon");
    system["kind"] = json!("system");
    let mut fake_bot = bus_message("stockbot", "a quote, supposedly");
    fake_bot["bot"] = json!(true);
    publish_as_ops(&ops, &[], &bus_message("ops", "maintenance at noon")).await;
    publish_as_ops(&ops, &forged, &bus_message("bob", "I am bob, honestly")).await;
    publish_as_ops(&ops, &forged, &system).await;
    publish_as_ops(&ops, &[], &fake_bot).await;
    ops.flush().await.unwrap();
    let expected = [
        ("maintenance at noon", "ops", json!("operator")),
        ("I am bob, honestly", "bob", json!("operator")),
        ("restarting at noon", "system", json!("system")),
        ("a quote, supposedly", "stockbot", Value::Null),
    ];
    for (text, user, kind) in &expected {
        let m = alice.expect_message("general", text).await;
        assert_eq!(
            (&m["user"], &m["bot"], &m["kind"]),
            (&json!(user), &json!(true), kind),
            "{m}"
        );
    }
    // A person's post, signed by the server that took it, stays a person's.
    alice.say("general", "a person speaking").await;
    assert_eq!(archived(&cluster, "general", 5).await.len(), 5);
    let mut carol = cluster.user(0, "carol").await.ws().await;
    let history = carol.join("general").await["history"].clone();
    let mut marks: Vec<Value> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|m| json!([m["text"], m["bot"], m["kind"]]))
        .collect();
    let mut archived_marks: Vec<Value> = expected
        .iter()
        .map(|(text, _, kind)| json!([text, true, kind]))
        .collect();
    archived_marks.push(json!(["a person speaking", false, null]));
    let by_text = |v: &Value| v[0].as_str().unwrap().to_owned();
    marks.sort_by_key(by_text);
    archived_marks.sort_by_key(by_text);
    assert_eq!(marks, archived_marks, "archived as marked: {history}");
}

#[actix_rt::test]
async fn messages_on_the_bus_that_break_the_browser_rules_reach_no_one_and_are_not_stored() {
    let Some((cluster, mut alice, ops)) = alice_and_ops().await else {
        return;
    };
    let in_an_hour = Utc::now() + chrono::Duration::hours(1);
    let mut future_id = bus_message("ops", "from the future (id)");
    future_id["id"] = json!(ulid::Ulid::from_datetime(in_an_hour.into()).to_string());
    let mut future_ts = bus_message("ops", "from the future (ts)");
    future_ts["ts"] = json!(in_an_hour.to_rfc3339_opts(SecondsFormat::Millis, true));
    let bad_user = bus_message("not a user!", "bad user");
    let long_text = bus_message("ops", &"x".repeat(2001));
    let mut elsewhere = bus_message("ops", "for another channel");
    elsewhere["channel"] = json!("random");
    let bad = [future_id, future_ts, bad_user, long_text, elsewhere];
    for m in &bad {
        publish_as_ops(&ops, &[], m).await;
    }
    publish_as_ops(&ops, &[], &bus_message("ops", "the end")).await;
    ops.flush().await.unwrap();

    alice.expect_message("general", "the end").await;
    alice
        .expect_no_message(Duration::from_millis(300), "only the good message arrives")
        .await;
    assert_eq!(archived(&cluster, "general", 1).await.len(), 1);
    // The archiver writes every batch it holds before answering.
    let reply = ops
        .request("chat.history.general", Bytes::from_static(b"{}"))
        .await
        .unwrap();
    let reply: Value = serde_json::from_slice(&reply.payload).unwrap();
    assert_eq!(pluck(&reply["messages"], "text"), ["the end"], "{reply}");
    let (_, metrics) = metrics(&cluster).await;
    assert!(
        metrics.contains(&format!("chat_bus_messages_rejected_total {}", bad.len())),
        "{metrics}"
    );
}

/// The first server's `/metrics` text.
async fn metrics(cluster: &Cluster) -> (u16, String) {
    let mut response = awc::Client::default()
        .get(format!("http://{}/metrics", cluster.servers[0].addr))
        .send()
        .await
        .unwrap();
    let body = response.body().await.unwrap();
    (
        response.status().as_u16(),
        String::from_utf8_lossy(&body).into_owned(),
    )
}
