//! Failed logins counted per username and per address, so that guessing
//! passwords is slow; a success forgets the username's failures.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chat_shared::rate::RateWindow;

/// Failed login attempts by key (a username or an address).
#[derive(Debug)]
pub struct LoginLimiter {
    attempts: u32,
    window: Duration,
    keys: Mutex<HashMap<String, RateWindow>>,
}

impl LoginLimiter {
    pub fn new(attempts: u32, window: Duration) -> Self {
        Self {
            attempts,
            window,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait if any of `keys` is over the limit.
    pub fn retry_after(&self, keys: &[&str]) -> Option<u64> {
        let now = Instant::now();
        let map = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .filter_map(|k| map.get(*k).and_then(|w| w.blocked_for(now)))
            .max()
            .map(|d| d.as_secs().max(1))
    }

    /// Records a failed attempt for each of `keys`.
    pub fn failed(&self, keys: &[&str]) {
        let now = Instant::now();
        let mut map = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, w| w.blocked_for(now).is_some());
        }
        for k in keys {
            map.entry((*k).to_owned())
                .or_insert_with(|| RateWindow::new(self.attempts, self.window))
                .allow_at(now);
        }
    }

    /// Forgets the failures of `key` (after a successful login).
    pub fn succeeded(&self, key: &str) {
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_limiter_blocks_after_the_limit_and_forgets_on_success() {
        let l = LoginLimiter::new(2, Duration::from_secs(60));
        assert_eq!(l.retry_after(&["bob"]), None);
        l.failed(&["bob", "1.2.3.4"]);
        l.failed(&["bob", "1.2.3.4"]);
        let wait = l.retry_after(&["bob"]).unwrap();
        assert!((1..=60).contains(&wait));
        assert!(l.retry_after(&["1.2.3.4"]).is_some());
        assert_eq!(l.retry_after(&["alice"]), None);
        l.succeeded("bob");
        assert_eq!(l.retry_after(&["bob"]), None);
    }
}
