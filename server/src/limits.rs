//! Limits that keep one client from hurting others: per-connection message
//! rate and login attempts per username and per address.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use chat_shared::rate::Window;

/// The configurable limits of the chat.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest WebSocket frame accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Messages a connection may send per `rate_window`.
    pub rate_count: u32,
    pub rate_window: Duration,
    /// Channels one connection may join.
    pub max_channels: usize,
    /// Connections one user may hold on one server.
    pub max_connections_per_user: usize,
    /// Failed logins per username and per address per `login_window`.
    pub login_attempts: u32,
    pub login_window: Duration,
    /// Largest HTTP request body, in bytes.
    pub max_body_bytes: usize,
    /// How long a join waits for history.
    pub history_timeout: Duration,
    /// How often the server pings, and how long a silent peer is kept.
    pub heartbeat: Duration,
    pub client_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 16 * 1024,
            rate_count: 20,
            rate_window: Duration::from_secs(10),
            max_channels: 100,
            max_connections_per_user: 20,
            login_attempts: 10,
            login_window: Duration::from_secs(60),
            max_body_bytes: 64 * 1024,
            history_timeout: Duration::from_secs(5),
            heartbeat: Duration::from_secs(10),
            client_timeout: Duration::from_secs(30),
        }
    }
}

/// Failed login attempts by key (a username or an address).
#[derive(Debug)]
pub struct LoginLimiter {
    attempts: u32,
    window: Duration,
    keys: Mutex<HashMap<String, Window>>,
}

impl LoginLimiter {
    pub fn new(attempts: u32, window: Duration) -> Self {
        Self { attempts, window, keys: Mutex::new(HashMap::new()) }
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
                .or_insert_with(|| Window::new(self.attempts, self.window))
                .allow_at(now);
        }
    }

    /// Forgets the failures of `key` (after a successful login).
    pub fn succeeded(&self, key: &str) {
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
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
