//! Counters in this process's memory: embedded mode, where this process is
//! the only server.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::window::{self, Key, Op, RetryAfter, Rule, Step, Window};

/// Counters past which those of ended windows are dropped.
const PRUNE_ABOVE: usize = 100_000;

#[derive(Debug)]
pub struct MemoryCounters {
    /// The clock's zero: windows count milliseconds since.
    epoch: Instant,
    /// Each counter with its rule's window (for pruning).
    windows: Mutex<HashMap<Key, (Window, Duration)>>,
}

impl Default for MemoryCounters {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            windows: Mutex::new(HashMap::new()),
        }
    }
}

impl MemoryCounters {
    fn now_ms(&self) -> u64 {
        window::millis(self.epoch.elapsed())
    }

    pub fn apply(&self, key: &Key, rule: &Rule, op: Op) -> Result<(), RetryAfter> {
        let now = self.now_ms();
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, (w, window)| !w.ended(*window, now));
        }
        let stored = windows.get(key).map(|(w, _)| *w);
        match Window::step(stored, op, rule, now) {
            Step::Keep => Ok(()),
            Step::Write(w) => {
                windows.insert(key.clone(), (w, rule.window));
                Ok(())
            }
            Step::Refuse(wait) => Err(wait),
        }
    }

    pub fn clear(&self, key: &Key) {
        self.windows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_block_after_the_limit_and_a_cleared_key_starts_over() {
        let rule = Rule {
            name: "login",
            limit: 2,
            window: Duration::from_secs(60),
        };
        let counters = MemoryCounters::default();
        let (bob, elsewhere) = (rule.key(&["bob", "1.2.3.4"]), rule.key(&["bob", "5.6.7.8"]));
        assert_eq!(counters.apply(&bob, &rule, Op::Check), Ok(()));
        counters.apply(&bob, &rule, Op::Record).unwrap();
        counters.apply(&bob, &rule, Op::Record).unwrap();
        let wait = counters.apply(&bob, &rule, Op::Check).unwrap_err();
        assert!((1..=60).contains(&wait.secs()), "{wait:?}");
        assert_eq!(counters.apply(&elsewhere, &rule, Op::Check), Ok(()));
        counters.clear(&bob);
        assert_eq!(counters.apply(&bob, &rule, Op::Check), Ok(()));
    }
}
