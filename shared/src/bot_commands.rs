//! Commands for the bot as they travel: a message whose text starts with `/`
//! is recognized here, routed by name to `chat.cmd.<name>`, and carried there
//! with the payloads below. The server only routes; the bot reads the
//! arguments.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::bus::json_payload;
use crate::message::Message;
use crate::names::ChannelName;
use crate::subjects;

/// The name the bot posts under (kept from sign-up by `names::RESERVED`).
pub const BOT_USER: &str = "stockbot";

/// Longest part of a command's name the bot repeats.
pub const MAX_SHOWN_NAME: usize = 24;

/// The part of a command's name the bot may repeat: its first
/// [`MAX_SHOWN_NAME`] characters when it is made only of ASCII letters,
/// digits, `_` and `-`; nothing otherwise (an empty name, or one carrying
/// markup, links or look-alike characters).
pub fn shown_name(name: &str) -> Option<&str> {
    let safe = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if name.is_empty() || !name.chars().all(safe) {
        return None;
    }
    name.get(..name.len().min(MAX_SHOWN_NAME))
}

/// A command found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// `/stock=CODE[,CODE…]` (or `/stock CODE`); `args` as typed, trimmed.
    Stock { args: &'a str },
    /// `/help`.
    Help,
    /// One of the investor tools ([`TOOLS`]: `/chart`, `/alert`, `/alerts`,
    /// `/watch`, `/unwatch`); `args` as typed, trimmed.
    Tool { name: &'static str, args: &'a str },
    /// Any other `/name`.
    Unknown { name: &'a str },
}

impl<'a> Command<'a> {
    /// The command in `text`, if it is one.
    pub fn parse(text: &'a str) -> Option<Self> {
        let rest = text.trim_start().strip_prefix('/')?;
        let end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let (name, args) = rest.split_at(end);
        let args = args.strip_prefix('=').unwrap_or(args).trim();
        Some(if name.eq_ignore_ascii_case("stock") {
            Command::Stock { args }
        } else if name.eq_ignore_ascii_case("help") {
            Command::Help
        } else if let Some(tool) = TOOLS.iter().find(|t| name.eq_ignore_ascii_case(t)) {
            Command::Tool { name: tool, args }
        } else {
            Command::Unknown { name }
        })
    }
}

impl Command<'_> {
    /// The subject and payload that hand this command, carried by `message`,
    /// to the bot.
    pub fn to_bus(&self, message: &Message) -> (&'static str, Bytes) {
        let (channel, user, id) = (
            message.channel.clone(),
            message.user.clone(),
            message.id.clone(),
        );
        match *self {
            Command::Stock { args } => {
                let code = args.to_owned();
                let payload = StockCommand {
                    channel,
                    user,
                    code,
                    id,
                };
                (subjects::CMD_STOCK, json_payload(&payload))
            }
            Command::Tool { name, args } => {
                let payload = ToolCommand {
                    channel,
                    user,
                    args: args.to_owned(),
                    id,
                };
                (subjects::tool(name), json_payload(&payload))
            }
            Command::Help | Command::Unknown { .. } => {
                let (subject, name) = match *self {
                    Command::Unknown { name } => (subjects::CMD_UNKNOWN, name),
                    _ => (subjects::CMD_HELP, "help"),
                };
                let command = name.to_owned();
                let payload = OtherCommand {
                    channel,
                    user,
                    command,
                    id,
                };
                (subject, json_payload(&payload))
            }
        }
    }
}

/// `chat.cmd.stock` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockCommand {
    pub channel: ChannelName,
    pub user: String,
    pub code: String,
    /// Id of the message that carried the command.
    pub id: String,
}

/// The investor tools' names; each travels on `chat.cmd.<name>`.
pub const TOOLS: [&str; 5] = ["chart", "alert", "alerts", "watch", "unwatch"];

/// `chat.cmd.chart`, `chat.cmd.alert`, `chat.cmd.alerts`, `chat.cmd.watch`
/// and `chat.cmd.unwatch` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCommand {
    pub channel: ChannelName,
    pub user: String,
    /// What followed the command's name, as typed (trimmed).
    pub args: String,
    /// Id of the message that carried the command.
    pub id: String,
}

/// `chat.cmd.help` and `chat.cmd.unknown` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherCommand {
    pub channel: ChannelName,
    pub user: String,
    /// The command's name as typed (without the `/`).
    pub command: String,
    /// Id of the message that carried the command.
    pub id: String,
}

/// What a bot answers on a command's reply subject once it has posted its
/// reply, so the server need not report the bot missing.
pub const HANDLED: &[u8] = b"{\"ok\":true}";

