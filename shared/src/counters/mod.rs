//! Rate counters in fixed windows, for limits that must hold across every
//! process of a deployment: the servers' abuse limits (failed logins,
//! sign-ups, new channels) and the bot's per-user command limit.
//!
//! Where the counters live: this process's memory (embedded mode) or the
//! JetStream bucket every server and bot shares (distributed mode). A bucket
//! that does not answer lets everything through, with a warning: a NATS
//! hiccup must not make logging in impossible.

pub mod kv;
mod memory;
mod window;

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use kv::{KvCounters, KvError};
use memory::MemoryCounters;
pub use window::{Key, Op, RetryAfter, Rule};

/// At most one warning this often while the bucket is unreachable.
const WARN_EVERY: Duration = Duration::from_secs(10);

enum Backend {
    Memory(MemoryCounters),
    Shared(Box<KvCounters>),
}

pub struct Counters {
    backend: Backend,
    last_warning: Mutex<Option<Instant>>,
}

impl Counters {
    fn with(backend: Backend) -> Self {
        Self {
            backend,
            last_warning: Mutex::new(None),
        }
    }

    pub fn in_memory() -> Self {
        Self::with(Backend::Memory(MemoryCounters::default()))
    }

    pub fn shared(kv: KvCounters) -> Self {
        Self::with(Backend::Shared(Box::new(kv)))
    }

    /// Opens the shared bucket now rather than on first use, so a problem
    /// shows at start (it is only a warning: the process runs without it).
    /// Gives a connection still being made a moment to come up first.
    pub async fn prepare(&self) {
        if let Backend::Shared(kv) = &self.backend {
            kv.await_connection().await;
            match kv.store().await {
                Ok(_) => tracing::info!(bucket = kv::BUCKET, "limits shared"),
                Err(e) => self.warn(&e),
            }
        }
    }

    /// Applies `op` to the counter at `key`: `Err` when the event is refused.
    pub async fn apply(&self, rule: &Rule, key: &Key, op: Op) -> Result<(), RetryAfter> {
        match &self.backend {
            Backend::Memory(m) => m.apply(key, rule, op),
            Backend::Shared(kv) => kv.apply(key, rule, op).await.unwrap_or_else(|e| {
                self.warn(&e);
                Ok(())
            }),
        }
    }

    /// Forgets the counter at `key`.
    pub async fn clear(&self, key: &Key) {
        match &self.backend {
            Backend::Memory(m) => m.clear(key),
            Backend::Shared(kv) => {
                if let Err(e) = kv.clear(key).await {
                    self.warn(&e);
                }
            }
        }
    }

    fn warn(&self, e: &KvError) {
        let mut last = self
            .last_warning
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            *last = Some(Instant::now());
            tracing::warn!(error = %e, "shared limits unavailable; letting requests through");
        }
    }
}
