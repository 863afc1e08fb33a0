//! Logs that tools read: JSON lines from every process with the ids that
//! tie them together (an HTTP request's `X-Request-Id`, a connection's
//! `<server>/<connection>`, a bot command's correlation id from the server
//! to the bot, a quote request's from the browser's HTTP request to the
//! bot), and plain text without escape codes in a file.

use std::time::{Duration, Instant};

use chat_shared::testing::TestProcess;
use serde_json::{json, Value};

use crate::investor::bot_says;
use crate::support::cluster::{Cluster, Shape};
use crate::support::quotes::QuoteService;
use crate::support::TestApp;

const JSON: (&str, &str) = ("CHAT_LOG_FORMAT", "json");

/// Every line of `log` as a JSON object; panics on a line that is not one
/// (each has an RFC 3339 timestamp, a level and a target).
fn json_lines(log: &str) -> Vec<Value> {
    log.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
            let stamp = v["timestamp"].as_str().unwrap_or_default();
            assert!(
                chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
                "an RFC 3339 timestamp: {line}"
            );
            assert!(v["level"].is_string() && v["target"].is_string(), "{line}");
            v
        })
        .collect()
}

/// Whether `line` carries `field` = `value`, as its own field or one of a
/// span it was logged in.
fn carries(line: &Value, field: &str, value: &str) -> bool {
    let spans = line["spans"].as_array().into_iter().flatten();
    line[field] == value || spans.into_iter().any(|s| s[field] == value)
}

/// The first line of `process`'s log with `message` that `pred` accepts,
/// waiting up to 10 s for it (a line can follow the answer it is about).
async fn logged(process: &TestProcess, message: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = json_lines(&process.log_text());
        if let Some(line) = lines
            .into_iter()
            .find(|l| l["message"] == message && pred(l))
        {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "{} never logged {message:?} as expected:\n{}",
            process.name,
            process.log_text()
        );
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_rt::test]
async fn a_request_id_is_echoed_and_carried_by_every_server_line_about_the_request() {
    let Some(cluster) = Cluster::start(Shape {
        server_env: vec![JSON],
        archiver_env: vec![JSON],
        ..Shape::default()
    })
    .await
    else {
        return;
    };
    cluster.user(0, "alice").await;
    let body = json!({"username": "alice", "password": "not her password"});
    let mut client = cluster.client(0);
    let given = [("X-Request-Id", "trace-me-42")];
    let refused = client
        .exchange_with("POST", "/api/login", Some(body.clone()), &given)
        .await;
    assert_eq!(refused.status, 401, "{refused:?}");
    assert_eq!(refused.header("x-request-id"), Some("trace-me-42"));

    let server = &cluster.servers[0].proc;
    let handler = logged(server, "login refused", |l| {
        carries(l, "request_id", "trace-me-42")
    })
    .await;
    assert!(carries(&handler, "username", "alice"), "{handler}");
    let access = logged(server, "request answered", |l| {
        carries(l, "request_id", "trace-me-42")
    })
    .await;
    assert_eq!(access["status"], 401, "{access}");
    assert!(carries(&access, "path", "/api/login"), "{access}");

    // Not a plain short token: replaced by a fresh id, which is what the log says.
    let forged = [("X-Request-Id", "x\" level=ERROR")];
    let answer = client
        .exchange_with("POST", "/api/login", Some(body), &forged)
        .await;
    let fresh = answer.header("x-request-id").expect("an id").to_owned();
    assert!(fresh.len() == 26 && fresh.bytes().all(|b| b.is_ascii_alphanumeric()));
    logged(server, "login refused", |l| {
        carries(l, "request_id", &fresh)
    })
    .await;
    let archiver = json_lines(&cluster.archivers[0].log_text());
    assert!(archiver.iter().any(|l| l["message"] == "archiving"));
}

#[actix_rt::test]
async fn one_correlation_id_follows_a_command_from_the_server_into_the_bot() {
    let quotes = QuoteService::start();
    let Some(cluster) = Cluster::start(Shape {
        bots: 1,
        quotes: Some(quotes.url.clone()),
        server_env: vec![JSON],
        bot_env: vec![JSON],
        ..Shape::default()
    })
    .await
    else {
        return;
    };
    let mut alice = cluster.user(0, "alice").await;
    let mut ws = alice.ws().await;
    ws.join("general").await;
    let send =
        json!({"type": "send", "channel": "general", "text": "/stock=aapl.us", "ref": "stock-1"});
    assert_eq!(ws.answer(send).await["type"], "ack");
    bot_says(&mut ws, "general", "AAPL.US quote is $93.42").await;

    let server = &cluster.servers[0].proc;
    let forwarded = logged(server, "command forwarded to the bot", |_| true).await;
    let conn = forwarded["conn"].as_str().expect("the connection's id");
    let correlation = forwarded["correlation"].as_str().expect("a correlation id");
    assert_eq!(correlation, format!("{conn}/stock-1"), "{forwarded}");
    assert_eq!(forwarded["subject"], "chat.cmd.stock");
    assert!(conn.starts_with("srv-") && conn.contains('/'), "{conn}");

    let answered = logged(&cluster.bots[0], "command answered", |l| {
        carries(l, "correlation", correlation)
    })
    .await;
    assert_eq!(answered["user"], "alice", "{answered}");
    // The WebSocket's upgrade request names the connection too.
    logged(server, "request answered", |l| {
        l["status"] == 101 && carries(l, "conn", conn)
    })
    .await;

    // A quote a browser asks for (a cashtag's card) carries its request's id
    // into the bot.
    let given = [("X-Request-Id", "quote-trace-7")];
    let card = alice
        .exchange_with("GET", "/api/quotes/aapl.us", None, &given)
        .await;
    assert_eq!(card.status, 200, "{card:?}");
    let quoted = logged(&cluster.bots[0], "quote request answered", |l| {
        carries(l, "correlation", "quote-trace-7")
    })
    .await;
    assert_eq!(quoted["code"], "aapl.us", "{quoted}");
    assert_eq!(quoted["outcome"], "ok", "{quoted}");
}

#[actix_rt::test]
async fn text_logs_in_a_file_have_no_escape_codes() {
    let app = TestApp::spawn_with_env(&[("CHAT_LOG_FORMAT", "text"), ("RUST_LOG", "debug")]).await;
    let mut alice = app.user("alice").await;
    alice.get("/api/me").await;
    let mut ws = alice.ws().await;
    ws.join("general").await;
    ws.say("general", "hello").await;
    drop(ws);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !app.log().contains("connection closed") {
        assert!(Instant::now() < deadline, "no close logged:\n{}", app.log());
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    let log = app.log();
    assert!(
        !log.bytes().any(|b| b == 0x1b),
        "an escape byte in a log file:\n{log}"
    );
    assert!(
        log.contains("request{request_id=") && log.contains("request answered"),
        "spans and events are written: {log}"
    );
    assert!(!log.trim_start().starts_with('{'), "text, not JSON: {log}");
}
