//! Metrics and health as an operator scrapes them: every process's
//! `/metrics` has every series of its catalog, they move with real traffic,
//! and the bot's and the archiver's `/readyz` answer on `--metrics-bind`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chat_shared::telemetry::{Metric, NATS};
use chat_shared::testing::free_port;
use serde_json::json;

use crate::support::cluster::{Cluster, Shape};
use crate::support::{http, PASSWORD};

/// A scrape: each series (name with its labels, as written) and its value.
struct Scrape {
    text: String,
    values: HashMap<String, f64>,
}

impl Scrape {
    async fn of(addr: &str) -> Self {
        let mut response = http()
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .expect("/metrics answers");
        assert_eq!(response.status(), 200, "/metrics of {addr}");
        let body = response.body().await.expect("/metrics reads");
        let text = String::from_utf8(body.to_vec()).expect("Prometheus text is UTF-8");
        let values = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (series, value) = l.rsplit_once(' ')?;
                Some((series.to_owned(), value.parse().ok()?))
            })
            .collect();
        Self { text, values }
    }

    /// One series' value (0 when absent).
    fn get(&self, series: &str) -> f64 {
        self.values.get(series).copied().unwrap_or(0.0)
    }

    /// The sum of every series of `name`, whatever their labels.
    fn sum(&self, name: &str) -> f64 {
        let labelled = format!("{name}{{");
        self.values
            .iter()
            .filter(|(series, _)| *series == name || series.starts_with(&labelled))
            .map(|(_, v)| v)
            .sum()
    }

    /// Every metric of `catalog` is described, typed, and has a series
    /// (histograms once they have a sample).
    fn has_all(&self, catalog: &[Metric], process: &str) {
        for m in catalog {
            assert!(
                self.text.contains(&format!("# TYPE {} ", m.name)),
                "{process} does not export {}:\n{}",
                m.name,
                self.text
            );
        }
    }
}

/// An address on this machine for a process's `--metrics-bind`.
fn metrics_bind() -> &'static str {
    Box::leak(format!("127.0.0.1:{}", free_port()).into_boxed_str())
}

async fn get_json(url: &str) -> (u16, serde_json::Value) {
    let mut response = http().get(url).send().await.expect("answers");
    let body = response.json().await.unwrap_or_default();
    (response.status().as_u16(), body)
}

/// Waits until `moved` holds of a fresh scrape of `addr` (deliveries are
/// added up once a second per thread), or fails with the last scrape.
async fn until(addr: &str, what: &str, moved: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = Scrape::of(addr).await;
        if moved(&now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not move:\n{}",
            now.text
        );
        actix_rt::time::sleep(Duration::from_millis(200)).await;
    }
}

