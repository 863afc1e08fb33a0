//! The `chat-archiver` binary against a real nats-server (started here with
//! the project's nats.conf) and a fresh PostgreSQL database: what is published
//! on `chat.msg.<channel>` is stored once, and history requests are answered.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use chat_shared::message::Message;
use chat_shared::names::{ChannelName, MessageText};
use chat_shared::subjects::{self, HistoryReply, HistoryRequest};

const ARCHIVER_PASSWORD: &str = "archiver-secret";
const OPS_PASSWORD: &str = "ops-secret";

/// Kills the child when dropped, so a failed assertion leaves nothing behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn log_file(dir: &Path, name: &str) -> Stdio {
    Stdio::from(std::fs::File::create(dir.join(name)).unwrap())
}

fn nats_server(dir: &Path, port: u16) -> Running {
    let conf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../nats.conf");
    let child = Command::new("nats-server")
        .arg("-c")
        .arg(conf)
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .arg("-sd")
        .arg(dir.join("nats"))
        .env("NATS_SERVER_PASSWORD", "unused")
        .env("NATS_BOT_PASSWORD", "unused")
        .env("NATS_ARCHIVER_PASSWORD", ARCHIVER_PASSWORD)
        .env("NATS_OPS_PASSWORD", OPS_PASSWORD)
        .stdout(log_file(dir, "nats.log"))
        .stderr(log_file(dir, "nats.err"))
        .spawn()
        .expect("nats-server must be installed (.ci/run installs it)");
    Running(child)
}

async fn connect_ops(url: &str) -> async_nats::Client {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let attempt =
            async_nats::ConnectOptions::with_user_and_password("ops".into(), OPS_PASSWORD.into())
                .connect(url)
                .await;
        match attempt {
            Ok(client) => return client,
            Err(e) if Instant::now() > deadline => panic!("nats-server never came up: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
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

#[tokio::test]
async fn archives_each_published_message_once_and_answers_history() {
    let Some(database_url) = chat_shared::testing::fresh_pg_database("archiver_bin").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("nats://127.0.0.1:{port}");
    let _nats = nats_server(dir.path(), port);
    let ops = connect_ops(&url).await;

    let _archiver = Running(
        Command::new(env!("CARGO_BIN_EXE_chat-archiver"))
            .env("NATS_URL", &url)
            .env("NATS_USER", "archiver")
            .env("NATS_PASSWORD", ARCHIVER_PASSWORD)
            .env("DATABASE_URL", &database_url)
            .env("ARCHIVER_FLUSH_MS", "10")
            .stdout(log_file(dir.path(), "archiver.log"))
            .stderr(log_file(dir.path(), "archiver.err"))
            .spawn()
            .unwrap(),
    );

    // The archiver creates the stream; messages published before that are
    // not captured, so wait until it says it is archiving.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = archiver_log(dir.path());
        if log.contains("archiving") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "archiver never became ready:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let sent: Vec<Message> = (0..5).map(message).collect();
    for m in &sent {
        publish(&ops, m).await;
    }
    // The same message again (a retried publish): stored once.
    publish(&ops, &sent[2]).await;
    ops.flush().await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(20);
    let stored = loop {
        let got = history(&ops).await;
        if got.len() >= sent.len() || Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
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

fn archiver_log(dir: &Path) -> String {
    ["archiver.log", "archiver.err"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(f)).unwrap_or_default())
        .collect()
}
