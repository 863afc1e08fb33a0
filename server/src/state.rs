//! What every handler shares.

use crate::quotes::QuoteBook;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use chat_shared::bus::{Bus, BusKey};
use chat_shared::store::Store;

use crate::abuse::{Abuse, Counters};
use crate::actors::registry::Registry;
use crate::actors::ConnId;
use crate::client_addr::TrustedProxy;
use crate::config::Config;
use crate::hash_gate::HashGate;
use crate::limits::Limits;
use crate::load::Load;
use crate::origin::OriginPolicy;
use crate::routes::health::MetricsAccess;

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub registry: Addr<Registry>,
    pub server_id: Arc<str>,
    /// Checks messages read back from the bus (`chat_shared::bus::inbound`).
    pub bus_key: BusKey,
    pub limits: Limits,
    /// Which pages may open WebSockets and change state with a visitor's cookie.
    pub origins: OriginPolicy,
    /// Proxies whose `X-Forwarded-For` is believed (`crate::client_addr`).
    pub trusted_proxies: Vec<TrustedProxy>,
    /// Failed logins, sign-ups and new channels, per address and per account.
    pub abuse: Abuse,
    /// bcrypt, a bounded number at a time.
    pub hashing: HashGate,
    /// How long a login session lasts from its start.
    pub session_lifetime: Duration,
    /// Messages from the bus dropped for breaking the rules (`bus::inbound`).
    pub bus_rejected: Arc<AtomicU64>,
    /// Who may read `/metrics`.
    pub metrics_access: MetricsAccess,
    /// Quotes asked of the bots lately (`crate::quotes`).
    pub quotes: QuoteBook,
    /// How busy the server is (`crate::load`).
    pub load: Arc<Load>,
    next_conn: AtomicU64,
}

/// What the server is made of, once connected: where it stores, how it
/// talks to other processes, its actors' registry, its id among servers,
/// where its abuse counters live, and the count its channels keep of
/// messages from the bus they refused.
pub struct Parts {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub registry: Addr<Registry>,
    pub server_id: Arc<str>,
    pub bus_key: BusKey,
    pub bus_rejected: Arc<AtomicU64>,
    pub counters: Counters,
    pub load: Arc<Load>,
}

impl AppState {
    pub fn new(parts: Parts, config: &Config) -> Self {
        chat_shared::telemetry::register(&crate::metrics::CATALOG);
        let limits = config.limits.clone();
        Self {
            abuse: Abuse::new(parts.counters, &limits),
            hashing: HashGate::new(
                config.bcrypt_cost,
                limits.hash_concurrency,
                limits.hash_queue,
            ),
            store: parts.store,
            bus: parts.bus,
            registry: parts.registry,
            server_id: parts.server_id,
            bus_key: parts.bus_key,
            limits,
            origins: OriginPolicy::new(&config.allowed_origins, config.behind_tls),
            trusted_proxies: config.trusted_proxies.clone(),
            session_lifetime: Duration::from_secs(config.session_lifetime_secs),
            bus_rejected: parts.bus_rejected,
            metrics_access: MetricsAccess::new(
                config.metrics_token.as_deref(),
                config.metrics_bind.is_some(),
            ),
            quotes: QuoteBook::new(Duration::from_secs(config.quotes.stock_cache_secs)),
            load: parts.load,
            next_conn: AtomicU64::new(1),
        }
    }

    /// A fresh id for a WebSocket connection.
    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }
}
