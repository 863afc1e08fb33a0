//! A lock-free latency histogram: log-linear buckets of atomic counters, so
//! every connection task records into one shared histogram with a single
//! relaxed add, and a ramp can take a step's counts and start afresh.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

/// Values below this are counted exactly (microseconds).
const LINEAR: u64 = 64;
/// Sub-buckets per power of two above `LINEAR`: about 3 % resolution.
const SUB_BITS: u32 = 5;
const SUB: usize = 1 << SUB_BITS;
/// Powers of two above `LINEAR` (up to 2^46 µs, about two years).
const OCTAVES: usize = 40;
const BUCKETS: usize = LINEAR as usize + OCTAVES * SUB;

fn index(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros();
    let sub = ((v >> (exp - SUB_BITS)) as usize) & (SUB - 1);
    let octave = (exp - LINEAR.trailing_zeros()) as usize;
    (LINEAR as usize + octave * SUB + sub).min(BUCKETS - 1)
}

/// The middle of bucket `i`, the value reported for samples in it.
fn value(i: usize) -> u64 {
    if i < LINEAR as usize {
        return i as u64;
    }
    let octave = (i - LINEAR as usize) / SUB;
    let sub = ((i - LINEAR as usize) % SUB) as u64;
    let exp = octave as u32 + LINEAR.trailing_zeros();
    let width = 1u64 << (exp - SUB_BITS);
    (1u64 << exp) + sub * width + width / 2
}

/// Microsecond samples recorded concurrently.
pub struct Histogram {
    counts: Box<[AtomicU64]>,
    max: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    pub fn record(&self, micros: u64) {
        self.counts[index(micros)].fetch_add(1, Relaxed);
        self.max.fetch_max(micros, Relaxed);
    }

    /// The counts so far, leaving the histogram empty.
    pub fn take(&self) -> Snapshot {
        Snapshot {
            counts: self.counts.iter().map(|c| c.swap(0, Relaxed)).collect(),
            max: self.max.swap(0, Relaxed),
        }
    }
}

/// Counts taken from a `Histogram`; snapshots add up.
#[derive(Clone)]
pub struct Snapshot {
    counts: Vec<u64>,
    max: u64,
}

impl Default for Snapshot {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            max: 0,
        }
    }
}

/// Percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize)]
pub struct Summary {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Snapshot {
    pub fn add(&mut self, other: &Snapshot) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The value (µs) at quantile `q` (0..=1).
    pub fn quantile(&self, q: f64) -> u64 {
        let total = self.count();
        if total == 0 {
            return 0;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return value(i).min(self.max);
            }
        }
        self.max
    }

    pub fn summary(&self) -> Summary {
        let ms = |us: u64| us as f64 / 1000.0;
        Summary {
            count: self.count(),
            p50_ms: ms(self.quantile(0.50)),
            p90_ms: ms(self.quantile(0.90)),
            p99_ms: ms(self.quantile(0.99)),
            max_ms: ms(self.max),
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "n={} p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms",
            self.count, self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_within_a_few_percent_and_ordered() {
        let mut last = 0;
        for v in (0..2_000_000u64).step_by(997) {
            let i = index(v);
            assert!(i >= last, "bucket index never decreases");
            last = i;
            let err = (value(i) as f64 - v as f64).abs() / (v.max(1) as f64);
            assert!(err <= 0.035, "{v} reported as {}", value(i));
        }
    }

    #[test]
    fn percentiles_of_a_uniform_spread() {
        let h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record(v * 10);
        }
        let s = h.take().summary();
        assert_eq!(s.count, 10_000);
        assert!((s.p50_ms - 50.0).abs() < 2.0, "{s}");
        assert!((s.p99_ms - 99.0).abs() < 3.5, "{s}");
        assert_eq!(s.max_ms, 100.0);
        assert_eq!(h.take().count(), 0, "take empties the histogram");
    }
}
