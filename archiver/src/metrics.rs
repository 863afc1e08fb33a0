//! The archiver's metrics (`chat_shared::telemetry` records and renders them).

use chat_shared::message::Message;
use chat_shared::telemetry::{Kind, Metric};

pub const BATCH_MESSAGES: &str = "chat_archiver_batch_messages";
pub const ROWS_STORED: &str = "chat_archiver_rows_stored_total";
pub const LAG: &str = "chat_archiver_lag_seconds";
pub const HISTORY_REQUESTS: &str = "chat_archiver_history_requests_total";

pub const CATALOG: [Metric; 4] = [
    Metric::new(
        BATCH_MESSAGES,
        Kind::Histogram,
        "Messages in each batch written to the database.",
    ),
    Metric::new(
        ROWS_STORED,
        Kind::Counter,
        "Messages newly stored (a message delivered again is not stored twice).",
    ),
    Metric::new(
        LAG,
        Kind::Gauge,
        "Seconds from the newest message of the last batch being sent to its being stored.",
    ),
    Metric::new(
        HISTORY_REQUESTS,
        Kind::Counter,
        "History requests answered.",
    ),
];

/// A batch of `batch` was written, `stored` of them new.
pub fn batch_stored(batch: &[Message], stored: usize) {
    metrics::histogram!(BATCH_MESSAGES).record(batch.len() as f64);
    metrics::counter!(ROWS_STORED).increment(stored as u64);
    if let Some(newest) = batch.iter().map(|m| m.ts).max() {
        let lag = chrono::Utc::now() - newest;
        metrics::gauge!(LAG).set(lag.num_milliseconds().max(0) as f64 / 1000.0);
    }
}

pub fn history_request() {
    metrics::counter!(HISTORY_REQUESTS).increment(1);
}
