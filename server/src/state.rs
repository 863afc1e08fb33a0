//! What every handler shares.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix::Addr;
use chat_shared::bus::Bus;
use chat_shared::store::Store;

use crate::actors::registry::Registry;
use crate::limits::{Limits, LoginLimiter};

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub registry: Addr<Registry>,
    pub server_id: Arc<str>,
    pub limits: Limits,
    /// Origins allowed to open WebSockets besides the server's own.
    pub allowed_origins: Vec<String>,
    pub login_limiter: LoginLimiter,
    pub bcrypt_cost: u32,
    pub metrics: Metrics,
    next_session: AtomicU64,
}

impl AppState {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        registry: Addr<Registry>,
        server_id: Arc<str>,
        limits: Limits,
        allowed_origins: Vec<String>,
        bcrypt_cost: u32,
    ) -> Self {
        Self {
            login_limiter: LoginLimiter::new(limits.login_attempts, limits.login_window()),
            store,
            bus,
            registry,
            server_id,
            limits,
            allowed_origins,
            bcrypt_cost,
            metrics: Metrics::default(),
            next_session: AtomicU64::new(1),
        }
    }

    pub fn next_session_id(&self) -> u64 {
        self.next_session.fetch_add(1, Ordering::Relaxed)
    }
}

/// Counters exported on `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub messages_sent: AtomicU64,
    pub connections_opened: AtomicU64,
    pub logins_failed: AtomicU64,
}
