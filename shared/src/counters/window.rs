//! Fixed-window counting: the rules, the bounded keys counters live under,
//! and the arithmetic both backends share.

use std::time::Duration;

use sha2::{Digest, Sha256};

/// At most `limit` events per `window`, for one kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Names the rule in every key it counts under (a NATS subject token).
    pub name: &'static str,
    pub limit: u32,
    pub window: Duration,
}

impl Rule {
    /// The key of this rule for `parts` (an address, an account, ...): the
    /// rule's name and a digest of the parts, so a key is short and a valid
    /// subject token whatever a client sent.
    pub fn key(&self, parts: &[&str]) -> Key {
        let mut digest = Sha256::new();
        for part in parts {
            digest.update(part.as_bytes());
            digest.update([0]);
        }
        let hex = hex::encode(digest.finalize());
        Key(format!("{}.{}", self.name, &hex[..32]))
    }
}

/// A duration in whole milliseconds, the unit windows are kept in.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Where one counter lives: `<rule>.<32 hex digits>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(String);

impl Key {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long until a refused event would be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds for a `Retry-After` header, at least 1.
    pub fn secs(&self) -> u64 {
        self.0.as_secs_f64().ceil().max(1.0) as u64
    }
}

/// What is done with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Would another event be allowed? Counts nothing.
    Check,
    /// Counts the event if it is allowed; refuses it (uncounted) otherwise.
    Hit,
    /// Counts the event, allowed or not (a failure that already happened).
    Record,
}

/// What a backend does after looking at a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Allowed; nothing to write.
    Keep,
    /// Allowed; store this.
    Write(Window),
    Refuse(RetryAfter),
}

/// One counter: events since `start_ms` (milliseconds on the backend's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    start_ms: u64,
    count: u32,
}

impl Window {
    /// What `op` does to the `stored` counter at `now_ms`: a window that has
    /// ended counts as a fresh one.
    pub fn step(stored: Option<Window>, op: Op, rule: &Rule, now_ms: u64) -> Step {
        let window_ms = millis(rule.window);
        let current = stored
            .filter(|w| now_ms.saturating_sub(w.start_ms) < window_ms)
            .unwrap_or(Window {
                start_ms: now_ms,
                count: 0,
            });
        let full = current.count >= rule.limit;
        let wait = || {
            let ends = current.start_ms.saturating_add(window_ms);
            RetryAfter(Duration::from_millis(ends.saturating_sub(now_ms)))
        };
        let counted = Window {
            count: current.count.saturating_add(1),
            ..current
        };
        match op {
            Op::Check | Op::Hit if full => Step::Refuse(wait()),
            Op::Check => Step::Keep,
            Op::Hit | Op::Record => Step::Write(counted),
        }
    }

    /// The stored form: `<start_ms>:<count>`.
    pub fn encode(&self) -> String {
        format!("{}:{}", self.start_ms, self.count)
    }

    pub fn decode(bytes: &[u8]) -> Option<Window> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (start, count) = text.split_once(':')?;
        Some(Window {
            start_ms: start.parse().ok()?,
            count: count.parse().ok()?,
        })
    }

    /// Whether the window is over at `now_ms` (its counter can be forgotten).
    pub fn ended(&self, rule_window: Duration, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.start_ms) >= millis(rule_window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: Rule = Rule {
        name: "test",
        limit: 2,
        window: Duration::from_secs(60),
    };

    fn written(step: Step) -> Window {
        match step {
            Step::Write(w) => w,
            other => panic!("expected a write, got {other:?}"),
        }
    }

    #[test]
    fn a_window_allows_the_limit_then_refuses_until_it_ends() {
        let first = written(Window::step(None, Op::Hit, &RULE, 1_000));
        let second = written(Window::step(Some(first), Op::Hit, &RULE, 2_000));
        assert_eq!(
            Window::step(Some(second), Op::Hit, &RULE, 31_000),
            Step::Refuse(RetryAfter(Duration::from_secs(30)))
        );
        assert!(matches!(
            Window::step(Some(second), Op::Check, &RULE, 31_000),
            Step::Refuse(_)
        ));
        assert_eq!(
            Window::step(Some(second), Op::Hit, &RULE, 61_000),
            Step::Write(Window {
                start_ms: 61_000,
                count: 1
            }),
            "a new window"
        );
    }

    #[test]
    fn check_counts_nothing_and_record_counts_past_the_limit() {
        assert_eq!(Window::step(None, Op::Check, &RULE, 5), Step::Keep);
        let mut w = None;
        for _ in 0..3 {
            w = Some(written(Window::step(w, Op::Record, &RULE, 5)));
        }
        assert_eq!(w.map(|w| w.count), Some(3));
    }

    #[test]
    fn keys_are_short_valid_tokens_whatever_the_input() {
        let long = "x".repeat(70_000);
        let key = RULE.key(&[&long, "1.2.3.4"]);
        assert_eq!(key.as_str().len(), "test.".len() + 32);
        assert!(key
            .as_str()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.'));
        assert_ne!(RULE.key(&["ab", "c"]), RULE.key(&["a", "bc"]));
    }

    #[test]
    fn windows_survive_their_stored_form_and_garbage_is_no_window() {
        let w = Window {
            start_ms: 1_764_000_000_000,
            count: 7,
        };
        assert_eq!(Window::decode(w.encode().as_bytes()), Some(w));
        assert_eq!(Window::decode(b"nonsense"), None);
        assert_eq!(RetryAfter(Duration::from_millis(1)).secs(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(1_500)).secs(), 2);
    }
}
