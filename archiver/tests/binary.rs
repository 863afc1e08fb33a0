//! The `chat-archiver` binary against a real nats-server (started here with
//! the project's nats.conf) and a fresh PostgreSQL database: what is published
//! on `chat.msg.<channel>` is stored once, and history requests are answered.

// Tests may unwrap (clippy.toml); that setting covers test functions only,
// and here their helpers unwrap too.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use chat_shared::message::Message;
use chat_shared::names::{ChannelName, MessageText};
use chat_shared::payloads::{HistoryReply, HistoryRequest};
use chat_shared::subjects;
use chat_shared::testing::{nats_password, NatsServer, TestProcess};

/// Starts the archiver on `nats` and `database_url`; returns once it archives.
async fn start_archiver(dir: &Path, nats: &NatsServer, database_url: &str) -> TestProcess {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chat-archiver"));
    cmd.env("NATS_URL", nats.url())
        .env("NATS_USER", "archiver")
        .env("NATS_PASSWORD", nats_password("archiver"))
        .env("DATABASE_URL", database_url)
        .env("ARCHIVER_FLUSH_MS", "10");
    let archiver = TestProcess::spawn("archiver", dir, cmd);
    // The archiver creates the stream; messages published before that are
    // not captured, so wait until it says it is archiving.
    archiver.wait_for_log("archiving").await;
    archiver
}

fn message(n: u32) -> Message {
    Message::new(
        ChannelName::parse("general").unwrap(),
        "alice",
        MessageText::parse(&format!("message {n}")).unwrap(),
        false,
    )
}

async fn publish(ops: &async_nats::Client, m: &Message) {
    let mut headers = HeaderMap::new();
    headers.insert(subjects::MSG_ID_HEADER, m.id.as_str());
    ops.publish_with_headers(
        subjects::msg(&m.channel),
        headers,
        serde_json::to_vec(m).unwrap().into(),
    )
    .await
    .unwrap();
}

async fn history(ops: &async_nats::Client) -> Vec<Message> {
    let request = serde_json::to_vec(&HistoryRequest::default()).unwrap();
    let reply = ops
        .request("chat.history.general", request.into())
        .await
        .expect("history request answered");
    match serde_json::from_slice(&reply.payload).expect("history reply is JSON") {
        HistoryReply::Messages { messages } => messages,
        HistoryReply::Error { error } => panic!("history error: {error:?}"),
    }
}

/// Asks for #general's history until it holds `n` messages (or 20 s passed).
async fn history_of(ops: &async_nats::Client, n: usize) -> Vec<Message> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = history(ops).await;
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn archives_each_published_message_once_and_answers_history() {
    let Some(database_url) = chat_shared::testing::fresh_pg_database("archiver_bin").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start("nats", dir.path()).await;
    let ops = nats.connect_as("ops").await;
    let _archiver = start_archiver(dir.path(), &nats, &database_url).await;

    let sent: Vec<Message> = (0..5).map(message).collect();
    for m in &sent {
        publish(&ops, m).await;
    }
    // The same message again (a retried publish): stored once.
    publish(&ops, &sent[2]).await;
    ops.flush().await.unwrap();

    let stored = history_of(&ops, sent.len()).await;
    let ids: Vec<&str> = stored.iter().map(|m| m.id.as_str()).collect();
    let expected: Vec<&str> = sent.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, expected, "stored once each, oldest first");
    assert_eq!(stored[3].text.as_str(), "message 3");

    // Unknown channels get an error reply, not silence.
    let reply = ops
        .request("chat.history.nowhere", "{}".into())
        .await
        .unwrap();
    let reply: HistoryReply = serde_json::from_slice(&reply.payload).unwrap();
    assert!(matches!(reply, HistoryReply::Error { .. }), "{reply:?}");
}
