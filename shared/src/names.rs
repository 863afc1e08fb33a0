//! Validated names and texts: a value of these types is valid everywhere after the boundary.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a name or text was rejected; the message is shown to users as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidName(pub &'static str);

/// A username: `^[A-Za-z0-9_]{3,32}$`, unique case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

/// Names nobody may register (compared case-insensitively).
pub const RESERVED: &[&str] = &[
    "stockbot",
    "bot",
    "system",
    "admin",
    "administrator",
    "root",
    "ops",
    "operator",
    "moderator",
    "mod",
    "support",
    "staff",
    "server",
    "chat",
    "everyone",
    "here",
    "channel",
];

impl Username {
    pub fn parse(s: &str) -> Result<Self, InvalidName> {
        let ok_len = (3..=32).contains(&s.len());
        let ok_chars = s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if ok_len && ok_chars {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidName(
                "Usernames are 3 to 32 letters, digits or underscores.",
            ))
        }
    }

    /// The case-folded form under which uniqueness is checked.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// Whether the name is kept for the system, the bot, operators and
    /// mentions of everyone, so that nobody can sign up as one of them.
    pub fn is_reserved(&self) -> bool {
        RESERVED.contains(&self.key().as_str())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A channel name: `^[a-z0-9][a-z0-9_-]{1,49}$`, safe as a NATS subject token.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChannelName(String);

/// What separates the two people of a direct conversation's name
/// (`dm~alice~bob`): in no username and no channel name a person picks, and
/// safe in a NATS subject token and a URL path.
const DM_SEPARATOR: char = '~';

impl ChannelName {
    /// A channel name: one a person may pick (`ChannelName::parse_new`), or
    /// a direct conversation's (`ChannelName::dm`).
    pub fn parse(s: &str) -> Result<Self, InvalidName> {
        if Self::dm_people(s).is_some() {
            return Ok(Self(s.to_owned()));
        }
        Self::parse_new(s)
    }

    /// The name of the one conversation between `a` and `b` (in any case;
    /// the same whichever is first).
    pub fn dm(a: &Username, b: &Username) -> Self {
        let (mut a, mut b) = (a.key(), b.key());
        if b < a {
            std::mem::swap(&mut a, &mut b);
        }
        Self(format!("dm{DM_SEPARATOR}{a}{DM_SEPARATOR}{b}"))
    }

    /// Whether this is a direct conversation's name.
    pub fn is_dm(&self) -> bool {
        Self::dm_people(&self.0).is_some()
    }

    /// In a direct conversation's name, the person who is not `me`.
    pub fn dm_peer(&self, me: &str) -> Option<&str> {
        let (a, b) = Self::dm_people(&self.0)?;
        Some(if a.eq_ignore_ascii_case(me) { b } else { a })
    }

    /// The two lower-case usernames of `dm~a~b`, `a` before `b`.
    fn dm_people(s: &str) -> Option<(&str, &str)> {
        let rest = s.strip_prefix("dm")?.strip_prefix(DM_SEPARATOR)?;
        let (a, b) = rest.split_once(DM_SEPARATOR)?;
        let person = |p: &str| {
            (3..=32).contains(&p.len())
                && p.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        };
        (person(a) && person(b) && a < b).then_some((a, b))
    }

    /// A name a person may give a new channel:
    /// `^[a-z0-9][a-z0-9_-]{1,49}$`.
    pub fn parse_new(s: &str) -> Result<Self, InvalidName> {
        let b = s.as_bytes();
        let first_ok = b
            .first()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let rest_ok = b
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-');
        if first_ok && rest_ok && (2..=50).contains(&b.len()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidName(
                "Channel names are 2 to 50 lowercase letters, digits, '-' or '_', starting with a letter or digit.",
            ))
        }
    }

    /// The channel every installation has.
    pub fn general() -> Self {
        Self("general".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of a message: 1..=2000 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageText(String);

/// Why a message text was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidText {
    #[error("Messages can't be empty.")]
    Empty,
    #[error("Messages are at most {max} characters.", max = MessageText::MAX_CHARS)]
    TooLong,
}

impl MessageText {
    pub const MAX_CHARS: usize = 2000;

    /// The text as it is kept: control characters other than newline and
    /// tab, and bidirectional embedding/override/isolate controls, are
    /// removed (they could hide or reorder what others see), line breaks
    /// become `\n`, and the whole is trimmed.
    pub fn parse(s: &str) -> Result<Self, InvalidText> {
        let kept: String;
        let s = if s.chars().any(is_removed_from_text) || s.contains('\r') {
            kept = s
                .replace("\r\n", "\n")
                .replace('\r', "\n")
                .chars()
                .filter(|c| !is_removed_from_text(*c))
                .collect();
            kept.as_str()
        } else {
            s
        };
        let t = s.trim();
        if t.is_empty() {
            Err(InvalidText::Empty)
        } else if t.chars().count() > Self::MAX_CHARS {
            Err(InvalidText::TooLong)
        } else {
            Ok(Self(t.to_owned()))
        }
    }

    /// The empty text of a message taken back (never valid input).
    pub fn erased() -> Self {
        Self(String::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether message text loses this character: controls (but newline and
/// tab) and the bidirectional formatting controls.
fn is_removed_from_text(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

/// The bidirectional embedding, override and isolate controls (U+202A–202E,
/// U+2066–2069), which can make text display in another order than it is
/// stored ("Trojan Source").
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A password: 8..=128 characters. Never logged: `Debug` is redacted.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(s: &str) -> Result<Self, InvalidName> {
        if (8..=128).contains(&s.chars().count()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidName("Passwords are 8 to 128 characters."))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

macro_rules! string_newtype {
    ($t:ident, $err:ty) => {
        impl TryFrom<String> for $t {
            type Error = $err;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
string_newtype!(Username, InvalidName);
string_newtype!(ChannelName, InvalidName);
string_newtype!(MessageText, InvalidText);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_are_reserved_in_any_case_and_others_are_not() {
        for name in [
            "stockbot",
            "StockBot",
            "ADMIN",
            "system",
            "Moderator",
            "ops",
            "everyone",
        ] {
            assert!(Username::parse(name).unwrap().is_reserved(), "{name}");
        }
        for name in ["alice", "stockbot2", "admins", "opsy"] {
            assert!(!Username::parse(name).unwrap().is_reserved(), "{name}");
        }
    }

    #[test]
    fn usernames_follow_the_documented_pattern() {
        for ok in ["bob", "Alice_1", "a_b", &"x".repeat(32)] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ab",
            "has space",
            "émile",
            "a-b",
            &"x".repeat(33),
            "<script>",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn username_key_is_case_insensitive() {
        assert_eq!(
            Username::parse("Alice").unwrap().key(),
            Username::parse("aLICE").unwrap().key()
        );
    }

    #[test]
    fn channel_names_are_subject_safe() {
        for ok in ["general", "r2", "a-b_c", "9lives", &"x".repeat(50)] {
            assert!(ChannelName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "General",
            "-x",
            "_x",
            "a.b",
            "a b",
            "a*",
            "a>",
            &"x".repeat(51),
        ] {
            assert!(ChannelName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_direct_conversation_has_one_name_from_either_side_that_nobody_can_pick() {
        let (alice, bob) = (
            Username::parse("Alice").unwrap(),
            Username::parse("bob").unwrap(),
        );
        let name = ChannelName::dm(&alice, &bob);
        assert_eq!(name.as_str(), "dm~alice~bob");
        assert_eq!(ChannelName::dm(&bob, &alice), name);
        assert!(name.is_dm());
        assert_eq!(name.dm_peer("ALICE"), Some("bob"));
        assert_eq!(name.dm_peer("bob"), Some("alice"));
        assert_eq!(ChannelName::parse("dm~alice~bob"), Ok(name.clone()));
        assert!(ChannelName::parse_new("dm~alice~bob").is_err());
        for bad in [
            "dm~bob~alice",
            "dm~alice~alice",
            "dm~Alice~bob",
            "dm~al~bob",
            "dm~alice",
        ] {
            assert!(ChannelName::parse(bad).is_err(), "{bad}");
        }
        assert!(!ChannelName::general().is_dm());
    }

    #[test]
    fn message_text_is_trimmed_and_bounded_in_characters() {
        assert_eq!(MessageText::parse("  hi \n").unwrap().as_str(), "hi");
        assert_eq!(MessageText::parse(" \t\n"), Err(InvalidText::Empty));
        assert!(MessageText::parse(&"é".repeat(2000)).is_ok());
        assert_eq!(
            MessageText::parse(&"a".repeat(2001)),
            Err(InvalidText::TooLong)
        );
    }

    #[test]
    fn control_and_bidi_override_characters_are_removed_from_message_text() {
        let t = MessageText::parse("pay\u{1b}[31m \u{202e}olleh\u{202c} now\u{7}\u{0}").unwrap();
        assert_eq!(t.as_str(), "pay[31m olleh now");
        let t = MessageText::parse("line one\r\nline two\rthree\tcol\u{85}").unwrap();
        assert_eq!(t.as_str(), "line one\nline two\nthree\tcol");
        assert_eq!(
            MessageText::parse("\u{2066}\u{2069}\u{1}"),
            Err(InvalidText::Empty),
            "nothing left is an empty message"
        );
        let arabic = "مرحبا \u{200f}hello";
        assert_eq!(
            MessageText::parse(arabic).unwrap().as_str(),
            arabic,
            "right-to-left text and marks are kept"
        );
    }

    #[test]
    fn passwords_are_bounded_and_never_printed() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"p".repeat(129)).is_err());
        let p = Password::parse("correct horse").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn deserializing_checks_the_rules() {
        assert!(serde_json::from_str::<ChannelName>("\"general\"").is_ok());
        assert!(serde_json::from_str::<ChannelName>("\"a.b\"").is_err());
    }
}
