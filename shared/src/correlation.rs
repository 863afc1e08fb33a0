//! Correlation ids: the tokens that tie together the log lines of one HTTP
//! request, or of one bot command across the server and the bot. They come
//! from outside (a proxy's `X-Request-Id`, a NATS header), so only short,
//! plain tokens are taken as they are; anything else is replaced.

use std::fmt;

/// Characters an id may have, at most.
pub const MAX_LEN: usize = 128;

/// A short token of ASCII letters, digits and `-_.:/`: safe in a header, a
/// log line and a shell command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationId(Box<str>);

impl CorrelationId {
    /// `s` as an id, if it is one: 1 to `MAX_LEN` token characters.
    pub fn parse(s: &str) -> Option<Self> {
        is_token(s, MAX_LEN).then(|| Self(s.into()))
    }

    /// A fresh id, unique across processes (a ULID).
    pub fn generate() -> Self {
        Self(crate::message::next_id().to_string().into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `s` is 1 to `max` token characters (see `CorrelationId`).
pub fn is_token(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_short_tokens_are_ids() {
        for ok in [
            "a",
            "req-42",
            "7f3e_1.2:x/y",
            "01JEXAMPLE",
            &"x".repeat(MAX_LEN),
        ] {
            assert_eq!(
                CorrelationId::parse(ok).map(|id| id.to_string()),
                Some(ok.to_owned())
            );
        }
    }

    #[test]
    fn anything_else_is_refused() {
        let long = "x".repeat(MAX_LEN + 1);
        for bad in [
            "",
            " ",
            "a b",
            "a\nb",
            "a\u{1b}[31m",
            "a\"b",
            "a,b",
            "é",
            "a\u{202e}b",
            "{}",
            &long,
        ] {
            assert_eq!(CorrelationId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn generated_ids_are_tokens_and_differ() {
        let (a, b) = (CorrelationId::generate(), CorrelationId::generate());
        assert_ne!(a, b);
        assert_eq!(CorrelationId::parse(a.as_str()), Some(a.clone()));
    }
}
