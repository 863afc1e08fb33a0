//! NATS subject syntax and wildcard matching (any subject, not only the
//! chat's; those are named in `crate::subjects`): tokens separated by `.`, and
//! in subscriptions the wildcards `*` (one token) and `>` (the rest).

/// Whether `subject` is valid to publish on (no wildcards, no empty tokens).
pub fn is_valid_subject(subject: &str) -> bool {
    !subject.is_empty()
        && subject
            .split('.')
            .all(|t| !t.is_empty() && t != "*" && t != ">" && !t.contains(char::is_whitespace))
}

/// Whether `pattern` is valid to subscribe to.
pub fn is_valid_pattern(pattern: &str) -> bool {
    let tokens: Vec<&str> = pattern.split('.').collect();
    let last = tokens.len() - 1;
    !pattern.is_empty()
        && tokens.iter().enumerate().all(|(i, t)| {
            !t.is_empty()
                && !t.contains(char::is_whitespace)
                && (*t != ">" || i == last)
                && (!t.contains('*') || *t == "*")
                && (!t.contains('>') || *t == ">")
        })
}

/// Whether `subject` matches the subscription `pattern`.
pub fn matches(pattern: &str, subject: &str) -> bool {
    let mut subject_tokens = subject.split('.');
    for p in pattern.split('.') {
        match (p, subject_tokens.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (p, Some(s)) if p == s => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_subjects_match_only_themselves() {
        assert!(matches("chat.msg.general", "chat.msg.general"));
        assert!(!matches("chat.msg.general", "chat.msg.general2"));
        assert!(!matches("chat.msg.general", "chat.msg"));
        assert!(!matches("chat.msg", "chat.msg.general"));
    }

    #[test]
    fn star_matches_exactly_one_token() {
        assert!(matches("chat.history.*", "chat.history.general"));
        assert!(!matches("chat.history.*", "chat.history"));
        assert!(!matches("chat.history.*", "chat.history.a.b"));
        assert!(matches("chat.*.general", "chat.msg.general"));
    }

    #[test]
    fn gt_matches_one_or_more_trailing_tokens() {
        assert!(matches("chat.>", "chat.msg.general"));
        assert!(matches("chat.msg.>", "chat.msg.general"));
        assert!(!matches("chat.msg.>", "chat.msg"));
        assert!(matches(">", "anything.at.all"));
        assert!(!matches("chat.>", "other.msg"));
    }

    #[test]
    fn subject_and_pattern_syntax() {
        assert!(is_valid_subject("chat.msg.general"));
        for bad in ["", "chat..msg", "chat.*", "chat.>", ".chat", "chat.", "a b"] {
            assert!(!is_valid_subject(bad), "{bad}");
        }
        for ok in ["chat.>", "chat.*.x", ">", "*"] {
            assert!(is_valid_pattern(ok), "{ok}");
        }
        for bad in ["", "chat.>.x", "chat.a*", "chat..x", "chat.x>"] {
            assert!(!is_valid_pattern(bad), "{bad}");
        }
    }
}
