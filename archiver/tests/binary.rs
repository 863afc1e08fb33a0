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
use chat_shared::bus::BusKey;
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

/// Publishes `m` signed as a chat server does (the operators' NATS user may
/// publish there too, and the test holds the servers' key).
async fn publish(ops: &async_nats::Client, m: &Message) {
    let payload = m.to_json();
    let signature = BusKey::from_session_key(SESSION_KEY)
        .unwrap()
        .sign(payload.as_bytes());
    let mut headers = HeaderMap::new();
    headers.insert(subjects::MSG_ID_HEADER, m.id.as_str());
    headers.insert(subjects::SIGNATURE_HEADER, signature.as_str());
    ops.publish_with_headers(subjects::msg(&m.channel), headers, payload.into())
        .await
        .unwrap();
}

async fn history(ops: &async_nats::Client) -> Vec<Message> {
    history_with(ops, &HistoryRequest::default()).await
}

/// Looks (`look`) until there are `n` messages or 20 s passed; the last look.
async fn at_least<F: std::future::Future<Output = Vec<Message>>>(
    n: usize,
    mut look: impl FnMut() -> F,
) -> Vec<Message> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = look().await;
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asks for #general's history until it holds `n` messages (or 20 s passed).
async fn history_of(ops: &async_nats::Client, n: usize) -> Vec<Message> {
    at_least(n, || history(ops)).await
}

/// Waits until the database holds `n` messages of #general (or 20 s passed).
async fn stored(database_url: &str, n: usize) -> Vec<Message> {
    let store = PgStore::connect(database_url, 1).await.unwrap();
    let general = ChannelName::general();
    at_least(n, || async {
        let latest = HistoryQuery::latest(100);
        store.messages(&general, &latest).await.unwrap()
    })
    .await
}

/// An archiver on a nats-server of its own and a fresh database, with the
/// operators' connection to that server.
struct Archiving {
    database_url: String,
    nats: NatsServer,
    ops: async_nats::Client,
    archiver: TestProcess,
    /// Dropped after the processes that log into it.
    _dir: tempfile::TempDir,
}

impl Archiving {
    /// Starts it all; `None` (after a loud message) without PostgreSQL outside CI.
    async fn start() -> Option<Self> {
        let database_url = chat_shared::testing::fresh_pg_database("archiver_bin").await?;
        let dir = tempfile::tempdir().unwrap();
        let nats = NatsServer::start("nats", dir.path()).await;
        let ops = nats.connect_as("ops").await;
        let archiver = start_archiver(dir.path(), &nats, &database_url).await;
        Some(Archiving {
            database_url,
            nats,
            ops,
            archiver,
            _dir: dir,
        })
    }
}

#[tokio::test]
async fn archives_each_published_message_once_and_answers_history() {
    let Some(setup) = Archiving::start().await else {
        return;
    };
    let ops = &setup.ops;

    let sent: Vec<Message> = (0..5).map(message).collect();
    for m in &sent {
        publish(ops, m).await;
    }
    // The same message again (a retried publish): stored once.
    publish(ops, &sent[2]).await;
    ops.flush().await.unwrap();

    let stored = history_of(ops, sent.len()).await;
    let ids: Vec<&str> = stored.iter().map(|m| m.id.as_str()).collect();
    let expected: Vec<&str> = sent.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, expected, "stored once each, oldest first");
    assert_eq!(stored[3].text.as_str(), "message 3");
    assert!(
        stored.iter().all(|m| !m.bot && m.kind.is_none()),
        "signed by a server: people's messages"
    );

    // Unknown channels get an error reply, not silence.
    let reply = ops
        .request("chat.history.nowhere", "{}".into())
        .await
        .unwrap();
    let reply: HistoryReply = serde_json::from_slice(&reply.payload).unwrap();
    assert!(matches!(reply, HistoryReply::Error { .. }), "{reply:?}");
}

