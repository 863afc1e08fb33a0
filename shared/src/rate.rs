//! A fixed-window rate counter, used for message, login and command limits.

use std::time::{Duration, Instant};

/// A fixed-window counter: at most `count` events per `window`.
#[derive(Debug, Clone)]
pub struct RateWindow {
    count: u32,
    window: Duration,
    started: Instant,
    used: u32,
}

impl RateWindow {
    pub fn new(count: u32, window: Duration) -> Self {
        Self {
            count,
            window,
            started: Instant::now(),
            used: 0,
        }
    }

    /// Counts an event at `now`; false if over the limit.
    pub fn allow_at(&mut self, now: Instant) -> bool {
        if now.duration_since(self.started) >= self.window {
            self.started = now;
            self.used = 0;
        }
        if self.used < self.count {
            self.used += 1;
            true
        } else {
            false
        }
    }

    pub fn allow(&mut self) -> bool {
        self.allow_at(Instant::now())
    }

    /// Whether another event would be refused at `now`, and for how long.
    pub fn blocked_for(&self, now: Instant) -> Option<Duration> {
        let elapsed = now.duration_since(self.started);
        (elapsed < self.window && self.used >= self.count).then(|| self.window - elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_count_then_refuses_until_it_rolls_over() {
        let mut w = RateWindow::new(3, Duration::from_secs(10));
        let start = Instant::now();
        assert!((0..3).all(|_| w.allow_at(start)));
        assert!(!w.allow_at(start + Duration::from_secs(9)));
        assert!(w.allow_at(start + Duration::from_secs(10)));
    }
}