/// The commands the bot knows, for `/help` and unknown commands.
pub const KNOWN: &[(&str, &str)] = &[
    (
        "/stock=CODE",
        "a stock quote, e.g. /stock=aapl.us (up to 5 codes separated by commas)",
    ),
    (
        "/chart=CODE,DAYS",
        "daily closes as a chart, e.g. /chart=aapl.us,90 (5 to 365 days, 30 if left out)",
    ),
    (
        "/alert CODE > PRICE",
        "tell me here once the price goes above (or, with <, below) PRICE",
    ),
    ("/alerts", "my alerts in this channel, numbered"),
    ("/alert cancel N", "take back my alert number N"),
    (
        "/watch CODE,…",
        "add codes to this channel's ticker (at most 10)",
    ),
    ("/unwatch CODE", "take a code off this channel's ticker"),
    ("/help", "this list"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_recognised_by_name_case_insensitively() {
        assert_eq!(
            Command::parse("/stock=aapl.us"),
            Some(Command::Stock { args: "aapl.us" })
        );
        assert_eq!(
            Command::parse("/STOCK=AAPL.US"),
            Some(Command::Stock { args: "AAPL.US" })
        );
        assert_eq!(
            Command::parse("/stock aapl.us "),
            Some(Command::Stock { args: "aapl.us" })
        );
        assert_eq!(
            Command::parse("/stock= aapl.us, msft.us"),
            Some(Command::Stock {
                args: "aapl.us, msft.us"
            })
        );
        assert_eq!(Command::parse("/stock"), Some(Command::Stock { args: "" }));
        assert_eq!(Command::parse("/stock="), Some(Command::Stock { args: "" }));
        assert_eq!(Command::parse("/help"), Some(Command::Help));
        assert_eq!(Command::parse("/Help me"), Some(Command::Help));
        assert_eq!(
            Command::parse("/foo"),
            Some(Command::Unknown { name: "foo" })
        );
        assert_eq!(Command::parse("/"), Some(Command::Unknown { name: "" }));
        assert_eq!(
            Command::parse("/chart=aapl.us,90"),
            Some(Command::Tool {
                name: "chart",
                args: "aapl.us,90"
            })
        );
        assert_eq!(
            Command::parse("/Alert AAPL.US > 200"),
            Some(Command::Tool {
                name: "alert",
                args: "AAPL.US > 200"
            })
        );
        assert_eq!(
            Command::parse("/alerts"),
            Some(Command::Tool {
                name: "alerts",
                args: ""
            })
        );
        assert_eq!(
            Command::parse("/stockx=1"),
            Some(Command::Unknown { name: "stockx" })
        );
    }

    #[test]
    fn commands_travel_on_their_subjects_with_the_message_id() {
        let text = crate::names::MessageText::parse("/stock=aapl.us").unwrap();
        let m = Message::new(ChannelName::general(), "alice", text, false);
        let (subject, payload) = Command::parse(m.text.as_str()).unwrap().to_bus(&m);
        assert_eq!(subject, subjects::CMD_STOCK);
        let stock: StockCommand = serde_json::from_slice(&payload).unwrap();
        assert_eq!(
            (stock.code.as_str(), stock.id.as_str()),
            ("aapl.us", m.id.as_str())
        );
        let (subject, payload) = Command::Unknown { name: "foo" }.to_bus(&m);
        assert_eq!(subject, subjects::CMD_UNKNOWN);
        let other: OtherCommand = serde_json::from_slice(&payload).unwrap();
        assert_eq!(
            (other.command.as_str(), other.user.as_str()),
            ("foo", "alice")
        );
        assert_eq!(Command::Help.to_bus(&m).0, subjects::CMD_HELP);
        let (subject, payload) = Command::parse("/watch aapl.us").unwrap().to_bus(&m);
        assert_eq!(subject, "chat.cmd.watch");
        let tool: ToolCommand = serde_json::from_slice(&payload).unwrap();
        assert_eq!(tool.args, "aapl.us");
    }

    #[test]
    fn only_a_short_safe_name_is_ever_shown() {
        assert_eq!(shown_name("foo"), Some("foo"));
        assert_eq!(shown_name("a_b-9"), Some("a_b-9"));
        assert_eq!(shown_name(&"a".repeat(100)), Some(&*"a".repeat(24)));
        for unsafe_name in ["", "a.b", "<b>", "x/y", "déjà", "a\u{202e}b", "a b"] {
            assert_eq!(shown_name(unsafe_name), None, "{unsafe_name:?}");
        }
    }

    #[test]
    fn plain_text_is_not_a_command() {
        for text in ["hello", "a /stock=aapl.us", "stock=aapl.us", ""] {
            assert_eq!(Command::parse(text), None, "{text}");
        }
    }
}