/// Deletes the archivers' durable consumer as an operator would (`nats
/// consumer rm`), once it has nothing unacknowledged: nats-server may fail a
/// delete while it writes the consumer's state, and then it is tried again.
async fn delete_consumer(stream: &async_nats::jetstream::stream::Stream) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = stream.consumer_info("archiver").await;
        if info.is_ok_and(|i| i.num_ack_pending == 0) {
            let deleted = stream.delete_consumer("archiver").await;
            match deleted {
                Ok(_) => return,
                Err(e) => assert!(Instant::now() < deadline, "could not delete: {e}"),
            }
        }
        assert!(Instant::now() < deadline, "the consumer never went idle");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_deleted_consumer_is_recreated_and_archiving_goes_on() {
    let Some(mut setup) = Archiving::start().await else {
        return;
    };
    let (ops, database_url) = (setup.ops.clone(), setup.database_url.clone());
    publish(&ops, &message(0)).await;
    assert_eq!(stored(&database_url, 1).await.len(), 1);

    // An operator deletes the durable consumer through the JetStream API.
    let js = async_nats::jetstream::new(setup.nats.connect_as("archiver").await);
    let stream = js.get_stream("CHAT").await.unwrap();
    delete_consumer(&stream).await;

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
    let archiver = &mut setup.archiver;
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

/// Asks for #general's history with `request`.
async fn history_with(ops: &async_nats::Client, request: &HistoryRequest) -> Vec<Message> {
    let request = serde_json::to_vec(request).unwrap();
    let reply = ops
        .request("chat.history.general", request.into())
        .await
        .expect("history request answered");
    match serde_json::from_slice(&reply.payload).expect("history reply is JSON") {
        HistoryReply::Messages { messages } => messages,
        HistoryReply::Error { error } => panic!("history error: {error:?}"),
    }
}

#[tokio::test]
async fn history_pages_include_what_another_archiver_took_but_has_not_stored() {
    let Some(mut setup) = Archiving::start().await else {
        return;
    };
    let (ops, database_url) = (setup.ops.clone(), setup.database_url.clone());
    let sent: Vec<Message> = (0..8).map(message).collect();
    for m in &sent[..3] {
        publish(&ops, m).await;
    }
    assert_eq!(stored(&database_url, 3).await.len(), 3);
    setup.archiver.terminate().await;
    for m in &sent[3..] {
        publish(&ops, m).await;
    }
    ops.flush().await.unwrap();
    // A second archiver takes the rest from the shared consumer and stalls
    // before storing them: they stay unacknowledged (for the ack wait, 30 s).
    let js = async_nats::jetstream::new(setup.nats.connect_as("archiver").await);
    let consumer: async_nats::jetstream::consumer::PullConsumer = js
        .get_stream("CHAT")
        .await
        .unwrap()
        .get_consumer("archiver")
        .await
        .unwrap();
    let mut taken = consumer
        .fetch()
        .max_messages(5)
        .expires(Duration::from_secs(2))
        .messages()
        .await
        .unwrap();
    let mut held = Vec::new();
    while let Some(m) = futures::StreamExt::next(&mut taken).await {
        held.push(m.unwrap());
    }
    assert_eq!(held.len(), 5, "the stalled archiver holds the last five");
    setup.archiver = start_archiver(setup._dir.path(), &setup.nats, &database_url).await;

    let ids = |ms: &[Message]| ms.iter().map(|m| m.id.clone()).collect::<Vec<_>>();
    let last_page = history_with(&ops, &HistoryRequest::default()).await;
    assert_eq!(ids(&last_page), ids(&sent), "the last page misses nothing");
    let before = HistoryRequest {
        before: Some(sent[6].id.clone()),
        limit: Some(4),
        ..HistoryRequest::default()
    };
    let older = history_with(&ops, &before).await;
    assert_eq!(ids(&older), ids(&sent[2..6]), "paging back misses nothing");
    let store = PgStore::connect(&database_url, 1).await.unwrap();
    let (general, latest) = (ChannelName::general(), HistoryQuery::latest(100));
    let archive = store.messages(&general, &latest).await.unwrap();
    assert_eq!(archive.len(), 3, "still only three archived");
    drop(held);
}
