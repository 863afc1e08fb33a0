//! What operators ask the chat servers on `chat.admin.*` (request/reply,
//! readable JSON) and what the servers ask each other to answer them
//! (`chat.admin.gather.*`). Subjects are in `crate::subjects`.

use serde::{Deserialize, Serialize};

use crate::names::ChannelName;

/// `chat.admin.online` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineRequest {
    pub channel: String,
}

/// `chat.admin.disconnect` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisconnectRequest {
    pub user: String,
}

/// `chat.admin.close` and `chat.admin.reopen` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelRequest {
    pub channel: String,
}

/// `chat.admin.notice` request: `channel` absent for everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRequest {
    pub text: String,
    #[serde(default)]
    pub channel: Option<String>,
}

/// One server as `chat.admin.servers` lists it (and as each server
/// answers `chat.admin.gather.servers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerCounts {
    pub id: String,
    pub connections: usize,
    pub channels: usize,
}

/// `chat.admin.servers` answer: every live server, the answering one included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServersAnswer {
    pub servers: Vec<ServerCounts>,
}

/// `chat.admin.online` answer: who is connected to `channel` on any
/// server, each once, in name order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineAnswer {
    pub channel: ChannelName,
    pub online: Vec<String>,
    pub count: usize,
}

/// One server's answer to `chat.admin.gather.online`: its users in the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalOnline {
    pub server: String,
    pub online: Vec<String>,
}

/// `chat.admin.disconnect` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisconnectAnswer {
    pub user: String,
    pub sessions_ended: usize,
}

/// `chat.admin.close` / `chat.admin.reopen` answer, and what servers tell
/// each other on `chat.channels.state` when it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelState {
    pub channel: ChannelName,
    pub closed: bool,
}

/// `chat.admin.notice` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeSent {
    pub sent: bool,
    pub channel: Option<ChannelName>,
}

/// A notice as servers pass it to each other on `chat.notices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub text: String,
    pub channel: Option<ChannelName>,
    /// Unix milliseconds.
    pub at: i64,
}

/// Longest notice text, in characters.
pub const MAX_NOTICE_CHARS: usize = 1000;

/// An admin request that failed: `{"error":{"code","message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminFailure {
    pub error: AdminError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminError {
    pub code: AdminCode,
    pub message: String,
}

/// The stable codes of an admin error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminCode {
    /// Not JSON, a field missing, or a bad name or text.
    BadRequest,
    /// No such channel or user.
    NotFound,
    /// The database failed; try again.
    Unavailable,
    /// A code this version does not know.
    #[serde(other)]
    Other,
}

impl AdminFailure {
    pub fn new(code: AdminCode, message: impl Into<String>) -> Self {
        Self {
            error: AdminError {
                code,
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_keep_their_wire_shape() {
        let e = AdminFailure::new(AdminCode::BadRequest, "m");
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"error":{"code":"bad_request","message":"m"}}"#
        );
        let sent = NoticeSent {
            sent: true,
            channel: None,
        };
        assert_eq!(
            serde_json::to_string(&sent).unwrap(),
            r#"{"sent":true,"channel":null}"#
        );
        let n: NoticeRequest = serde_json::from_str(r#"{"text":"hi"}"#).unwrap();
        assert_eq!(n.channel, None);
        assert!(serde_json::from_str::<OnlineRequest>("{}").is_err());
    }
}
