//! Recent answers by key, so a popular code is fetched once per TTL.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Entries kept at most; expired ones go first when full.
const MAX_ENTRIES: usize = 10_000;

/// Answers by key, each kept for the TTL (a zero TTL keeps nothing).
pub struct TtlCache<V> {
    ttl: Duration,
    entries: HashMap<String, (Instant, V)>,
}

impl<V: Clone> TtlCache<V> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: HashMap::new(),
        }
    }

    pub fn get(&self, key: &str, now: Instant) -> Option<V> {
        self.entries
            .get(key)
            .filter(|(at, _)| now.duration_since(*at) < self.ttl)
            .map(|(_, answer)| answer.clone())
    }

    pub fn put(&mut self, key: &str, answer: &V, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        if self.entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            self.entries
                .retain(|_, (at, _)| now.duration_since(*at) < ttl);
            if self.entries.len() >= MAX_ENTRIES {
                self.entries.clear();
            }
        }
        self.entries.insert(key.to_owned(), (now, answer.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_live_for_the_ttl() {
        let start = Instant::now();
        let mut cache = TtlCache::new(Duration::from_secs(30));
        cache.put("aapl.us", &1, start);
        assert_eq!(
            cache.get("aapl.us", start + Duration::from_secs(29)),
            Some(1)
        );
        assert_eq!(cache.get("aapl.us", start + Duration::from_secs(30)), None);
        assert_eq!(cache.get("msft.us", start), None);
        let mut off = TtlCache::new(Duration::ZERO);
        off.put("aapl.us", &1, start);
        assert_eq!(off.get("aapl.us", start), None);
    }
}
