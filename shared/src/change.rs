//! Changes to a stored message: its author's edit, or its deletion (by its
//! author, or the channel's owner). A change travels on its message's own
//! subject (`chat.msg.<channel>`), so that a channel's messages and their
//! changes have one order: in the stream, for every server, and for the
//! archivers. Its JSON is also the frame clients get.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::message::{ts_millis, Message};
use crate::names::{ChannelName, MessageText};

/// One change, as published and as framed for clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// The author replaced the text.
    Edited {
        channel: ChannelName,
        id: String,
        text: MessageText,
        #[serde(with = "ts_millis")]
        edited_at: DateTime<Utc>,
        /// Who changed it.
        by: String,
        /// The users the new text mentions (as a message's `mentions`).
        #[serde(default)]
        mentions: Vec<String>,
    },
    /// The message was taken back; its words are erased everywhere.
    Deleted {
        channel: ChannelName,
        id: String,
        by: String,
    },
    /// `user` put (`on`) or took back a reaction.
    Reaction {
        channel: ChannelName,
        id: String,
        emoji: String,
        user: String,
        on: bool,
        /// When: of two reactions of one person with one emoji, the later wins.
        #[serde(with = "ts_millis")]
        at: DateTime<Utc>,
    },
}

/// The reactions people may give, at most 16 (`GET /api/emoji`).
pub const EMOJI: [&str; 16] = [
    "👍", "👎", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀", "🔥", "✅", "🚀", "📈", "📉", "💰", "🤔",
];

/// Whether `emoji` is one of [`EMOJI`].
pub fn is_emoji(emoji: &str) -> bool {
    EMOJI.contains(&emoji)
}

impl Change {
    /// The channel of the changed message.
    pub fn channel(&self) -> &ChannelName {
        match self {
            Change::Edited { channel, .. }
            | Change::Deleted { channel, .. }
            | Change::Reaction { channel, .. } => channel,
        }
    }

    /// The id of the changed message.
    pub fn id(&self) -> &str {
        match self {
            Change::Edited { id, .. }
            | Change::Deleted { id, .. }
            | Change::Reaction { id, .. } => id,
        }
    }

    /// Who made the change.
    pub fn by(&self) -> &str {
        match self {
            Change::Edited { by, .. } | Change::Deleted { by, .. } => by,
            Change::Reaction { user, .. } => user,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("changes are plain data")
    }

    /// Applies the change to its message, as the archive does: a deleted
    /// message stays deleted, and of two edits the later one wins whatever
    /// order they arrive in.
    pub fn apply(&self, m: &mut Message) {
        match self {
            Change::Edited {
                text,
                edited_at,
                mentions,
                ..
            } => {
                if !m.deleted && m.edited_at.is_none_or(|at| at <= *edited_at) {
                    m.text = text.clone();
                    m.edited_at = Some(*edited_at);
                    m.mentions = mentions.clone();
                }
            }
            Change::Deleted { .. } => m.erase(),
            Change::Reaction {
                emoji, user, on, ..
            } => {
                if !m.deleted {
                    m.react(emoji, user, *on);
                }
            }
        }
    }
}

/// Whether a payload is a change rather than a message (changes are written
/// with their `type` first; messages have none).
pub fn is_change(payload: &[u8]) -> bool {
    payload.starts_with(br#"{"type":"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message::new(
            ChannelName::general(),
            "alice",
            MessageText::parse("helo").unwrap(),
            false,
        )
    }

    #[test]
    fn changes_are_written_as_documented_and_read_back() {
        let m = message();
        let edit = Change::Edited {
            channel: ChannelName::general(),
            id: m.id.clone(),
            text: MessageText::parse("hello @bob").unwrap(),
            edited_at: m.ts,
            by: "alice".into(),
            mentions: vec!["bob".into()],
        };
        let json = edit.to_json();
        assert!(
            json.ends_with(r#","by":"alice","mentions":["bob"]}"#),
            "{json}"
        );
        assert!(
            json.starts_with(r#"{"type":"edited","channel":"general","id":""#),
            "{json}"
        );
        assert!(is_change(json.as_bytes()));
        assert!(!is_change(m.to_json().as_bytes()));
        assert_eq!(serde_json::from_str::<Change>(&json).unwrap(), edit);
        // An edit published without mentions mentions no one.
        let bare = r#"{"type":"edited","channel":"general","id":"x","text":"hi","edited_at":"2026-11-30T00:00:00.000Z","by":"a"}"#;
        assert!(matches!(
            serde_json::from_str::<Change>(bare).unwrap(),
            Change::Edited { mentions, .. } if mentions.is_empty()
        ));
        let delete = r#"{"type":"deleted","channel":"general","id":"x","by":"bob"}"#;
        assert!(matches!(
            serde_json::from_str::<Change>(delete).unwrap(),
            Change::Deleted { .. }
        ));
        for bad in [
            r#"{"type":"edited","channel":"general","id":"x","text":"  ","edited_at":"2026-11-30T00:00:00.000Z","by":"a"}"#,
            r#"{"type":"deleted","channel":"Bad Name","id":"x","by":"a"}"#,
            r#"{"type":"vanished","channel":"general","id":"x","by":"a"}"#,
        ] {
            assert!(serde_json::from_str::<Change>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_later_edit_wins_and_a_deleted_message_stays_deleted() {
        let mut m = message();
        let id = m.id.clone();
        let edit = |text: &str, ms: i64| Change::Edited {
            channel: ChannelName::general(),
            id: id.clone(),
            text: MessageText::parse(text).unwrap(),
            edited_at: DateTime::from_timestamp_millis(ms).unwrap(),
            by: "alice".into(),
            mentions: text
                .contains("@bob")
                .then(|| "bob".to_owned())
                .into_iter()
                .collect(),
        };
        let (late, early) = (edit("second @bob", 2_000), edit("first", 1_000));
        late.apply(&mut m);
        early.apply(&mut m);
        assert_eq!(m.text.as_str(), "second @bob");
        assert_eq!(m.mentions, ["bob"], "the later edit's mentions stay");
        Change::Deleted {
            channel: ChannelName::general(),
            id: m.id.clone(),
            by: "alice".into(),
        }
        .apply(&mut m);
        edit("third", 3_000).apply(&mut m);
        assert!(m.deleted);
        assert_eq!(m.text.as_str(), "");
        let v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
        assert_eq!(
            (v["deleted"].as_bool(), v["text"].as_str()),
            (Some(true), Some(""))
        );
        let back: Message = serde_json::from_value(v).unwrap();
        assert_eq!(back, m, "a tombstone reads back");
    }
}
