//! Recent answers per stock code, so a popular code is fetched once per TTL.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::quote::{Quote, QuoteError};

/// Entries kept at most; expired ones go first when full.
const MAX_ENTRIES: usize = 10_000;

/// Quotes and "no such symbol" answers by code. Service failures are never
/// cached, so the next command tries again.
pub struct QuoteCache {
    ttl: Duration,
    entries: HashMap<String, (Instant, Result<Quote, QuoteError>)>,
}

impl QuoteCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: HashMap::new(),
        }
    }

    pub fn get(&self, code: &str, now: Instant) -> Option<Result<Quote, QuoteError>> {
        self.entries
            .get(code)
            .filter(|(at, _)| now.duration_since(*at) < self.ttl)
            .map(|(_, answer)| answer.clone())
    }

    pub fn put(&mut self, code: &str, answer: &Result<Quote, QuoteError>, now: Instant) {
        if self.ttl.is_zero() || matches!(answer, Err(QuoteError::Unavailable(_))) {
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
        self.entries.insert(code.to_owned(), (now, answer.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote() -> Result<Quote, QuoteError> {
        Ok(Quote {
            symbol: "AAPL.US".into(),
            close: "93.42".into(),
        })
    }

    #[test]
    fn answers_live_for_the_ttl_and_failures_are_not_kept() {
        let start = Instant::now();
        let mut cache = QuoteCache::new(Duration::from_secs(30));
        cache.put("aapl.us", &quote(), start);
        cache.put("down.us", &Err(QuoteError::Unavailable("x".into())), start);
        cache.put(
            "zzzz.us",
            &Err(QuoteError::NotFound("ZZZZ.US".into())),
            start,
        );
        assert_eq!(
            cache.get("aapl.us", start + Duration::from_secs(29)),
            Some(quote())
        );
        assert!(cache
            .get("aapl.us", start + Duration::from_secs(30))
            .is_none());
        assert!(cache.get("down.us", start).is_none());
        assert!(matches!(
            cache.get("zzzz.us", start),
            Some(Err(QuoteError::NotFound(_)))
        ));
    }
}
