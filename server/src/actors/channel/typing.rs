//! Typing events merged per user: at most one per interval reaches the
//! members of a channel, whether it came from a local connection or from
//! another server, so a burst of typing frames fans out once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The interval when none is configured (`--typing-interval-secs`).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(3);
/// Users remembered past which those outside the interval are forgotten.
const PRUNE_ABOVE: usize = 1024;

pub struct TypingGate {
    interval: Duration,
    /// When each user's last typing event went through.
    last: HashMap<String, Instant>,
}

impl TypingGate {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: HashMap::new(),
        }
    }

    /// Whether a typing event of `user` at `now` goes through: true if the
    /// user's last one that did is at least the interval old.
    pub fn admit(&mut self, user: &str, now: Instant) -> bool {
        if self.last.len() > PRUNE_ABOVE {
            let interval = self.interval;
            self.last.retain(|_, at| now.duration_since(*at) < interval);
        }
        match self.last.get_mut(user) {
            Some(at) if now.duration_since(*at) < self.interval => false,
            Some(at) => {
                *at = now;
                true
            }
            None => {
                self.last.insert(user.to_owned(), now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_per_user_per_interval_goes_through() {
        let mut gate = TypingGate::new(Duration::from_secs(3));
        let t0 = Instant::now();
        assert!(gate.admit("alice", t0));
        assert!(!gate.admit("alice", t0 + Duration::from_millis(2_999)));
        assert!(gate.admit("bob", t0), "each user has their own");
        assert!(gate.admit("alice", t0 + Duration::from_secs(3)));
        assert!(!gate.admit("alice", t0 + Duration::from_secs(4)));
    }

    #[test]
    fn the_gate_forgets_users_long_quiet_once_it_holds_many() {
        let mut gate = TypingGate::new(Duration::from_secs(3));
        let t0 = Instant::now();
        for i in 0..=PRUNE_ABOVE {
            gate.admit(&format!("user{i}"), t0);
        }
        gate.admit("late", t0 + Duration::from_secs(10));
        assert_eq!(gate.last.len(), 1);
    }
}
