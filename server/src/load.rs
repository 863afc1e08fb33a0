//! How busy the server is. Every thread that runs connections or channels
//! wakes itself every `PROBE` and notes how late it woke: a thread that is
//! late by more than the lag limit twice in a row has more ready work than
//! it can do, so frames are waiting in queues (once alone is a hiccup, such
//! as a burst of a thousand handshakes, and passes by itself). While any
//! thread is that late (and for `HOLD` after), the server is overloaded: new
//! sends are refused with `overloaded` so the queues drain, and readers whose
//! queues grew only because the server was slow are not cut off for it.

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

    /// Whether `late` is past the limit.
    fn is_late(&self, late: Duration) -> bool {
        late > self.lag_limit
    }

    /// A thread woke past the limit for the second time in a row (`late`
    /// the second time): the server is overloaded for a while.
    pub fn late_again(&self, late: Duration) {
        let now = self.now_ms();
        let was = self
            .busy_until_ms
            .fetch_max(now + HOLD.as_millis() as u64, Ordering::Relaxed);
        self.late_wakes.fetch_add(1, Ordering::Relaxed);
        if was <= now {
            tracing::info!(
                late_ms = late.as_millis() as u64,
                "overloaded: refusing sends until the server catches up"
            );
        }
    }

    /// The probe one thread runs for as long as it lives (spawn it there).
    pub async fn probe(self: Arc<Self>) {
        let mut late_before = false;
        loop {
            let asked = Instant::now();
            actix_rt::time::sleep(PROBE).await;
            let late = asked.elapsed().saturating_sub(PROBE);
            let now_late = self.is_late(late);
            if now_late && late_before {
                self.late_again(late);
            }
            late_before = now_late;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn being_late_again_overloads_the_server_for_a_while() {
        let load = Load::new(Duration::from_millis(100));
        assert!(!load.overloaded());
        assert!(!load.is_late(Duration::from_millis(90)), "within the limit");
        assert!(load.is_late(Duration::from_millis(150)));
        load.late_again(Duration::from_millis(150));
        assert!(load.overloaded());
        assert_eq!(load.late_wakes(), 1);
        std::thread::sleep(HOLD + Duration::from_millis(50));
        assert!(!load.overloaded(), "over once the hold has passed");
    }

    /// Keeps the current thread (and its timers) busy for `ms`.
    fn busy(ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    #[actix_rt::test]
    async fn one_stall_is_a_hiccup_and_a_thread_kept_busy_is_overloaded() {
        let load = Load::new(Duration::from_millis(50));
        actix_rt::spawn(load.clone().probe());
        actix_rt::time::sleep(Duration::from_millis(30)).await;
        assert!(!load.overloaded(), "an idle thread wakes on time");
        busy(300);
        actix_rt::time::sleep(Duration::from_millis(60)).await;
        assert!(!load.overloaded(), "late once, then on time: a hiccup");
        // Busy at every turn, as when work arrives faster than it is done.
        for _ in 0..4 {
            busy(120);
            actix_rt::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(load.overloaded(), "late turn after turn");
    }
}
