//! Metrics: every process records through the `metrics` crate into one
//! Prometheus recorder (`install`), and renders it on `/metrics`. The bot
//! and the archiver serve it, with their health checks, on `--metrics-bind`
//! (`serve`); the chat server has its own routes for it.
//!
//! Names follow Prometheus' conventions: `chat_` first, base units
//! (`_seconds`), counters end in `_total`. Each process describes its own
//! metrics with a `Catalog` and registers their series at start, so that a
//! scrape shows every series from the first one, at zero until it moves.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::future::BoxFuture;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Whether this process is connected to NATS (1) or not (0).
pub const NATS_CONNECTED: &str = "chat_nats_connected";
/// Connections to NATS made again after a loss.
pub const NATS_RECONNECTS: &str = "chat_nats_reconnects_total";
/// From publishing a message to the stream's acknowledgement that it is stored.
pub const NATS_PUBLISH_ACK: &str = "chat_nats_publish_ack_seconds";

/// Bounds of the latency histograms, in seconds: 1 ms to 10 s.
const SECONDS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Bounds of the histograms that count things (e.g. messages in a batch).
const COUNTS: [f64; 11] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 5000.0,
];
/// How often old histogram samples are folded and dropped.
const UPKEEP: Duration = Duration::from_secs(5);

/// A metric's kind, for its description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One metric: its name, kind, help text, and the label sets it starts with
/// (each a list of `(label, value)`; none for a metric without labels).
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub series: &'static [&'static [(&'static str, &'static str)]],
}

impl Metric {
    pub const fn new(name: &'static str, kind: Kind, help: &'static str) -> Self {
        Self {
            name,
            kind,
            help,
            series: &[&[]],
        }
    }

    /// Starts with these label sets instead of one series without labels.
    pub const fn with(
        mut self,
        series: &'static [&'static [(&'static str, &'static str)]],
    ) -> Self {
        self.series = series;
        self
    }
}

/// A process's metrics.
pub type Catalog = [Metric];

/// What every process that talks to NATS exports about it.
pub const NATS: [Metric; 3] = [
    Metric::new(
        NATS_CONNECTED,
        Kind::Gauge,
        "Whether this process is connected to NATS (1) or not (0).",
    ),
    Metric::new(
        NATS_RECONNECTS,
        Kind::Counter,
        "Connections to NATS made again after a loss.",
    ),
    Metric::new(
        NATS_PUBLISH_ACK,
        Kind::Histogram,
        "Seconds from publishing a message to the stream's acknowledgement that it is stored.",
    ),
];

/// The process's recorder (installed on first use) and its rendering handle.
pub fn install() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_messages".into()), &COUNTS))
            .expect("bucket lists are not empty");
        let handle = match builder.install_recorder() {
            Ok(handle) => handle,
            // Another recorder is in place (only ever in tests that install
            // their own): render this one anyway, it just stays empty.
            Err(e) => {
                tracing::warn!(error = %e, "a metrics recorder was already installed");
                PrometheusBuilder::new().build_recorder().handle()
            }
        };
        let upkeep = handle.clone();
        let _ = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(UPKEEP);
                upkeep.run_upkeep();
            });
        handle
    })
}

/// Describes `catalog` and registers its starting series (at zero).
pub fn register(catalog: &Catalog) {
    install();
    for m in catalog {
        match m.kind {
            Kind::Counter => metrics::describe_counter!(m.name, m.help),
            Kind::Gauge => metrics::describe_gauge!(m.name, m.help),
            Kind::Histogram => metrics::describe_histogram!(m.name, m.help),
        }
        for labels in m.series {
            let labels: Vec<metrics::Label> = labels
                .iter()
                .map(|(k, v)| metrics::Label::new(*k, *v))
                .collect();
            match m.kind {
                // Adding nothing shows the series without resetting it.
                Kind::Counter => metrics::counter!(m.name, labels).increment(0),
                Kind::Gauge => metrics::gauge!(m.name, labels).increment(0.0),
                // A histogram has no zero to show until it has a sample.
                Kind::Histogram => drop(metrics::histogram!(m.name, labels)),
            }
        }
    }
}

