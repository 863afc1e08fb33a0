//! The de-duplication keys (or ids) of the messages a channel delivered
//! lately, so that a message arriving twice (a client's retry reaching
//! another server, a republished payload) reaches the members once.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

/// How many keys are remembered.
const REMEMBERED: usize = 4096;

#[derive(Debug, Default)]
pub struct Recent {
    order: VecDeque<Arc<str>>,
    seen: HashSet<Arc<str>>,
}

impl Recent {
    /// Remembers `key`; false if it was delivered lately already.
    pub fn first_time(&mut self, key: &str) -> bool {
        if self.seen.contains(key) {
            return false;
        }
        let key: Arc<str> = Arc::from(key);
        self.seen.insert(key.clone());
        self.order.push_back(key);
        if self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_counts_once_until_it_is_forgotten() {
        let mut r = Recent::default();
        assert!(r.first_time("alice/r-1"));
        assert!(!r.first_time("alice/r-1"));
        for i in 0..REMEMBERED {
            assert!(r.first_time(&format!("k{i}")));
        }
        assert!(r.first_time("alice/r-1"), "the oldest is forgotten");
    }
}