#[actix_rt::test]
async fn every_process_exports_its_catalog_and_the_series_move_with_traffic() {
    let (bot_bind, archiver_bind) = (metrics_bind(), metrics_bind());
    let Some(mut cluster) = Cluster::start(Shape {
        bots: 1,
        server_env: vec![("CHAT_RATE_COUNT", "1000")],
        bot_env: vec![("CHAT_METRICS_BIND", bot_bind)],
        archiver_env: vec![("CHAT_METRICS_BIND", archiver_bind)],
        ..Shape::default()
    })
    .await
    else {
        return;
    };
    let server = cluster.servers[0].addr.clone();

    // Health on the bot's and the archiver's own listener.
    for bind in [bot_bind, archiver_bind] {
        let (status, body) = get_json(&format!("http://{bind}/readyz")).await;
        assert_eq!(status, 200, "{bind}: {body}");
        assert_eq!(body, json!({"bus": true, "database": true}));
        assert_eq!(get_json(&format!("http://{bind}/healthz")).await.0, 200);
    }

    let server_before = Scrape::of(&server).await;
    server_before.has_all(&chat_server::metrics::CATALOG, "chat-server");
    server_before.has_all(&NATS[..2], "chat-server");
    let bot_before = Scrape::of(bot_bind).await;
    bot_before.has_all(&chat_bot::metrics::CATALOG[..1], "chat-bot");
    bot_before.has_all(&NATS[..2], "chat-bot");
    let archiver_before = Scrape::of(archiver_bind).await;
    archiver_before.has_all(&chat_archiver::metrics::CATALOG[1..], "chat-archiver");
    for (s, who) in [
        (&server_before, "server"),
        (&bot_before, "bot"),
        (&archiver_before, "archiver"),
    ] {
        assert_eq!(s.get("chat_nats_connected"), 1.0, "{who}: {}", s.text);
    }

    // Traffic: a failed and a good login, a join, messages, a refused frame,
    // a command the bot answers and one it cannot, a history page, a close.
    let mut alice = cluster.user(0, "alice").await;
    assert_eq!(alice.login("alice", "wrong-password").await.0, 401);
    assert_eq!(alice.login("alice", PASSWORD).await.0, 200);
    let mut ws = alice.ws().await;
    ws.join("general").await;
    const SENT: usize = 40;
    for i in 0..SENT {
        ws.say("general", &format!("hello {i}")).await;
    }
    ws.say("general", "/stock=aapl.us").await;
    ws.expect_message("general", "AAPL.US quote is $93.42 per share")
        .await;
    ws.say("general", "/stock=nope.us").await;
    ws.expect("the bot's answer to an unknown code", |f| {
        f["type"] == "message"
            && f["message"]["bot"] == true
            && f["message"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("NOPE.US"))
    })
    .await;
    ws.send(json!({"type": "send", "channel": "elsewhere", "text": "hi", "ref": "x"}))
        .await;
    ws.expect_error("not_joined").await;
    let during = Scrape::of(&server).await;
    assert_eq!(during.get("chat_connections"), 1.0, "{}", during.text);
    assert_eq!(alice.get("/api/channels/general/messages").await.0, 200);
    drop(ws);

    let after = until(&server, "the server's counters", |s| {
        s.sum("chat_connections_closed_total") >= 1.0
            && s.get("chat_messages_delivered_total")
                >= server_before.get("chat_messages_delivered_total") + SENT as f64
    })
    .await;
    let moved = |series: &str, by: f64| {
        let (was, is) = (server_before.get(series), after.get(series));
        assert!(is >= was + by, "{series}: {was} -> {is}\n{}", after.text);
    };
    moved("chat_connections_opened_total", 1.0);
    moved("chat_messages_accepted_total", (SENT + 2) as f64);
    moved(r#"chat_logins_total{outcome="failure"}"#, 1.0);
    moved(r#"chat_logins_total{outcome="success"}"#, 1.0);
    moved(r#"chat_messages_refused_total{reason="not_joined"}"#, 1.0);
    moved("chat_join_duration_seconds_count", 1.0);
    moved("chat_history_duration_seconds_count", 2.0);
    moved("chat_delivery_latency_seconds_count", 1.0);
    moved("chat_nats_publish_ack_seconds_count", (SENT + 2) as f64);
    assert_eq!(after.get("chat_connections"), 0.0, "{}", after.text);
    assert!(
        after
            .text
            .contains(r#"chat_delivery_latency_seconds_bucket{le="+Inf"}"#),
        "a histogram with buckets: {}",
        after.text
    );

    let bot = Scrape::of(bot_bind).await;
    for (series, by) in [
        (r#"chat_bot_commands_total{kind="stock",outcome="ok"}"#, 1.0),
        (
            r#"chat_bot_commands_total{kind="stock",outcome="not_found"}"#,
            1.0,
        ),
        ("chat_bot_upstream_seconds_count", 2.0),
        ("chat_nats_publish_ack_seconds_count", 2.0),
    ] {
        let (was, is) = (bot_before.get(series), bot.get(series));
        assert!(is >= was + by, "bot {series}: {was} -> {is}\n{}", bot.text);
    }

    let archiver = until(archiver_bind, "the archiver's rows", |s| {
        s.get("chat_archiver_rows_stored_total") >= (SENT + 4) as f64
    })
    .await;
    archiver.has_all(&chat_archiver::metrics::CATALOG, "chat-archiver");
    assert!(archiver.get("chat_archiver_batch_messages_count") >= 1.0);
    assert!(archiver.get("chat_archiver_history_requests_total") >= 1.0);
    let lag = archiver.get("chat_archiver_lag_seconds");
    assert!((0.0..5.0).contains(&lag), "lag {lag}: {}", archiver.text);

    // NATS goes away and comes back: every process counts the reconnection.
    cluster.nats[0].restart().await;
    for (addr, who) in [
        (server.as_str(), "server"),
        (bot_bind, "bot"),
        (archiver_bind, "archiver"),
    ] {
        until(addr, &format!("the {who}'s reconnections"), |s| {
            s.get("chat_nats_reconnects_total") >= 1.0 && s.get("chat_nats_connected") == 1.0
        })
        .await;
    }
}

#[test]
fn every_metric_is_documented_and_every_documented_metric_exists() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/operations.md"
    ))
    .expect("docs/operations.md");
    let catalogs: Vec<&Metric> = chat_server::metrics::CATALOG
        .iter()
        .chain(&chat_bot::metrics::CATALOG)
        .chain(&chat_archiver::metrics::CATALOG)
        .chain(&NATS)
        .collect();
    for m in &catalogs {
        assert!(
            doc.contains(&format!("`{}`", m.name)),
            "{} is not in docs/operations.md",
            m.name
        );
    }
    let known: Vec<&str> = catalogs.iter().map(|m| m.name).collect();
    // The reference table's rows: "| `chat_…` | type | …".
    let rows: Vec<&str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
        .filter(|name| name.starts_with("chat_"))
        .collect();
    assert!(rows.len() >= known.len(), "the metrics table: {rows:?}");
    for name in rows {
        assert!(
            known.contains(&name),
            "docs/operations.md lists {name}, which no process exports"
        );
    }
}
