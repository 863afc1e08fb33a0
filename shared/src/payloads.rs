//! What travels on the chat's subjects (`crate::subjects`), as JSON: history
//! requests and replies, presence notes, server beats, revoked login sessions.
//! Commands for the bot are in `crate::bot_commands`.

use serde::{Deserialize, Serialize};

use crate::card::QuoteCard;
use crate::message::Message;

/// `chat.quote` request: a quote for `code` (lower case, `aapl.us`), on
/// behalf of `asker` (a username, or `#channel` for a watchlist), who takes
/// turns with the other askers in the bot's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteRequest {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asker: Option<String>,
}

/// `chat.quote` reply: the quote card, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum QuoteAnswer {
    Card { card: QuoteCard },
    Error { error: QuoteFailure },
}

/// Why a bot has no quote to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuoteFailure {
    /// The service knows no such symbol.
    NoSuchQuote,
    /// The service failed or timed out.
    QuotesUnavailable,
    /// The bot is at its limit of requests to the service: ask again soon.
    Busy,
}

/// `chat.history.<channel>` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `chat.history.<channel>` reply: messages, or an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HistoryReply {
    Messages { messages: Vec<Message> },
    Error { error: ReplyError },
}

impl HistoryReply {
    pub fn error(code: ReplyCode, message: impl Into<String>) -> Self {
        HistoryReply::Error {
            error: ReplyError {
                code,
                message: message.into(),
            },
        }
    }
}

/// An error answered on a request subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyError {
    pub code: ReplyCode,
    pub message: String,
}

/// The stable codes of a `ReplyError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyCode {
    /// The subject's last token is not a channel name.
    InvalidChannel,
    /// The payload is not a valid request.
    InvalidRequest,
    NoSuchChannel,
    /// The database (or the stream) failed; try again.
    Unavailable,
    /// A code this version does not know (sent by a newer process).
    #[serde(other)]
    Other,
}

/// `chat.servers` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerBeat {
    pub server: String,
}

/// `chat.sessions.revoked` payload: a login session ended by logout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRevoked {
    /// The session's id (`sid` on the wire, as in the cookie).
    #[serde(rename = "sid")]
    pub session_id: String,
}

/// `chat.presence.<channel>` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceNote {
    pub user: String,
    pub event: NoteEvent,
    pub server: String,
}

/// What a presence note says about a user on the publishing server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteEvent {
    /// The user's first connection on that server joined the channel.
    Join,
    /// The user's last connection on that server left the channel.
    Leave,
    /// The user is typing.
    Typing,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_reply_reads_both_shapes() {
        let ok: HistoryReply = serde_json::from_str(r#"{"messages":[]}"#).unwrap();
        assert_eq!(ok, HistoryReply::Messages { messages: vec![] });
        let err: HistoryReply =
            serde_json::from_str(r#"{"error":{"code":"no_such_channel","message":"x"}}"#).unwrap();
        assert_eq!(err, HistoryReply::error(ReplyCode::NoSuchChannel, "x"));
        let newer: HistoryReply =
            serde_json::from_str(r#"{"error":{"code":"some_new_code","message":"x"}}"#).unwrap();
        assert_eq!(newer, HistoryReply::error(ReplyCode::Other, "x"));
    }

    #[test]
    fn reply_codes_and_revocations_keep_their_wire_names() {
        let e =
            serde_json::to_string(&HistoryReply::error(ReplyCode::InvalidRequest, "m")).unwrap();
        assert_eq!(e, r#"{"error":{"code":"invalid_request","message":"m"}}"#);
        let r = SessionRevoked {
            session_id: "abc".into(),
        };
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"sid":"abc"}"#);
    }
}
