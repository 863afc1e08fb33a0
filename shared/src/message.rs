//! The chat message as it travels everywhere: WebSocket, NATS, the archive.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::card::Card;
use crate::names::{ChannelName, MessageText};

/// One chat message. `id` is a ULID: unique and ordered by time, assigned once
/// by whoever accepted the message (a server, or the bot for its replies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Wire")]
pub struct Message {
    pub id: String,
    pub channel: ChannelName,
    pub user: String,
    pub text: MessageText,
    #[serde(with = "ts_millis")]
    pub ts: DateTime<Utc>,
    /// Not from a person: the bot, an operator or the system.
    #[serde(default)]
    pub bot: bool,
    /// An operator's or the system's post; absent for people and the bot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// The id of the message (in the same channel) this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// When its author last changed the text.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "ts_millis_opt"
    )]
    pub edited_at: Option<DateTime<Utc>>,
    /// Taken back: `text` is empty, the words are gone from the archive.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// Who reacted with what: emoji -> users, in the order they reacted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reactions: BTreeMap<String, Vec<String>>,
    /// The existing users it names as `@name`, lower case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// A bot's structured reply (a quote, a chart…): `crate::card`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<Card>,
}

/// A message as it is read, before its text is checked: a deleted
/// message's text is empty, any other's must be valid text.
#[derive(Deserialize)]
struct Wire {
    id: String,
    channel: ChannelName,
    user: String,
    text: String,
    #[serde(with = "ts_millis")]
    ts: DateTime<Utc>,
    #[serde(default)]
    bot: bool,
    #[serde(default)]
    kind: Option<Kind>,
    #[serde(default)]
    reply_to: Option<String>,
    #[serde(default, with = "ts_millis_opt")]
    edited_at: Option<DateTime<Utc>>,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    reactions: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    mentions: Vec<String>,
    #[serde(default)]
    card: Option<Card>,
}

impl TryFrom<Wire> for Message {
    type Error = crate::names::InvalidText;
    fn try_from(w: Wire) -> Result<Self, Self::Error> {
        let text = if w.deleted {
            MessageText::erased()
        } else {
            MessageText::parse(&w.text)?
        };
        Ok(Message {
            id: w.id,
            channel: w.channel,
            user: w.user,
            text,
            ts: w.ts,
            bot: w.bot,
            kind: w.kind,
            reply_to: w.reply_to,
            edited_at: w.edited_at,
            deleted: w.deleted,
            reactions: if w.deleted {
                BTreeMap::new()
            } else {
                w.reactions
            },
            mentions: w.mentions,
            card: if w.deleted { None } else { w.card },
        })
    }
}

/// What a post that is neither a person's nor the bot's is, so that clients
/// show it apart (`crate::bus::inbound` decides it for what arrives on the bus).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Posted by an operator on the bus (e.g. with `nats pub`).
    Operator,
    /// Posted by the system itself.
    System,
}

impl Kind {
    /// The kind as it is written on the wire and in the archive.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Operator => "operator",
            Kind::System => "system",
        }
    }

    /// The kind written as `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        [Kind::Operator, Kind::System]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

impl Message {
    /// A new message stamped now with a fresh id.
    pub fn new(
        channel: ChannelName,
        user: impl Into<String>,
        text: MessageText,
        bot: bool,
    ) -> Self {
        let id = next_id();
        let ts = DateTime::<Utc>::from_timestamp_millis(id.timestamp_ms() as i64)
            .unwrap_or_else(Utc::now);
        Self {
            id: id.to_string(),
            channel,
            user: user.into(),
            text,
            ts,
            bot,
            kind: None,
            reply_to: None,
            edited_at: None,
            deleted: false,
            reactions: BTreeMap::new(),
            mentions: Vec::new(),
            card: None,
        }
    }

    /// Takes the message back: its words are gone, a tombstone stays.
    pub fn erase(&mut self) {
        self.text = MessageText::erased();
        self.deleted = true;
        self.reactions.clear();
        self.card = None;
    }

    /// Puts (`on`) or takes back `user`'s reaction `emoji`.
    pub fn react(&mut self, emoji: &str, user: &str, on: bool) {
        let users = self.reactions.entry(emoji.to_owned()).or_default();
        let had = users.iter().position(|u| u == user);
        match (on, had) {
            (true, None) => users.push(user.to_owned()),
            (false, Some(i)) => {
                users.remove(i);
            }
            _ => {}
        }
        if users.is_empty() {
            self.reactions.remove(emoji);
        }
    }

    /// The message as JSON, as it travels (serialized once per message).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("messages are plain data")
    }

    /// Milliseconds since the Unix epoch, as stored.
    pub fn ts_millis(&self) -> i64 {
        self.ts.timestamp_millis()
    }
}

