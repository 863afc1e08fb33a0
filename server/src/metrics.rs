//! The chat server's metrics (`chat_shared::telemetry` records and renders
//! them). Deliveries are counted per thread and added up in batches, so the
//! hot path pays no shared atomic per frame; their latency is sampled.

use std::cell::Cell;
use std::time::Duration;

use chat_shared::frames::ErrorCode;
use chat_shared::telemetry::{Kind, Metric};

pub const CONNECTIONS: &str = "chat_connections";
pub const CHANNELS_ACTIVE: &str = "chat_channels_active";
pub const CONNECTIONS_OPENED: &str = "chat_connections_opened_total";
pub const CONNECTIONS_CLOSED: &str = "chat_connections_closed_total";
pub const EVICTIONS: &str = "chat_evictions_total";
pub const MESSAGES_ACCEPTED: &str = "chat_messages_accepted_total";
pub const MESSAGES_DELIVERED: &str = "chat_messages_delivered_total";
pub const MESSAGES_REFUSED: &str = "chat_messages_refused_total";
pub const DELIVERY_LATENCY: &str = "chat_delivery_latency_seconds";
pub const JOIN_DURATION: &str = "chat_join_duration_seconds";
pub const HISTORY_DURATION: &str = "chat_history_duration_seconds";
pub const LOGINS: &str = "chat_logins_total";
pub const BUS_REJECTED: &str = "chat_bus_messages_rejected_total";
pub const LATE_WAKES: &str = "chat_overload_late_wakes_total";
pub const LONG_WAITS: &str = "chat_overload_long_waits_total";
pub const HASHES_IN_FLIGHT: &str = "chat_password_hashes_in_flight";
pub const HASHES_IN_FLIGHT_PEAK: &str = "chat_password_hashes_in_flight_peak";

/// Why a connection was cut off by the server.
#[derive(Debug, Clone, Copy)]
pub enum Eviction {
    /// Its socket did not drain: its outbox filled.
    FellBehind,
    /// Too many frames arrived while one of its joins was completing.
    JoinBacklog,
    /// Nothing heard from it for the heartbeat timeout.
    Silent,
}

impl Eviction {
    fn label(self) -> &'static str {
        match self {
            Self::FellBehind => "fell_behind",
            Self::JoinBacklog => "join_backlog",
            Self::Silent => "silent",
        }
    }
}

/// Every metric of the server, as `/metrics` describes it.
pub const CATALOG: [Metric; 17] = [
    Metric::new(CONNECTIONS, Kind::Gauge, "Open WebSocket connections."),
    Metric::new(
        CHANNELS_ACTIVE,
        Kind::Gauge,
        "Channels with members on this server.",
    ),
    Metric::new(
        CONNECTIONS_OPENED,
        Kind::Counter,
        "WebSocket connections accepted.",
    ),
    Metric::new(
        CONNECTIONS_CLOSED,
        Kind::Counter,
        "WebSocket connections closed, by close code (1006: the peer vanished without one).",
    )
    .with(&[
        &[("code", "1000")],
        &[("code", "1001")],
        &[("code", "1006")],
        &[("code", "1008")],
        &[("code", "1013")],
    ]),
    Metric::new(
        EVICTIONS,
        Kind::Counter,
        "Connections the server cut off, by reason.",
    )
    .with(&[
        &[("reason", "fell_behind")],
        &[("reason", "join_backlog")],
        &[("reason", "silent")],
    ]),
    Metric::new(
        MESSAGES_ACCEPTED,
        Kind::Counter,
        "Messages accepted from clients (stored and acknowledged).",
    ),
    Metric::new(
        MESSAGES_DELIVERED,
        Kind::Counter,
        "Channel frames written to connections.",
    ),
    Metric::new(
        MESSAGES_REFUSED,
        Kind::Counter,
        "Client frames refused with an error frame, by its code.",
    )
    .with(&[
        &[("reason", "rate_limited")],
        &[("reason", "overloaded")],
        &[("reason", "too_long")],
        &[("reason", "forbidden")],
    ]),
    Metric::new(
        DELIVERY_LATENCY,
        Kind::Histogram,
        "Seconds from accepting a message to writing it to a member's connection (one frame in 16 sampled).",
    ),
    Metric::new(
        JOIN_DURATION,
        Kind::Histogram,
        "Seconds from a join frame to its joined (or error) frame.",
    ),
    Metric::new(
        HISTORY_DURATION,
        Kind::Histogram,
        "Seconds to fetch a channel's history (for a join or GET .../messages).",
    ),
    Metric::new(LOGINS, Kind::Counter, "Login attempts, by outcome.")
        .with(&[&[("outcome", "success")], &[("outcome", "failure")]]),
    Metric::new(
        BUS_REJECTED,
        Kind::Counter,
        "Messages from the bus dropped for breaking the message rules.",
    ),
    Metric::new(
        LATE_WAKES,
        Kind::Counter,
        "Times a server thread woke later than --overload-lag-ms.",
    ),
    Metric::new(
        LONG_WAITS,
        Kind::Counter,
        "Times work waited in the server's queues longer than --overload-wait-ms.",
    ),
    Metric::new(
        HASHES_IN_FLIGHT,
        Kind::Gauge,
        "Passwords being hashed or checked right now.",
    ),
    Metric::new(
        HASHES_IN_FLIGHT_PEAK,
        Kind::Gauge,
        "The most passwords ever hashed or checked at once.",
    ),
];

