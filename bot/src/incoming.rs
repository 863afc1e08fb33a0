//! A command as the bot takes it from the bus: where to answer, who asked,
//! and what, read from the subject and payload (`chat_shared::bot_commands`).

use chat_shared::bot_commands::{OtherCommand, StockCommand, ToolCommand};
use chat_shared::bus::Envelope;
use chat_shared::correlation::CorrelationId;
use chat_shared::names::ChannelName;
use chat_shared::subjects;

use crate::responder::Request;
use chat_shared::log_text::shown;

/// A command taken from the bus: where to answer, who asked, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub channel: ChannelName,
    pub user: String,
    pub request: Request,
}

/// The span of every line logged about a command: `command`, with the
/// correlation id the server gave it (`Chat-Correlation`), or a fresh one
/// when it came without a usable one.
pub fn span(envelope: &Envelope) -> tracing::Span {
    let correlation = correlation(envelope);
    tracing::info_span!("command", %correlation)
}

/// The span of every line logged about a quote request (`chat.quote`):
/// `quote`, with the id of the HTTP request that asked (`Chat-Correlation`),
/// or a fresh one.
pub fn quote_span(envelope: &Envelope) -> tracing::Span {
    let correlation = correlation(envelope);
    tracing::info_span!("quote", %correlation)
}

fn correlation(envelope: &Envelope) -> CorrelationId {
    envelope
        .header(subjects::CORRELATION_HEADER)
        .and_then(CorrelationId::parse)
        .unwrap_or_else(CorrelationId::generate)
}

/// Reads a command from its subject and payload; `None` (logged) when malformed.
pub fn decode(envelope: &Envelope) -> Option<Incoming> {
    let parsed = match envelope.subject.as_str() {
        subjects::CMD_STOCK => {
            serde_json::from_slice::<StockCommand>(&envelope.payload).map(|c| Incoming {
                channel: c.channel,
                user: c.user,
                request: Request::Stock { args: c.code },
            })
        }
        subjects::CMD_HELP | subjects::CMD_UNKNOWN => {
            serde_json::from_slice::<OtherCommand>(&envelope.payload).map(|c| {
                let request = if envelope.subject == subjects::CMD_HELP {
                    Request::Help
                } else {
                    Request::Unknown { name: c.command }
                };
                Incoming {
                    channel: c.channel,
                    user: c.user,
                    request,
                }
            })
        }
        "chat.cmd.chart" | "chat.cmd.alert" | "chat.cmd.alerts" | "chat.cmd.watch"
        | "chat.cmd.unwatch" => serde_json::from_slice::<ToolCommand>(&envelope.payload).map(|c| {
            let args = c.args;
            let request = match envelope.subject.as_str() {
                "chat.cmd.chart" => Request::Chart { args },
                "chat.cmd.alert" => Request::Alert { args },
                "chat.cmd.alerts" => Request::Alerts,
                "chat.cmd.watch" => Request::Watch { args },
                _ => Request::Unwatch { args },
            };
            Incoming {
                channel: c.channel,
                user: c.user,
                request,
            }
        }),
        other => {
            tracing::warn!(subject = %shown(other), "dropping a command on an unknown subject");
            return None;
        }
    };
    parsed
        .map_err(|e| tracing::warn!(subject = %shown(&envelope.subject), error = %shown(&e.to_string()), "dropping malformed command"))
        .ok()
}
