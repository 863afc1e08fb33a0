//! What someone who may not read a channel gets from every route and frame
//! that names it: exactly what a channel that does not exist gives.

use std::time::Duration;

use serde_json::{json, Value};

use super::{Client, Ws};

/// A channel nobody made, to compare answers with.
const MISSING: &str = "never-made";

/// The answer's shape without the channel's own name in it.
fn shape(status: u16, body: &Value, channel: &str) -> String {
    let text = body.to_string().replace(channel, "<channel>");
    format!("{status} {text}")
}

/// One frame's answer from `ws` (its ack, error or a join's answer), with
/// the channel's name taken out.
async fn frame_answer(ws: &mut Ws, frame: Value, channel: &str) -> String {
    ws.send(frame).await;
    // The socket is in no channel: the next answer is this frame's.
    let answer = ws
        .expect("an answer", |f| {
            f["type"] == "error" || f["type"] == "ack" || f["type"] == "joined"
        })
        .await;
    answer.to_string().replace(channel, "<channel>")
}

/// Every frame that names a channel, with a fresh `ref` each.
fn frames(channel: &str, id: &str) -> Vec<Value> {
    let r = || json!(format!("r-{}", chat_shared::message::next_id()));
    vec![
        json!({"type": "join", "channel": channel}),
        json!({"type": "join", "channel": channel, "since": id}),
        json!({"type": "send", "channel": channel, "text": "let me in", "ref": r()}),
        json!({"type": "send", "channel": channel, "text": "hi", "reply_to": id, "ref": r()}),
        json!({"type": "edit", "channel": channel, "id": id, "text": "mine now", "ref": r()}),
        json!({"type": "delete", "channel": channel, "id": id, "ref": r()}),
        json!({"type": "react", "channel": channel, "id": id, "emoji": "👍", "on": true, "ref": r()}),
        json!({"type": "leave", "channel": channel}),
        json!({"type": "typing", "channel": channel}),
        json!({"type": "read", "channel": channel, "id": id}),
    ]
}

/// Every HTTP request that names a channel (method, path, body).
fn requests(channel: &str, id: &str) -> Vec<(&'static str, String, Option<Value>)> {
    vec![
        ("GET", format!("/api/channels/{channel}/messages"), None),
        (
            "GET",
            format!("/api/channels/{channel}/messages?before={id}"),
            None,
        ),
        (
            "GET",
            format!("/api/channels/{channel}/messages/{id}"),
            None,
        ),
        ("GET", format!("/api/search?q=word&channel={channel}"), None),
        ("GET", format!("/api/channels/{channel}/members"), None),
        (
            "POST",
            format!("/api/channels/{channel}/members"),
            Some(json!({"user": "alice"})),
        ),
        (
            "DELETE",
            format!("/api/channels/{channel}/members/alice"),
            None,
        ),
        ("GET", format!("/api/channels/{channel}/bans"), None),
        (
            "DELETE",
            format!("/api/channels/{channel}/bans/alice"),
            None,
        ),
    ]
}

/// Checks that `client` (with its socket `ws`) learns nothing of `channel`,
/// which holds message `id` with the word `word` and which it may not read:
/// not in its list, not found by search, every route and frame answered as
/// for a channel that does not exist, and no frame of it ever arrives.
pub async fn stranger_learns_nothing(
    client: &mut Client,
    ws: &mut Ws,
    channel: &str,
    id: &str,
    word: &str,
) {
    let (status, list) = client.get("/api/channels?limit=500").await;
    assert_eq!(status, 200);
    assert!(
        !list.to_string().contains(channel),
        "{channel} is listed to a stranger: {list}"
    );
    let (status, found) = client.get(&format!("/api/search?q={word}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        found["messages"],
        json!([]),
        "search shows a stranger {channel}"
    );
    for ((method, path, body), (_, missing_path, missing_body)) in
        requests(channel, id).into_iter().zip(requests(MISSING, id))
    {
        let (status, answer) = client.request(method, &path, body).await;
        let (m_status, m_answer) = client.request(method, &missing_path, missing_body).await;
        assert_eq!(
            shape(status, &answer, channel),
            shape(m_status, &m_answer, MISSING),
            "{method} {path} tells a stranger more than for a missing channel"
        );
        assert!(
            status == 404 || status == 400,
            "{method} {path}: {status} {answer}"
        );
    }
    for (frame, missing) in frames(channel, id).into_iter().zip(frames(MISSING, id)) {
        let got = frame_answer(ws, frame.clone(), channel).await;
        let expected = frame_answer(ws, missing, MISSING).await;
        assert_eq!(
            got.replace(&frame["ref"].to_string(), "<ref>"),
            expected.replace(&expected_ref(&expected), "<ref>"),
            "{frame} tells a stranger more than for a missing channel"
        );
    }
    let later = ws.drain(Duration::from_millis(300)).await;
    assert!(
        !later.iter().any(|f| f.to_string().contains(channel)),
        "frames of {channel} reached a stranger: {later:?}"
    );
}

/// The `"ref"` of an answer, as JSON text (to blank it out).
fn expected_ref(answer: &str) -> String {
    serde_json::from_str::<Value>(answer).map_or_else(|_| String::new(), |v| v["ref"].to_string())
}
