//! Frames addressed to one person rather than to a channel's members,
//! published on `chat.user.<name>` and passed by each server to that
//! person's connections there (read markers have their own, `read`).

use serde::{Deserialize, Serialize};

use crate::message::Message;
use crate::names::ChannelName;
use crate::store::{Kind, Listed, Role};

/// A channel as one person's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: ChannelName,
    pub created_at: String,
    pub kind: Kind,
    /// The person's role there (`None` in a public channel where they have none).
    pub role: Option<Role>,
    /// In a DM, the other person (lower case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// Closed by an operator: read-only.
    #[serde(default)]
    pub closed: bool,
}

impl Entry {
    /// `listed` as `me` (lower case) sees it.
    pub fn new(listed: &Listed, me: &str) -> Self {
        let info = listed.channel.info();
        Entry {
            peer: listed.channel.name.dm_peer(me).map(str::to_owned),
            name: info.name,
            created_at: info.created_at,
            kind: info.kind,
            role: listed.role,
            closed: info.closed,
        }
    }
}

/// What one person is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToPerson {
    /// Someone opened a direct conversation with them.
    Dm { channel: Entry },
    /// They were added to a private channel.
    Invited { channel: Entry, by: String },
    /// Their role in a channel changed.
    Role {
        channel: ChannelName,
        role: Role,
        by: String,
    },
    /// They were removed from a channel (`banned` from it, if it is
    /// public): their connections leave it.
    Kicked {
        channel: ChannelName,
        by: String,
        #[serde(default)]
        banned: bool,
    },
    /// A stored message names them, in a channel they may read.
    Mention { message: Message },
}

impl ToPerson {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("frames for a person always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_for_a_person_read_as_the_protocol_says() {
        let kicked = ToPerson::Kicked {
            channel: ChannelName::general(),
            by: "alice".into(),
            banned: true,
        };
        assert_eq!(
            kicked.to_json(),
            r#"{"type":"kicked","channel":"general","by":"alice","banned":true}"#
        );
        let role = ToPerson::Role {
            channel: ChannelName::general(),
            role: Role::Moderator,
            by: "alice".into(),
        };
        assert_eq!(
            role.to_json(),
            r#"{"type":"role","channel":"general","role":"moderator","by":"alice"}"#
        );
        let back: ToPerson = serde_json::from_str(&kicked.to_json()).unwrap();
        assert_eq!(back, kicked);
    }
}
