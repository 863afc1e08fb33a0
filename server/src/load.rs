//! How busy the server is. Every thread that runs connections or channels
//! wakes itself every `PROBE` and notes how late it woke: a thread that is
//! late by more than the lag limit has more ready work than it can do at
//! once, so frames are waiting in queues. While any thread is that late
//! (and for `HOLD` after), the server is overloaded: new sends are refused
//! with `overloaded` so the queues drain, and readers whose queues grew only
//! because the server was slow are not cut off for it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often each thread checks its own lateness.
const PROBE: Duration = Duration::from_millis(20);
/// How long the server counts as overloaded after a late wake.
const HOLD: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub struct Load {
    start: Instant,
    /// Lateness from which a thread counts as overloaded.
    lag_limit: Duration,
    /// Until when (ms since `start`) the server counts as overloaded.
    busy_until_ms: AtomicU64,
    /// Times a late wake started (or extended) an overload, for `/metrics`.
    late_wakes: AtomicU64,
}

impl Load {
    pub fn new(lag_limit: Duration) -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            lag_limit,
            busy_until_ms: AtomicU64::new(0),
            late_wakes: AtomicU64::new(0),
        })
    }

    /// Milliseconds since the server started: a cheap clock to compare with.
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Whether queues are backing up because the server is slow.
    pub fn overloaded(&self) -> bool {
        self.now_ms() < self.busy_until_ms.load(Ordering::Relaxed)
    }

    /// Late wakes so far.
    pub fn late_wakes(&self) -> u64 {
        self.late_wakes.load(Ordering::Relaxed)
    }

    /// A thread woke `late`; past the limit, the server is overloaded for a while.
    pub fn woke(&self, late: Duration) {
        if late <= self.lag_limit {
            return;
        }
        let until = self.now_ms() + HOLD.as_millis() as u64;
        self.busy_until_ms.fetch_max(until, Ordering::Relaxed);
        self.late_wakes.fetch_add(1, Ordering::Relaxed);
    }

    /// The probe one thread runs for as long as it lives (spawn it there).
    pub async fn probe(self: Arc<Self>) {
        loop {
            let asked = Instant::now();
            actix_rt::time::sleep(PROBE).await;
            self.woke(asked.elapsed().saturating_sub(PROBE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_wake_past_the_limit_overloads_the_server_for_a_while() {
        let load = Load::new(Duration::from_millis(100));
        assert!(!load.overloaded());
        load.woke(Duration::from_millis(90));
        assert!(!load.overloaded(), "late, but within the limit");
        load.woke(Duration::from_millis(150));
        assert!(load.overloaded());
        assert_eq!(load.late_wakes(), 1);
        std::thread::sleep(HOLD + Duration::from_millis(50));
        assert!(!load.overloaded(), "over once the hold has passed");
    }

    #[actix_rt::test]
    async fn a_thread_kept_busy_is_seen_late() {
        let load = Load::new(Duration::from_millis(50));
        actix_rt::spawn(load.clone().probe());
        actix_rt::time::sleep(Duration::from_millis(30)).await;
        assert!(!load.overloaded(), "an idle thread wakes on time");
        // Hold the thread (and its timers) for 300 ms.
        std::thread::sleep(Duration::from_millis(300));
        actix_rt::time::sleep(Duration::from_millis(5)).await;
        assert!(load.overloaded(), "the probe saw itself late");
    }
}
