//! User-supplied strings as they may appear in a log: escaped and cut short,
//! so that nobody can forge a log line, send escape codes to an operator's
//! terminal, or flood the log through a name or a subject.

use std::fmt;

use crate::names::is_bidi_control;

/// Characters of user input shown in a log field, at most.
pub const MAX_CHARS: usize = 100;

/// `s` for a log field: control, bidirectional-formatting and other
/// invisible characters escaped (`\n`, `\u{1b}`, …), cut at `MAX_CHARS`
/// characters with a note of how many more there were.
pub fn shown(s: &str) -> Shown<'_> {
    Shown(s)
}

/// See `shown`.
pub struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars().take(MAX_CHARS) {
            if needs_escape(c) {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        let more = self.0.chars().count().saturating_sub(MAX_CHARS);
        if more > 0 {
            write!(f, "…(+{more} chars)")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// Whether a character could change how a log reads rather than what it says.
pub fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_escapes_and_bidi_controls_are_escaped() {
        let s = shown("bob\n2026 INFO forged\r\u{1b}[2J\u{202e}evil").to_string();
        assert_eq!(s, "bob\\n2026 INFO forged\\r\\u{1b}[2J\\u{202e}evil");
        assert!(!s.contains('\n') && !s.contains('\u{1b}'));
    }

    #[test]
    fn long_input_is_cut_with_a_count_of_the_rest() {
        let s = shown(&"é".repeat(130)).to_string();
        assert_eq!(s, format!("{}…(+30 chars)", "é".repeat(100)));
        assert_eq!(shown("alice").to_string(), "alice");
    }
}
