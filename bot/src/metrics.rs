//! The bot's metrics (`chat_shared::telemetry` records and renders them).

use chat_shared::telemetry::{Kind, Metric};

use crate::quote::QuoteError;

pub const COMMANDS: &str = "chat_bot_commands_total";
pub const UPSTREAM: &str = "chat_bot_upstream_seconds";
pub const ALERTS_FIRED: &str = "chat_bot_alerts_fired_total";

/// How a command or quote request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The quote service knows no such code.
    NotFound,
    /// The quote service failed, timed out, or the bot's share of it was used up.
    UpstreamError,
    /// The command's arguments made no sense (its usage was the answer).
    BadRequest,
    /// The user was over the command limit.
    RateLimited,
    /// The bot's own storage failed.
    Failed,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::NotFound => "not_found",
            Self::UpstreamError => "upstream_error",
            Self::BadRequest => "bad_request",
            Self::RateLimited => "rate_limited",
            Self::Failed => "failed",
        }
    }

    /// What a failed quote or history lookup means for its command.
    pub fn of(error: &QuoteError) -> Self {
        match error {
            QuoteError::NotFound(_) => Self::NotFound,
            QuoteError::Busy | QuoteError::Unavailable(_) => Self::UpstreamError,
        }
    }
}

pub const CATALOG: [Metric; 3] = [
    Metric::new(
        COMMANDS,
        Kind::Counter,
        "Commands and quote requests answered, by kind and outcome.",
    )
    .with(&[
        &[("kind", "stock"), ("outcome", "ok")],
        &[("kind", "chart"), ("outcome", "ok")],
        &[("kind", "alert"), ("outcome", "ok")],
        &[("kind", "watch"), ("outcome", "ok")],
        &[("kind", "quote"), ("outcome", "ok")],
    ]),
    Metric::new(
        UPSTREAM,
        Kind::Histogram,
        "Seconds the quote service took to answer (cache hits not included).",
    ),
    Metric::new(
        ALERTS_FIRED,
        Kind::Counter,
        "Price alerts fired and posted.",
    ),
];

pub fn command(kind: &'static str, outcome: Outcome) {
    metrics::counter!(COMMANDS, "kind" => kind, "outcome" => outcome.label()).increment(1);
}

pub fn upstream_took(took: std::time::Duration) {
    metrics::histogram!(UPSTREAM).record(took.as_secs_f64());
}

pub fn alert_fired() {
    metrics::counter!(ALERTS_FIRED).increment(1);
}
