//! Liveness, readiness (bus and database) and Prometheus metrics. Metrics
//! say how busy the server is, so they are not for everyone: see `MetricsAccess`.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use sha2::{Digest, Sha256};

use actix_web::ResponseError;

use crate::actors::registry::Counts;
use crate::state::AppState;

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let bus = state.bus.is_connected();
    let db = state.store.ping().await.is_ok();
    let body = json!({ "bus": bus, "database": db });
    if bus && db {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Who may read `/metrics`: with `--metrics-token`, whoever sends it as a
/// bearer token; with `--metrics-bind`, only that listener serves it; with
/// neither, only this machine (a loopback peer that no proxy forwarded).
#[derive(Debug, Clone, Default)]
pub struct MetricsAccess {
    /// SHA-256 of the token, so comparing it takes the same time whatever it is.
    token: Option<[u8; 32]>,
    own_listener: bool,
}

impl MetricsAccess {
    pub fn new(token: Option<&str>, own_listener: bool) -> Self {
        Self {
            token: token.map(|t| Sha256::digest(t.as_bytes()).into()),
            own_listener,
        }
    }

    /// Whether `req`, which came in on the metrics listener if `on_own`, may read metrics.
    fn allows(&self, req: &HttpRequest, on_own: bool) -> bool {
        if self.own_listener && !on_own {
            return false;
        }
        if let Some(want) = self.token {
            let given = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            return <[u8; 32]>::from(Sha256::digest(given.as_bytes())) == want;
        }
        if on_own {
            return true;
        }
        let proxied = ["forwarded", "x-forwarded-for"]
            .iter()
            .any(|h| req.headers().contains_key(*h));
        !proxied && req.peer_addr().is_some_and(|a| a.ip().is_loopback())
    }
}

/// `/metrics` on the main listener.
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    guarded_metrics(&req, &state, false).await
}

/// `/metrics` on the `--metrics-bind` listener.
pub async fn metrics_on_own_listener(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    guarded_metrics(&req, &state, true).await
}

async fn guarded_metrics(req: &HttpRequest, state: &AppState, on_own: bool) -> HttpResponse {
    if !state.metrics_access.allows(req, on_own) {
        return crate::error::AppError::NotFound.error_response();
    }
    render_metrics(state).await
}

/// Every metric on `/metrics`: name, type and help, in the order
/// `render_metrics` gives their values.
const METRICS: [(&str, &str, &str); 11] = [
    ("chat_connections", "gauge", "Open WebSocket connections."),
    (
        "chat_channels_active",
        "gauge",
        "Channels with members on this server.",
    ),
    (
        "chat_connections_opened_total",
        "counter",
        "WebSocket connections accepted.",
    ),
    (
        "chat_messages_sent_total",
        "counter",
        "Messages accepted from clients.",
    ),
    (
        "chat_logins_failed_total",
        "counter",
        "Refused login attempts.",
    ),
    (
        "chat_bus_messages_rejected_total",
        "counter",
        "Messages from the bus dropped for breaking the message rules.",
    ),
    (
        "chat_sends_refused_overloaded_total",
        "counter",
        "Sends refused with overloaded while the server was saturated.",
    ),
    (
        "chat_overload_late_wakes_total",
        "counter",
        "Times a server thread woke later than --overload-lag-ms.",
    ),
    (
        "chat_overload_long_waits_total",
        "counter",
        "Times work waited in the server's queues longer than --overload-wait-ms.",
    ),
    (
        "chat_password_hashes_in_flight",
        "gauge",
        "Passwords being hashed or checked right now.",
    ),
    (
        "chat_password_hashes_in_flight_peak",
        "gauge",
        "The most passwords ever hashed or checked at once.",
    ),
];

async fn render_metrics(state: &AppState) -> HttpResponse {
    let (sessions, channels) = state.registry.send(Counts).await.unwrap_or((0, 0));
    let m = &state.metrics;
    let values = [
        sessions as u64,
        channels as u64,
        m.connections_opened.load(Ordering::Relaxed),
        m.messages_sent.load(Ordering::Relaxed),
        m.logins_failed.load(Ordering::Relaxed),
        m.bus_rejected.load(Ordering::Relaxed),
        m.sends_refused_overloaded.load(Ordering::Relaxed),
        state.load.late_wakes(),
        state.load.long_waits(),
        state.hashing.running() as u64,
        state.hashing.peak() as u64,
    ];
    let mut out = String::new();
    for ((name, kind, help), value) in METRICS.iter().zip(values) {
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        );
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}
