//! What every binary does at its start and its end: logging, and waiting
//! for the signal to stop.

use clap::{Args, ValueEnum};
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for people: colour only when standard error is a terminal.
    Text,
    /// One JSON object per line, for log collectors and `jq`.
    Json,
}

/// Logging flags, the same on every binary.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// How log lines are written to standard error: `text` for people,
    /// `json` (one object per line) for tools. `RUST_LOG` sets the level.
    #[arg(long, env = "CHAT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl LogArgs {
    /// Starts logging as these flags say.
    pub fn init(&self) {
        init_logging(self.log_format);
    }
}

/// Logs to standard error at `RUST_LOG` (default `info`). Text is in colour
/// only when standard error is a terminal (never escape codes in a log
/// file); JSON is one object per line with the event's fields at the top
/// level, the fields of the spans it happened in under `spans`, and an
/// RFC 3339 `timestamp`.
pub fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder
            .with_ansi(false)
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .init(),
    }
}

/// How long a stopping process waits for NATS to take what it still holds.
const LAST_FLUSH: std::time::Duration = std::time::Duration::from_secs(5);

/// Hands NATS what is still buffered before the process exits, waiting at
/// most `LAST_FLUSH`: with NATS gone, a process asked to stop still stops
/// (what it had not sent is a history answer or an acknowledgement, which
/// the requester or the stream asks for again).
pub async fn last_flush(bus: &dyn crate::bus::Bus) {
    match tokio::time::timeout(LAST_FLUSH, bus.flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "could not flush to NATS before stopping"),
        Err(_) => tracing::warn!(
            secs = LAST_FLUSH.as_secs(),
            "NATS did not take the last messages in time; stopping anyway"
        ),
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("can listen for SIGTERM");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("asked to stop");
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        log: LogArgs,
    }

    #[test]
    fn the_log_format_is_text_unless_asked() {
        let text = Cli::parse_from(["x"]).log.log_format;
        let json = Cli::parse_from(["x", "--log-format", "json"])
            .log
            .log_format;
        assert_eq!((text, json), (LogFormat::Text, LogFormat::Json));
        assert!(Cli::try_parse_from(["x", "--log-format", "xml"]).is_err());
    }
}
