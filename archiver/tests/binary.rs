//! The `chat-archiver` binary against a real nats-server (started here with
//! the project's nats.conf) and a fresh PostgreSQL database: what is published
//! on `chat.msg.<channel>` is stored once, history requests are answered, and
//! a consumer deleted under it is recreated.

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
use chat_shared::store::{HistoryQuery, PgStore, Store};
use chat_shared::subjects;
use chat_shared::testing::{nats_password, NatsServer, TestProcess};

/// The session key of the chat servers whose messages the archiver checks.
const SESSION_KEY: &str = "test-session-key-test-session-key-test-session-key-test-session-key!";

/// Starts the archiver on `nats` and `database_url`; returns once it archives.
async fn start_archiver(dir: &Path, nats: &NatsServer, database_url: &str) -> TestProcess {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chat-archiver"));
    cmd.env("NATS_URL", nats.url())
        .env("NATS_USER", "archiver")
        .env("NATS_PASSWORD", nats_password("archiver"))
        .env("DATABASE_URL", database_url)
        .env("CHAT_SESSION_KEY", SESSION_KEY)
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

/// Waits until the database holds `n` messages of #general (or 20 s passed).
async fn stored(database_url: &str, n: usize) -> Vec<Message> {
    let store = PgStore::connect(database_url, 1).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = store
            .messages(&ChannelName::general(), &HistoryQuery::latest(100))
            .await
            .unwrap();
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_deleted_consumer_is_recreated_and_archiving_goes_on() {
    let Some(database_url) = chat_shared::testing::fresh_pg_database("archiver_bin").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start("nats", dir.path()).await;
    let ops = nats.connect_as("ops").await;
    let mut archiver = start_archiver(dir.path(), &nats, &database_url).await;
    publish(&ops, &message(0)).await;
    assert_eq!(stored(&database_url, 1).await.len(), 1);

    // An operator deletes the durable consumer through the JetStream API.
    let js = async_nats::jetstream::new(nats.connect_as("archiver").await);
    let stream = js.get_stream("CHAT").await.unwrap();
    stream.delete_consumer("archiver").await.unwrap();

    let sent: Vec<Message> = (1..=5).map(message).collect();
    for m in &sent {
        publish(&ops, m).await;
    }
    ops.flush().await.unwrap();
    let texts: Vec<String> = stored(&database_url, 6)
        .await
        .iter()
        .map(|m| m.text.to_string())
        .collect();
    let expected: Vec<String> = (0..=5).map(|n| format!("message {n}")).collect();
    assert_eq!(texts, expected, "{}", archiver.log_text());
    assert!(
        archiver.is_running(),
        "the archiver is still running: {}",
        archiver.log_text()
    );
    assert!(
        stream.consumer_info("archiver").await.is_ok(),
        "the consumer is back"
    );
}

#[tokio::test]
async fn the_archiver_refuses_to_start_without_the_session_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chat-archiver"));
    cmd.env("NATS_URL", "nats://127.0.0.1:1")
        .env("DATABASE_URL", "postgres://chat@127.0.0.1:1/chat")
        .env_remove("CHAT_SESSION_KEY");
    let mut archiver = TestProcess::spawn("archiver", dir.path(), cmd);
    let deadline = Instant::now() + Duration::from_secs(10);
    while archiver.is_running() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = archiver.log_text();
    assert!(!archiver.is_running(), "it stopped at once: {log}");
    assert!(log.contains("CHAT_SESSION_KEY is required"), "{log}");
}
