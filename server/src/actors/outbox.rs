//! A connection's outbox, counted in bytes: what channels have handed to a
//! connection and it has not yet written to its socket's buffers. A channel
//! reserves a frame's bytes before sending it; the connection releases them
//! once written. A reader too slow to keep the outbox under its bound is
//! cut loose (close 1013) rather than allowed to hold the server's memory;
//! but while the server itself is overloaded (`crate::load`), a reader that
//! is still writing (it gave room back lately) may run up to `OVERDRAFT`
//! times the bound: its queue grew because the server was slow, not it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::load::Load;

/// How many times its bound an outbox may hold while the server is overloaded.
pub const OVERDRAFT: usize = 4;
/// A connection that gave no room back for this long is not writing.
const STALLED_MS: u64 = 2000;

#[derive(Debug)]
pub struct Outbox {
    pending: AtomicUsize,
    limit: usize,
    /// When the connection last gave room back (`Load::now_ms`).
    released_at_ms: AtomicU64,
    load: Arc<Load>,
}

impl Outbox {
    pub fn new(limit: usize, load: Arc<Load>) -> Arc<Self> {
        Arc::new(Self {
            pending: AtomicUsize::new(0),
            limit,
            released_at_ms: AtomicU64::new(load.now_ms()),
            load,
        })
    }

    /// Reserves room for a frame of `bytes`; false (and nothing reserved)
    /// when that would pass the bound (or, while the server is overloaded
    /// and this connection still writes, the overdraft).
    pub fn reserve(&self, bytes: usize) -> bool {
        let after = self.pending.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if after <= self.limit || (after <= self.limit.saturating_mul(OVERDRAFT) && self.excused())
        {
            return true;
        }
        self.pending.fetch_sub(bytes, Ordering::Relaxed);
        false
    }

    /// Over its bound because the server is slow, not the reader: the
    /// server is overloaded and the connection gave room back lately.
    fn excused(&self) -> bool {
        let now = self.load.now_ms();
        let released = self.released_at_ms.load(Ordering::Relaxed);
        self.load.overloaded() && now.saturating_sub(released) <= STALLED_MS
    }

    /// Gives back the room of a frame that was written (or dropped).
    pub fn release(&self, bytes: usize) {
        self.pending.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Bytes reserved and not yet released.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }
}

/// Bytes a connection writes before it gives their room back, at most.
pub const RELEASE_BATCH: usize = 16 * 1024;

/// The connection's side of its outbox: written frames give their room back
/// in batches, so that the counter the channels update on every frame is not
/// also written by another thread on every frame. The outbox may count up to
/// `RELEASE_BATCH` bytes too many: a slow reader is cut that much earlier.
#[derive(Debug)]
pub struct Releaser {
    outbox: Arc<Outbox>,
    written: usize,
}

impl Releaser {
    pub fn new(outbox: Arc<Outbox>) -> Self {
        Self { outbox, written: 0 }
    }

    /// The outbox itself, for channels to reserve in.
    pub fn outbox(&self) -> &Arc<Outbox> {
        &self.outbox
    }

    /// A frame of `bytes` was written.
    pub fn written(&mut self, bytes: usize) {
        self.written += bytes;
        if self.written >= RELEASE_BATCH {
            self.outbox.release(self.written);
            self.written = 0;
            let now = self.outbox.load.now_ms();
            self.outbox.released_at_ms.store(now, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Duration;

    fn load() -> Arc<Load> {
        Load::new(Duration::from_millis(100), Duration::from_secs(1))
    }

    #[test]
    fn the_bound_is_in_bytes_and_released_bytes_make_room_again() {
        let outbox = Outbox::new(1000, load());
        assert!(outbox.reserve(600));
        assert!(outbox.reserve(400));
        assert!(!outbox.reserve(1), "full to the byte");
        assert_eq!(outbox.pending(), 1000, "a refused frame reserves nothing");
        outbox.release(600);
        assert!(outbox.reserve(500));
        assert_eq!(outbox.pending(), 900);
    }

    #[test]
    fn written_frames_give_their_room_back_in_batches() {
        let outbox = Outbox::new(1 << 20, load());
        let mut releaser = Releaser::new(outbox.clone());
        for _ in 0..3 {
            assert!(outbox.reserve(RELEASE_BATCH / 4));
        }
        for _ in 0..3 {
            releaser.written(RELEASE_BATCH / 4);
        }
        assert_eq!(
            outbox.pending(),
            3 * RELEASE_BATCH / 4,
            "not yet given back"
        );
        assert!(outbox.reserve(RELEASE_BATCH / 4));
        releaser.written(RELEASE_BATCH / 4);
        assert_eq!(outbox.pending(), 0, "a whole batch is given back at once");
    }

    #[test]
    fn while_the_server_is_overloaded_a_reader_still_writing_may_run_over_its_bound() {
        let load = load();
        let outbox = Outbox::new(RELEASE_BATCH, load.clone());
        let mut releaser = Releaser::new(outbox.clone());
        assert!(outbox.reserve(RELEASE_BATCH));
        assert!(!outbox.reserve(1), "not overloaded: the bound holds");
        load.late_again(Duration::from_millis(500));
        assert!(
            outbox.reserve(RELEASE_BATCH),
            "overloaded, and it wrote lately"
        );
        assert!(
            !outbox.reserve(3 * RELEASE_BATCH),
            "never past the overdraft"
        );
        releaser.written(RELEASE_BATCH);
        assert_eq!(outbox.pending(), RELEASE_BATCH);
    }

    #[test]
    fn a_reader_that_stopped_writing_gets_no_overdraft() {
        let load = load();
        let outbox = Outbox::new(1000, load.clone());
        outbox.released_at_ms.store(0, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(STALLED_MS + 100));
        load.late_again(Duration::from_millis(500));
        assert!(outbox.reserve(1000));
        assert!(!outbox.reserve(1), "overloaded, but it is not writing");
    }
}
