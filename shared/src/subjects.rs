//! NATS subjects and their payloads. Subjects for a channel can only be built
//! from a `ChannelName`, so no unchecked string becomes a subject token.

use serde::{Deserialize, Serialize};

use crate::names::ChannelName;

/// Header naming the server that published a message.
pub const ORIGIN_HEADER: &str = "Chat-Origin";
/// Header by which JetStream de-duplicates a message (its id).
pub const MSG_ID_HEADER: &str = "Nats-Msg-Id";
/// Every chat message, by channel (`chat.msg.<channel>`).
pub const MSG_ALL: &str = "chat.msg.>";
/// Stock commands for the bot.
pub const CMD_STOCK: &str = "chat.cmd.stock";
/// `/help` for the bot.
pub const CMD_HELP: &str = "chat.cmd.help";
/// Commands nobody knows, for the bot to explain.
pub const CMD_UNKNOWN: &str = "chat.cmd.unknown";
/// Every command.
pub const CMD_ALL: &str = "chat.cmd.*";
/// History requests for the archiver, by channel.
pub const HISTORY_ALL: &str = "chat.history.*";
/// Presence of any channel.
pub const PRESENCE_ALL: &str = "chat.presence.*";
/// Channel announcements.
pub const CHANNELS: &str = "chat.channels";
/// Sessions ended by logout, so every server closes their connections.
pub const SESSIONS_REVOKED: &str = "chat.sessions.revoked";
/// Servers say they are alive here every few seconds.
pub const SERVERS: &str = "chat.servers";
/// Queue group of the bots.
pub const BOT_QUEUE: &str = "bot";
/// Queue group of the archivers.
pub const ARCHIVER_QUEUE: &str = "archiver";

pub fn msg(channel: &ChannelName) -> String {
    format!("chat.msg.{channel}")
}

pub fn history(channel: &ChannelName) -> String {
    format!("chat.history.{channel}")
}

pub fn presence(channel: &ChannelName) -> String {
    format!("chat.presence.{channel}")
}

/// The channel named by the last token of a per-channel subject.
pub fn channel_of(subject: &str) -> Option<ChannelName> {
    let last = subject.rsplit('.').next()?;
    ChannelName::parse(last).ok()
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
    Messages {
        messages: Vec<crate::message::Message>,
    },
    Error {
        error: ReplyError,
    },
}

/// An error answered on a request subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyError {
    pub code: String,
    pub message: String,
}

/// `chat.servers` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerBeat {
    pub server: String,
}

/// `chat.sessions.revoked` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRevoked {
    pub sid: String,
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
    fn channel_subjects_round_trip() {
        let c = ChannelName::parse("dev-ops").unwrap();
        assert_eq!(msg(&c), "chat.msg.dev-ops");
        assert_eq!(channel_of(&history(&c)), Some(c.clone()));
        assert_eq!(channel_of(&presence(&c)), Some(c));
        assert_eq!(channel_of("chat.msg.Bad"), None);
    }

    #[test]
    fn history_reply_reads_both_shapes() {
        let ok: HistoryReply = serde_json::from_str(r#"{"messages":[]}"#).unwrap();
        assert_eq!(ok, HistoryReply::Messages { messages: vec![] });
        let err: HistoryReply =
            serde_json::from_str(r#"{"error":{"code":"no_such_channel","message":"x"}}"#).unwrap();
        assert!(matches!(err, HistoryReply::Error { .. }));
    }
}
