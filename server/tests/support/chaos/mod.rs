//! The chaos test's parts: clients that behave like the UI, the process
//! killer, and the final accounting.

pub mod check;
pub mod client;
pub mod control;
pub mod monkey;

use std::time::Duration;

/// A small seeded random generator (SplitMix64): a run's choices (whom to
/// kill, when, which server a client moves to) follow from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A duration in `lo..=hi`, to the millisecond.
    pub fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let span = hi.saturating_sub(lo).as_millis() as u64;
        lo + Duration::from_millis(self.below(span + 1))
    }

    /// An independent generator, e.g. for one client.
    pub fn fork(&mut self) -> Rng {
        Rng(self.next_u64())
    }
}
