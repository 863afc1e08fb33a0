//! A connection's outbox, counted in bytes: what channels have handed to a
//! connection and it has not yet written to its socket's buffers. A channel
//! reserves a frame's bytes before sending it; the connection releases them
//! once written. A reader too slow to keep the outbox under its bound is
//! cut loose (close 1013) rather than allowed to hold the server's memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Debug)]
pub struct Outbox {
    pending: AtomicUsize,
    limit: usize,
}

impl Outbox {
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            pending: AtomicUsize::new(0),
            limit,
        })
    }

    /// Reserves room for a frame of `bytes`; false (and nothing reserved)
    /// when that would pass the bound.
    pub fn reserve(&self, bytes: usize) -> bool {
        let before = self.pending.fetch_add(bytes, Ordering::Relaxed);
        if before + bytes > self.limit {
            self.pending.fetch_sub(bytes, Ordering::Relaxed);
            return false;
        }
        true
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_in_bytes_and_released_bytes_make_room_again() {
        let outbox = Outbox::new(1000);
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
        let outbox = Outbox::new(1 << 20);
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
}
