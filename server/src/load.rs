//! How busy the server is, told two ways.
//! - How long work waited: a frame a channel handed to a connection notes
//!   when (`clock_ms`), and the connection sees its age when it writes it; a
//!   post's sender sees how long the channel took to store and deliver it.
//!   Either past the wait limit means queues are deeper than the server can
//!   keep up with.
//! - How late threads wake: every thread that runs connections or channels
//!   wakes itself every `PROBE`; one late by more than the lag limit twice in
//!   a row has more ready work than it can do (once alone is a hiccup, such
//!   as a burst of a thousand handshakes, and passes by itself).
//!
//! After either (for `WAIT_HOLD` or `HOLD`), the server is overloaded: new sends are
//! refused with `overloaded` so the queues drain, and readers whose queues
//! grew only because the server was slow are not cut off for it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Milliseconds since the process first asked: a cheap clock that every
/// thread shares, to stamp frames with and compare.
pub fn clock_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// One frame in this many written has its age checked.
const SAMPLE: u32 = 16;
/// How often each thread checks its own lateness.
const PROBE: Duration = Duration::from_millis(20);
/// How long the server counts as overloaded after a late wake.
const HOLD: Duration = Duration::from_millis(500);
/// How long it counts as overloaded after work waited too long: short, since
/// every frame written tells again whether the queues are still deep, and
/// refusing for longer than they take to drain leaves the server idle.
const WAIT_HOLD: Duration = Duration::from_millis(150);

#[derive(Debug)]
pub struct Load {
    /// Lateness from which a thread counts as overloaded.
    lag_limit: Duration,
    /// How long (ms) work may wait in the server's queues.
    wait_limit_ms: u64,
    /// Until when (ms since `start`) the server counts as overloaded.
    busy_until_ms: AtomicU64,
    /// Times a late wake started (or extended) an overload, for `/metrics`.
    late_wakes: AtomicU64,
    /// Times work that waited too long did, for `/metrics`.
    long_waits: AtomicU64,
}

impl Load {
    pub fn new(lag_limit: Duration, wait_limit: Duration) -> Arc<Self> {
        Arc::new(Self {
            lag_limit,
            wait_limit_ms: wait_limit.as_millis() as u64,
            busy_until_ms: AtomicU64::new(0),
            late_wakes: AtomicU64::new(0),
            long_waits: AtomicU64::new(0),
        })
    }

    /// The shared clock (`clock_ms`).
    pub fn now_ms(&self) -> u64 {
        clock_ms()
    }

    /// Whether queues are backing up because the server is slow.
    pub fn overloaded(&self) -> bool {
        self.now_ms() < self.busy_until_ms.load(Ordering::Relaxed)
    }

    /// Late wakes so far.
    pub fn late_wakes(&self) -> u64 {
        self.late_wakes.load(Ordering::Relaxed)
    }

    /// Times work waited past the limit so far.
    pub fn long_waits(&self) -> u64 {
        self.long_waits.load(Ordering::Relaxed)
    }

    /// Work stamped at `since_ms` (`clock_ms`) is being done now: if it
    /// waited past the limit, the server is overloaded for a while.
    pub fn waited_since(&self, since_ms: u64) {
        let now = self.now_ms();
        if now.saturating_sub(since_ms) <= self.wait_limit_ms {
            return;
        }
        let hold = WAIT_HOLD.as_millis() as u64;
        // Every delivery may land here while the queues are deep: mark once
        // per quarter of the hold, not once per frame.
        if self.busy_until_ms.load(Ordering::Relaxed) + hold / 4 >= now + hold {
            return;
        }
        self.long_waits.fetch_add(1, Ordering::Relaxed);
        if self.busy_for(now, WAIT_HOLD) {
            tracing::info!(
                waited_ms = now - since_ms,
                "overloaded: work waits too long; refusing sends until the server catches up"
            );
        }
    }

    /// `waited_since` for one frame in `SAMPLE` of those this thread
    /// writes: reading the clock for every delivery costs more than the
    /// signal needs, and deep queues make every frame old, so a sample
    /// tells as soon. Whether this frame was one of the sample (so its
    /// caller may measure it too).
    pub fn frame_waited_since(&self, since_ms: u64) -> bool {
        thread_local! {
            static FRAMES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
        }
        let nth = FRAMES.with(|n| {
            let nth = n.get().wrapping_add(1);
            n.set(nth);
            nth
        });
        let sampled = nth.is_multiple_of(SAMPLE);
        if sampled {
            self.waited_since(since_ms);
        }
        sampled
    }

    /// Overloaded from `now_ms` for `hold` (or longer, if it already was);
    /// whether that starts an episode (it was not overloaded until now).
    fn busy_for(&self, now_ms: u64, hold: Duration) -> bool {
        let until = now_ms + hold.as_millis() as u64;
        self.busy_until_ms.fetch_max(until, Ordering::Relaxed) <= now_ms
    }

    /// Whether `late` is past the limit.
    fn is_late(&self, late: Duration) -> bool {
        late > self.lag_limit
    }

    /// A thread woke past the limit for the second time in a row (`late`
    /// the second time): the server is overloaded for a while.
    pub fn late_again(&self, late: Duration) {
        self.late_wakes.fetch_add(1, Ordering::Relaxed);
        if self.busy_for(self.now_ms(), HOLD) {
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
        let load = Load::new(Duration::from_millis(100), Duration::from_secs(1));
        assert!(!load.overloaded());
        assert!(!load.is_late(Duration::from_millis(90)), "within the limit");
        assert!(load.is_late(Duration::from_millis(150)));
        load.late_again(Duration::from_millis(150));
        assert!(load.overloaded());
        assert_eq!(load.late_wakes(), 1);
        std::thread::sleep(HOLD + Duration::from_millis(50));
        assert!(!load.overloaded(), "over once the hold has passed");
    }

    #[test]
    fn work_that_waited_too_long_overloads_the_server_for_a_while() {
        let load = Load::new(Duration::from_secs(1), Duration::from_millis(200));
        let now = clock_ms();
        load.waited_since(now);
        load.waited_since(now.saturating_sub(150));
        assert!(!load.overloaded(), "within the limit");
        std::thread::sleep(Duration::from_millis(250));
        load.waited_since(now);
        assert!(load.overloaded(), "waited 250 ms");
        assert_eq!(load.long_waits(), 1);
        load.waited_since(now);
        assert_eq!(load.long_waits(), 1, "marked once while the hold lasts");
        std::thread::sleep(WAIT_HOLD + Duration::from_millis(50));
        assert!(!load.overloaded(), "over once the hold has passed");
    }

    #[test]
    fn one_written_frame_in_a_sample_has_its_age_checked() {
        let load = Load::new(Duration::from_secs(1), Duration::from_millis(50));
        let old = clock_ms();
        std::thread::sleep(Duration::from_millis(100));
        let checked = (0..SAMPLE).find(|_| {
            let sampled = load.frame_waited_since(old);
            sampled && load.overloaded()
        });
        assert!(
            checked.is_some(),
            "one of {SAMPLE} frames in a row is checked"
        );
    }

    /// Keeps the current thread (and its timers) busy for `ms`.
    fn busy(ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    #[actix_rt::test]
    async fn one_stall_is_a_hiccup_and_a_thread_kept_busy_is_overloaded() {
        let load = Load::new(Duration::from_millis(50), Duration::from_secs(1));
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
