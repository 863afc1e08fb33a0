//! Liveness, readiness (bus and database) and Prometheus metrics.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use actix_web::{web, HttpResponse};
use serde_json::json;

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

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let (sessions, channels) = state.registry.send(Counts).await.unwrap_or((0, 0));
    let m = &state.metrics;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        );
    };
    metric(
        "chat_connections",
        "gauge",
        "Open WebSocket connections.",
        sessions as u64,
    );
    metric(
        "chat_channels_active",
        "gauge",
        "Channels with members on this server.",
        channels as u64,
    );
    metric(
        "chat_connections_opened_total",
        "counter",
        "WebSocket connections accepted.",
        m.connections_opened.load(Ordering::Relaxed),
    );
    metric(
        "chat_messages_sent_total",
        "counter",
        "Messages accepted from clients.",
        m.messages_sent.load(Ordering::Relaxed),
    );
    metric(
        "chat_logins_failed_total",
        "counter",
        "Refused login attempts.",
        m.logins_failed.load(Ordering::Relaxed),
    );
    metric(
        "chat_password_hashes_in_flight",
        "gauge",
        "Passwords being hashed or checked right now.",
        state.hashing.running() as u64,
    );
    metric(
        "chat_password_hashes_in_flight_peak",
        "gauge",
        "The most passwords ever hashed or checked at once.",
        state.hashing.peak() as u64,
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}
