//! WebSocket frames: the protocol as two serde enums, one per direction.

use serde::{Deserialize, Serialize};

use crate::message::Message;
use crate::names::ChannelName;

/// A frame from a browser. Channel names are checked by the caller so that a
/// bad name gets its own error code rather than a parse failure.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    Join {
        channel: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<String>,
    },
    Leave {
        channel: String,
    },
    Send {
        channel: String,
        text: String,
        #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        /// The id of the message (in the same channel) this one answers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<String>,
    },
    Typing {
        channel: String,
    },
    /// Replaces the text of one's own message.
    Edit {
        channel: String,
        id: String,
        text: String,
        #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// Takes a message back: one's own, or any for the channel's owner.
    Delete {
        channel: String,
        id: String,
        #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// Everything up to message `id` of the channel is read.
    Read {
        channel: String,
        id: String,
    },
    /// Puts (`on`) or takes back a reaction to a message.
    React {
        channel: String,
        id: String,
        emoji: String,
        on: bool,
        #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
}

impl ClientFrame {
    /// Parses a text frame; any failure is one `invalid_frame` error.
    pub fn parse(text: &str) -> Result<Self, ErrorFrame> {
        serde_json::from_str(text).map_err(|e| {
            ErrorFrame::new(
                ErrorCode::InvalidFrame,
                format!("That frame isn't valid: {e}"),
            )
        })
    }

    /// The `ref` of a frame that carries one, to echo in replies.
    pub fn reference(&self) -> Option<&str> {
        match self {
            ClientFrame::Send { reference, .. }
            | ClientFrame::Edit { reference, .. }
            | ClientFrame::Delete { reference, .. }
            | ClientFrame::React { reference, .. } => reference.as_deref(),
            _ => None,
        }
    }
}

/// A channel as listed and announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelInfo {
    pub name: ChannelName,
    pub created_at: String,
    #[serde(default)]
    pub kind: crate::store::Kind,
    /// Closed by an operator: members read it but nobody posts there.
    #[serde(default)]
    pub closed: bool,
}

/// Whether a member arrived or left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceEvent {
    Join,
    Leave,
}

/// Who arrived and left in a channel since its members were last told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenceBatch {
    pub channel: ChannelName,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub event: Option<PresenceEvent>,
    /// Who arrived, in name order.
    #[serde(default)]
    pub joins: Vec<String>,
    /// Who left, in name order.
    #[serde(default)]
    pub leaves: Vec<String>,
    /// How many are present now.
    pub count: usize,
    /// More came and went than the lists hold (they are cut at the same
    /// length): `count` is right; read the member list again to know who.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub more: bool,
}

impl PresenceBatch {
    /// The batch of `joins` and `leaves` (in name order), each list cut to
    /// `names` entries.
    pub fn new(
        channel: ChannelName,
        mut joins: Vec<String>,
        mut leaves: Vec<String>,
        count: usize,
        names: usize,
    ) -> Self {
        let single = match (joins.as_slice(), leaves.as_slice()) {
            ([user], []) => Some((user.clone(), PresenceEvent::Join)),
            ([], [user]) => Some((user.clone(), PresenceEvent::Leave)),
            _ => None,
        };
        let more = joins.len() > names || leaves.len() > names;
        joins.truncate(names);
        leaves.truncate(names);
        let (user, event) = single.unzip();
        Self {
            channel,
            user,
            event,
            joins,
            leaves,
            count,
            more,
        }
    }
}

/// A frame to a browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Joined {
        channel: ChannelName,
        history: Vec<Message>,
        /// The first of those present, in name order (at most the server's
        /// `--joined-members`); the rest are paged over HTTP.
        members: Vec<String>,
        /// How many are present.
        member_count: usize,
        /// Closed by an operator: read it, but posts are refused.
        closed: bool,
    },
    Message {
        message: Message,
    },
    Ack {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none", default)]
        reference: Option<String>,
        id: String,
    },
    /// Who came and went in a channel lately, in one batch. A batch of one
    /// change also carries it as `user` and `event` (the v1 frame).
    Presence(Box<PresenceBatch>),
    Typing {
        channel: ChannelName,
        user: String,
    },
    ChannelCreated {
        channel: ChannelInfo,
    },
    /// An operator closed (`closed`) or reopened a channel, told to its members.
    ChannelState {
        channel: ChannelName,
        closed: bool,
    },
    /// A word from the operators, not stored: for everyone (`channel` null)
    /// or for those present in `channel`. `at`: Unix milliseconds.
    Notice {
        text: String,
        channel: Option<ChannelName>,
        at: i64,
    },
    Error(ErrorFrame),
}

impl ServerFrame {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server frames always serialize")
    }

    /// The `message` frame for an already serialized Message, so that fan-out
    /// serializes each message once.
    pub fn message_json(message_json: &str) -> String {
        let mut s = String::with_capacity(message_json.len() + 30);
        s.push_str(r#"{"type":"message","message":"#);
        s.push_str(message_json);
        s.push('}');
        s
    }
}

