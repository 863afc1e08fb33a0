//! An `ack` means stored: in distributed mode JetStream has the message, in
//! embedded mode its SQLite transaction committed; and a client's retry of a
//! send (the same `ref`) is stored and shown once, on whichever server.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::distributed::archived;
use crate::support::cluster::{Cluster, Shape};
use crate::support::{TestApp, Ws};

/// Sends `text` with `reference`; the ack or error frame that answers it.
async fn send(ws: &mut Ws, text: &str, reference: &str) -> Value {
    ws.send(json!({"type": "send", "channel": "general", "text": text, "ref": reference}))
        .await;
    ws.expect_within(Duration::from_secs(20), "the answer", |f| {
        (f["type"] == "ack" || f["type"] == "error") && f["ref"] == reference
    })
    .await
}

#[actix_rt::test]
async fn in_distributed_mode_a_message_is_acked_and_shown_anywhere_only_once_the_stream_has_stored_it(
) {
    // No archiver yet: the stream that stores messages does not exist.
    let shape = Shape {
        archivers: 0,
        servers: 2,
        ..Shape::default()
    };
    let Some(mut cluster) = Cluster::start(shape).await else {
        return;
    };
    let mut alice = cluster.user(0, "alice").await.ws().await;
    let mut bob = cluster.user(0, "bob").await.ws().await;
    let mut carol = cluster.user(1, "carol").await.ws().await;
    for ws in [&mut alice, &mut bob, &mut carol] {
        ws.join("general").await;
    }

    let refused = send(&mut alice, "nowhere to keep this", "c-0000000000000001").await;
    assert_eq!(refused["type"], "error", "not stored, not acked: {refused}");
    assert_eq!(refused["code"], "unavailable");
    bob.expect_no_message(Duration::from_secs(1), "an unstored message reaches no one")
        .await;
    carol
        .expect_no_message(
            Duration::from_millis(200),
            "nor anyone on another server, where NATS routes what it is given",
        )
        .await;

    cluster.start_archiver().await;
    let acked = send(&mut alice, "nowhere to keep this", "c-0000000000000001").await;
    assert_eq!(acked["type"], "ack", "stored now: {acked}");
    for ws in [&mut bob, &mut carol] {
        let got = ws.expect_message("general", "nowhere to keep this").await;
        assert_eq!(got["id"], acked["id"], "one message, one id everywhere");
    }
    let stored = archived(&cluster, "general", 1).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].id, acked["id"].as_str().unwrap());
}

#[actix_rt::test]
async fn a_retried_send_reaching_another_server_is_stored_and_shown_once_with_the_first_id() {
    let Some(cluster) = Cluster::start(Shape::servers(2)).await else {
        return;
    };
    let alice = cluster.user(0, "alice").await;
    let mut first = alice.ws().await;
    let mut retry = alice.on(&cluster.servers[1].addr).ws().await;
    let mut bob = cluster.user(1, "bob").await.ws().await;
    for ws in [&mut first, &mut retry, &mut bob] {
        ws.join("general").await;
    }
    let reference = "c-5e1f00d2b7a94c3e";
    let acked = send(&mut first, "said once", reference).await;
    assert_eq!(acked["type"], "ack", "{acked}");
    bob.expect_message("general", "said once").await;

    // The same send again, as the UI does after losing its connection
    // before the ack, through the other server.
    let again = send(&mut retry, "said once", reference).await;
    assert_eq!(again["type"], "ack", "{again}");
    assert_eq!(
        again["id"], acked["id"],
        "the retry is answered with the first id"
    );
    bob.expect_no_message(Duration::from_secs(1), "the retry is not shown again")
        .await;
    let mut after = cluster.user(1, "carol").await.ws().await;
    let joined = after.join("general").await;
    let texts: Vec<_> = joined["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["text"] == "said once")
        .collect();
    assert_eq!(texts.len(), 1, "history holds it once: {joined}");
    let stored = archived(&cluster, "general", 1).await;
    assert_eq!(stored.len(), 1, "the archive holds it once: {stored:?}");
}

/// Holds an exclusive lock on the SQLite file at `path` for `secs` seconds
/// (Python's sqlite3, as an outside writer would).
fn lock_database(path: &std::path::Path, secs: u32) -> Child {
    let script = "import sqlite3, sys, time\n\
                  c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
                  c.execute('BEGIN EXCLUSIVE')\n\
                  print('locked', flush=True)\n\
                  time.sleep(float(sys.argv[2]))\n";
    let mut child = Command::new("python3")
        .args(["-c", script, path.to_str().unwrap(), &secs.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    child
}

#[actix_rt::test]
async fn in_embedded_mode_a_message_is_acked_only_once_its_transaction_has_committed() {
    let mut app = TestApp::spawn().await;
    let mut alice = app.user("alice").await.ws().await;
    let mut bob = app.user("bob").await.ws().await;
    alice.join("general").await;
    bob.join("general").await;

    let mut lock = lock_database(&app.database_path(), 12);
    let refused = send(&mut alice, "the disk said no", "c-00000000000000aa").await;
    assert_eq!(
        refused["type"], "error",
        "not committed, not acked: {refused}"
    );
    assert_eq!(refused["code"], "unavailable");
    bob.expect_no_message(Duration::from_millis(500), "nor shown")
        .await;
    let _ = lock.kill();
    let _ = lock.wait();

    let acked = send(&mut alice, "the disk said yes", "c-00000000000000bb").await;
    assert_eq!(acked["type"], "ack");
    bob.expect_message("general", "the disk said yes").await;
    app.restart().await;
    let mut reader = app.user("carol").await.ws().await;
    let joined = reader.join("general").await;
    let texts: Vec<_> = joined["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["the disk said yes"], "only what was acked is kept");
}
