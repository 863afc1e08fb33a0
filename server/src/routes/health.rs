//! Liveness, readiness (bus and database) and Prometheus metrics. Metrics
//! say how busy the server is, so they are not for everyone: see `MetricsAccess`.

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

/// Brings the gauges read at scrape time up to date, then renders everything.
async fn render_metrics(state: &AppState) -> HttpResponse {
    use crate::metrics as m;
    let (sessions, channels) = state.registry.send(Counts).await.unwrap_or((0, 0));
    metrics::gauge!(m::CONNECTIONS).set(sessions as f64);
    metrics::gauge!(m::CHANNELS_ACTIVE).set(channels as f64);
    metrics::gauge!(m::HASHES_IN_FLIGHT).set(state.hashing.running() as f64);
    metrics::gauge!(m::HASHES_IN_FLIGHT_PEAK).set(state.hashing.peak() as f64);
    // Counted where they happen, by parts that know nothing of metrics.
    metrics::counter!(m::BUS_REJECTED).absolute(state.bus_rejected.load(Ordering::Relaxed));
    metrics::counter!(m::LATE_WAKES).absolute(state.load.late_wakes());
    metrics::counter!(m::LONG_WAITS).absolute(state.load.long_waits());
    crate::metrics::flush_delivered();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(chat_shared::telemetry::render())
}