/// The stable error codes of the `error` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidFrame,
    InvalidChannel,
    NoSuchChannel,
    NotJoined,
    TooLong,
    Empty,
    RateLimited,
    TooManyChannels,
    FrameTooLarge,
    Unavailable,
    /// No bot confirmed a command in time.
    BotUnavailable,
    /// The message named (e.g. by `reply_to`) is not in that channel.
    NoSuchMessage,
    /// Not the caller's to do (someone else's message).
    Forbidden,
    /// A reaction that is not one of `GET /api/emoji`.
    UnknownEmoji,
    /// The server is saturated: the send was refused, try again shortly.
    Overloaded,
    /// An operator closed the channel: it is read-only until reopened.
    ChannelClosed,
    Internal,
}

/// The body of an `error` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorFrame {
    pub code: ErrorCode,
    pub message: String,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none", default)]
    pub reference: Option<String>,
    /// The channel a failed join was for (the client may join again).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub channel: Option<String>,
}

impl ErrorFrame {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            reference: None,
            channel: None,
        }
    }

    /// Names the channel whose join failed.
    pub fn for_channel(mut self, channel: &str) -> Self {
        self.channel = Some(channel.to_owned());
        self
    }

    pub fn with_ref(mut self, reference: Option<&str>) -> Self {
        self.reference = reference.map(str::to_owned);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::MessageText;

    #[test]
    fn client_frames_parse_as_documented() {
        assert_eq!(
            ClientFrame::parse(r#"{"type":"join","channel":"general"}"#).unwrap(),
            ClientFrame::Join {
                channel: "general".into(),
                since: None
            }
        );
        assert_eq!(
            ClientFrame::parse(r#"{"type":"send","channel":"general","text":"hi","ref":"c-17"}"#)
                .unwrap(),
            ClientFrame::Send {
                channel: "general".into(),
                text: "hi".into(),
                reference: Some("c-17".into()),
                reply_to: None,
            }
        );
        let reply = r#"{"type":"send","channel":"g1","text":"yes","reply_to":"01J0"}"#;
        assert!(matches!(
            ClientFrame::parse(reply).unwrap(),
            ClientFrame::Send { reply_to: Some(r), .. } if r == "01J0"
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"type":"join","channel":"x","since":"01J"}"#).unwrap(),
            ClientFrame::Join { since: Some(_), .. }
        ));
        assert_eq!(
            ClientFrame::parse(r#"{"type":"typing","channel":"a1"}"#).unwrap(),
            ClientFrame::Typing {
                channel: "a1".into()
            }
        );
    }

    #[test]
    fn bad_frames_are_one_invalid_frame_error() {
        for bad in [
            "",
            "not json",
            "[]",
            r#"{"type":"dance"}"#,
            r#"{"channel":"general"}"#,
            r#"{"type":"send","channel":"general"}"#,
            r#"{"type":"join","channel":7}"#,
            r#"{"type":"join","channel":"g","extra":1}"#,
        ] {
            let e = ClientFrame::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidFrame, "{bad}");
        }
    }

    #[test]
    fn server_frames_serialize_as_documented() {
        let e = ServerFrame::Error(
            ErrorFrame::new(ErrorCode::NotJoined, "Join first.").with_ref(Some("c-1")),
        );
        assert_eq!(
            e.to_json(),
            r#"{"type":"error","code":"not_joined","message":"Join first.","ref":"c-1"}"#
        );
        let ack = ServerFrame::Ack {
            reference: Some("c-2".into()),
            id: "01X".into(),
        };
        assert_eq!(ack.to_json(), r#"{"type":"ack","ref":"c-2","id":"01X"}"#);
        let one = PresenceBatch::new(ChannelName::general(), vec![], vec!["bob".into()], 3, 2);
        assert_eq!(
            ServerFrame::Presence(Box::new(one)).to_json(),
            r#"{"type":"presence","channel":"general","user":"bob","event":"leave","joins":[],"leaves":["bob"],"count":3}"#
        );
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let many = PresenceBatch::new(
            ChannelName::general(),
            names(&["a", "b", "c"]),
            names(&["d"]),
            7,
            2,
        );
        assert_eq!(
            ServerFrame::Presence(Box::new(many)).to_json(),
            r#"{"type":"presence","channel":"general","joins":["a","b"],"leaves":["d"],"count":7,"more":true}"#
        );
    }

    #[test]
    fn operator_frames_serialize_as_documented() {
        let everyone = ServerFrame::Notice {
            text: "Maintenance at 22:00 UTC".into(),
            channel: None,
            at: 5,
        };
        assert_eq!(
            everyone.to_json(),
            r#"{"type":"notice","text":"Maintenance at 22:00 UTC","channel":null,"at":5}"#
        );
        let closed = ServerFrame::ChannelState {
            channel: ChannelName::general(),
            closed: true,
        };
        assert_eq!(
            closed.to_json(),
            r#"{"type":"channel_state","channel":"general","closed":true}"#
        );
        let refused = ServerFrame::Error(ErrorFrame::new(ErrorCode::ChannelClosed, "Closed."));
        assert!(refused.to_json().contains(r#""code":"channel_closed""#));
    }

    #[test]
    fn message_frame_built_from_shared_bytes_equals_the_serde_one() {
        let m = Message::new(
            ChannelName::general(),
            "a",
            MessageText::parse("x").unwrap(),
            false,
        );
        let shared = ServerFrame::message_json(&serde_json::to_string(&m).unwrap());
        let direct = ServerFrame::Message { message: m }.to_json();
        assert_eq!(shared, direct);
    }
}