/// Timestamps on the wire: RFC 3339 in UTC with milliseconds (`2026-11-28T18:00:00.123Z`).
pub(crate) mod ts_millis {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ts: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&ts.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// The names written as `@name` in `text` that could be usernames, lower
/// case, each once, at most 20: `@` at the start or after anything but a
/// letter, digit or underscore (so an e-mail address mentions no one).
pub fn mention_candidates(text: &str) -> Vec<String> {
    const MAX: usize = 20;
    let mut out: Vec<String> = Vec::new();
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices('@') {
        let after_word = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if after_word {
            continue;
        }
        let name: String = text[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<String>()
            .to_ascii_lowercase();
        if (3..=32).contains(&name.len()) && !out.contains(&name) && out.len() < MAX {
            out.push(name);
        }
    }
    out
}

/// Optional timestamps, in the same form.
pub(crate) mod ts_millis_opt {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ts: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match ts {
            Some(ts) => ts_millis::serialize(ts, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let s = Option::<std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

/// A fresh id: a ULID, strictly increasing within this process even when
/// many are made in one millisecond, so one sender's messages stay in order.
pub fn next_id() -> ulid::Ulid {
    static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);
    let mut guard = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let generator = guard.get_or_insert_with(ulid::Generator::new);
    match generator.generate() {
        Ok(id) => id,
        Err(overflow) => overflow.commit_overflow_increment(),
    }
}

/// Whether `s` is a well-formed message id (a ULID in its canonical text form).
pub fn is_message_id(s: &str) -> bool {
    s.len() == 26 && ulid::Ulid::from_string(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_in_the_documented_shape() {
        let m = Message::new(
            ChannelName::general(),
            "alice",
            MessageText::parse("hello").unwrap(),
            false,
        );
        let v: serde_json::Value = serde_json::to_value(&m).unwrap();
        assert_eq!(v["channel"], "general");
        assert_eq!(v["user"], "alice");
        assert_eq!(v["text"], "hello");
        assert_eq!(v["bot"], false);
        assert!(v.get("kind").is_none(), "no kind for people and the bot");
        let ts = v["ts"].as_str().unwrap();
        assert!(ts.ends_with('Z') && ts.len() == 24, "{ts}");
        assert!(is_message_id(v["id"].as_str().unwrap()));
        let back: Message = serde_json::from_value(v).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn an_operator_or_system_post_says_so_and_v1_payloads_still_read() {
        let mut m = Message::new(
            ChannelName::general(),
            "ops",
            MessageText::parse("maintenance").unwrap(),
            true,
        );
        m.kind = Some(Kind::Operator);
        let v: serde_json::Value = serde_json::to_value(&m).unwrap();
        assert_eq!(v["kind"], "operator");
        assert_eq!(serde_json::from_value::<Message>(v).unwrap(), m);
        for kind in [Kind::Operator, Kind::System] {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("admin"), None);
        let v1 = r#"{"id":"01JD0000000000000000000000","channel":"general","user":"a","text":"t","ts":"2026-11-28T18:00:00.123Z"}"#;
        let read: Message = serde_json::from_str(v1).unwrap();
        assert_eq!((read.bot, read.kind), (false, None));
    }

    #[test]
    fn mentions_are_at_names_not_addresses() {
        assert_eq!(
            mention_candidates("@Bob and @carol_1, @bob again; mail me@home.org or @x"),
            ["bob", "carol_1"]
        );
        assert_eq!(mention_candidates("(@dave) @eve!"), ["dave", "eve"]);
        assert!(mention_candidates("no one").is_empty());
    }

    #[test]
    fn ids_are_time_ordered() {
        let text = MessageText::parse("x").unwrap();
        let a = Message::new(ChannelName::general(), "a", text.clone(), false);
        let b = Message::new(ChannelName::general(), "a", text, false);
        assert!(a.id < b.id);
        let ids: Vec<String> = (0..1000).map(|_| next_id().to_string()).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids made in one millisecond still increase"
        );
    }

    #[test]
    fn invalid_payloads_are_rejected() {
        for bad in [
            r#"{"id":"x","channel":"Bad Name","user":"a","text":"t","ts":"2026-11-28T18:00:00.123Z"}"#,
            r#"{"id":"x","channel":"general","user":"a","text":"   ","ts":"2026-11-28T18:00:00.123Z"}"#,
            r#"{"id":"x","channel":"general","user":"a","text":"t","ts":"yesterday"}"#,
        ] {
            assert!(serde_json::from_str::<Message>(bad).is_err(), "{bad}");
        }
    }
}