/// Deliveries counted on a thread before they are added to the total.
const DELIVERY_BATCH: u64 = 64;

thread_local! {
    static DELIVERED: Cell<u64> = const { Cell::new(0) };
    // Handles looked up once per thread: the hot path never searches the registry.
    static DELIVERED_TOTAL: metrics::Counter = metrics::counter!(MESSAGES_DELIVERED);
    static LATENCY: metrics::Histogram = metrics::histogram!(DELIVERY_LATENCY);
}

/// A channel frame was written to a connection on this thread.
pub fn delivered() {
    let count = DELIVERED.with(|n| {
        let count = n.get() + 1;
        n.set(if count >= DELIVERY_BATCH { 0 } else { count });
        count
    });
    if count >= DELIVERY_BATCH {
        DELIVERED_TOTAL.with(|c| c.increment(count));
    }
}

/// Adds this thread's deliveries not yet counted (call it now and then, e.g.
/// once a second, so the total never lags by more than that).
pub fn flush_delivered() {
    let count = DELIVERED.with(|n| n.replace(0));
    if count > 0 {
        DELIVERED_TOTAL.with(|c| c.increment(count));
    }
}

/// A message accepted at `accepted_ms` (Unix milliseconds) was just written.
pub fn delivery_latency(accepted_ms: i64) {
    let now = chrono::Utc::now().timestamp_millis();
    let waited = Duration::from_millis(u64::try_from(now - accepted_ms).unwrap_or(0));
    LATENCY.with(|h| h.record(waited.as_secs_f64()));
}

pub fn connection_opened() {
    metrics::counter!(CONNECTIONS_OPENED).increment(1);
}

/// A connection closed with `code` (WebSocket close code).
pub fn connection_closed(code: u16) {
    metrics::counter!(CONNECTIONS_CLOSED, "code" => code.to_string()).increment(1);
}

pub fn evicted(why: Eviction) {
    metrics::counter!(EVICTIONS, "reason" => why.label()).increment(1);
}

pub fn accepted() {
    metrics::counter!(MESSAGES_ACCEPTED).increment(1);
}

/// A client frame was answered with an error frame of `code`.
pub fn refused(code: ErrorCode) {
    let reason = serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "internal".to_owned());
    metrics::counter!(MESSAGES_REFUSED, "reason" => reason).increment(1);
}

pub fn join_took(took: Duration) {
    metrics::histogram!(JOIN_DURATION).record(took.as_secs_f64());
}

pub fn history_took(took: Duration) {
    metrics::histogram!(HISTORY_DURATION).record(took.as_secs_f64());
}

pub fn login(succeeded: bool) {
    let outcome = if succeeded { "success" } else { "failure" };
    metrics::counter!(LOGINS, "outcome" => outcome).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, series: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{series} not in {text}"))
    }

    #[test]
    fn deliveries_add_up_in_batches_and_a_flush_adds_the_rest() {
        chat_shared::telemetry::register(&CATALOG);
        let series = "chat_messages_delivered_total ";
        std::thread::spawn(|| {
            let before = value(&chat_shared::telemetry::render(), series);
            for _ in 0..DELIVERY_BATCH + 3 {
                delivered();
            }
            let batched = value(&chat_shared::telemetry::render(), series);
            assert_eq!(batched - before, DELIVERY_BATCH as f64);
            flush_delivered();
            let all = value(&chat_shared::telemetry::render(), series);
            assert_eq!(all - before, (DELIVERY_BATCH + 3) as f64);
        })
        .join()
        .expect("the counting thread finishes");
    }

    #[test]
    fn refusals_are_labelled_with_the_error_code() {
        chat_shared::telemetry::register(&CATALOG);
        refused(ErrorCode::NoSuchChannel);
        let text = chat_shared::telemetry::render();
        assert!(
            value(
                &text,
                r#"chat_messages_refused_total{reason="no_such_channel"} "#
            ) >= 1.0,
            "{text}"
        );
    }
}