/// The Prometheus text of everything recorded so far.
pub fn render() -> String {
    install().render()
}

/// Whether a process is ready, part by part (e.g. `[("bus", true), ("database", false)]`).
pub type Checks = Vec<(&'static str, bool)>;

/// Finds out whether a process is ready. It runs on the process's own
/// runtime, so it may use the process's connections.
pub type ReadyCheck = Arc<dyn Fn() -> BoxFuture<'static, Checks> + Send + Sync>;

/// Serves `/metrics`, `/healthz` and `/readyz` on `bind` from a thread of
/// its own; returns the address it listens on (`bind` may ask for port 0).
pub fn serve(bind: SocketAddr, ready: ReadyCheck) -> std::io::Result<SocketAddr> {
    use actix_web::{web, App, HttpResponse, HttpServer};

    install();
    let listener = std::net::TcpListener::bind(bind)?;
    let addr = listener.local_addr()?;
    // Checks run where the process's connections live, not on this thread.
    let runtime = tokio::runtime::Handle::current();
    let ready = web::Data::new((runtime, ready));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(ready.clone())
            .route(
                "/metrics",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4")
                        .body(render())
                }),
            )
            .route(
                "/healthz",
                web::get().to(|| async {
                    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
                }),
            )
            .route(
                "/readyz",
                web::get().to(
                    |ready: web::Data<(tokio::runtime::Handle, ReadyCheck)>| async move {
                        let (runtime, check) = ready.as_ref();
                        let checks = runtime.spawn(check()).await.unwrap_or_default();
                        readiness(&checks)
                    },
                ),
            )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    std::thread::Builder::new()
        .name("metrics-http".into())
        .spawn(move || actix_web::rt::System::new().block_on(server))?;
    Ok(addr)
}

/// `/readyz`'s answer: 200 when every part is ready, else 503; the body
/// names each part.
fn readiness(checks: &Checks) -> actix_web::HttpResponse {
    let body: serde_json::Map<String, serde_json::Value> = checks
        .iter()
        .map(|(part, ok)| ((*part).to_owned(), (*ok).into()))
        .collect();
    let ready = !checks.is_empty() && checks.iter().all(|(_, ok)| *ok);
    if ready {
        actix_web::HttpResponse::Ok().json(body)
    } else {
        actix_web::HttpResponse::ServiceUnavailable().json(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_part_is() {
        assert_eq!(
            readiness(&vec![("bus", true), ("database", true)]).status(),
            200
        );
        assert_eq!(
            readiness(&vec![("bus", true), ("database", false)]).status(),
            503
        );
        assert_eq!(
            readiness(&Vec::new()).status(),
            503,
            "no answer is not ready"
        );
    }

    #[test]
    fn registered_series_show_at_zero_and_histograms_have_buckets() {
        const CATALOG: [Metric; 2] = [
            Metric::new("chat_test_things_total", Kind::Counter, "Things.")
                .with(&[&[("kind", "a")], &[("kind", "b")]]),
            Metric::new("chat_test_wait_seconds", Kind::Histogram, "Waits."),
        ];
        register(&CATALOG);
        metrics::histogram!("chat_test_wait_seconds").record(0.003);
        let text = render();
        assert!(
            text.contains("# TYPE chat_test_things_total counter"),
            "{text}"
        );
        assert!(
            text.contains(r#"chat_test_things_total{kind="a"} 0"#),
            "{text}"
        );
        assert!(
            text.contains(r#"chat_test_things_total{kind="b"} 0"#),
            "{text}"
        );
        assert!(
            text.contains(r#"chat_test_wait_seconds_bucket{le="0.005"} 1"#),
            "a real histogram, not a summary: {text}"
        );
    }
}
