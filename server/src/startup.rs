//! Builds the server from its configuration, runs it, and stops it without
//! losing a message.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use actix::Actor;
use actix_web::cookie::Key;
use actix_web::web;
use anyhow::Context;
use chat_shared::bus::{Bus, BusKey, LocalBus, NatsBus};
use chat_shared::store::{PgStore, SqliteStore, Store};

use crate::abuse::{Abuse, Counters};
use crate::actors::channel::BusLink;
use crate::actors::registry::{CloseAll, Registry};
use crate::admin::AdminService;
use crate::config::Config;
use crate::durable::{Committer, Durability};
use crate::in_process::InProcess;
use crate::load::Load;
use crate::publisher::Publisher;
use crate::state::{AppState, Parts};
use chat_shared::counters::kv::KvCounters;

/// What a mode connects to: the store, the bus, the cookie key and where the
/// abuse counters live.
struct Connected {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    key: Key,
    counters: Counters,
}

/// Embedded mode: SQLite in the data dir, the in-process bus, a session key
/// kept next to the data, abuse counters in memory.
async fn embedded(config: &Config) -> anyhow::Result<Connected> {
    let db_path = config.database_path();
    crate::data_dir::prepare(&config.data_dir, &db_path)?;
    let open_path = db_path.clone();
    let store = web::block(move || SqliteStore::open(&open_path))
        .await?
        .with_context(|| format!("could not open {}", db_path.display()))?;
    let key = match &config.session_key {
        Some(k) => crate::session_key::parse(k)?,
        None => crate::session_key::load_or_create(&config.data_dir)?,
    };
    Ok(Connected {
        store: Arc::new(store),
        bus: Arc::new(LocalBus::new()),
        key,
        counters: Counters::in_memory(),
    })
}

/// Distributed mode: NATS and PostgreSQL, a session key shared by all
/// servers, and abuse counters in a JetStream bucket they share.
async fn distributed(config: &Config) -> anyhow::Result<Connected> {
    let (Some(nats_url), Some(db_url)) = (&config.nats.nats_url, &config.database_url) else {
        anyhow::bail!(
            "distributed mode needs both --nats-url (NATS_URL) and --database-url (DATABASE_URL)"
        );
    };
    if !db_url.starts_with("postgres://") && !db_url.starts_with("postgresql://") {
        anyhow::bail!("--database-url must be a postgres:// URL");
    }
    let Some(given) = &config.session_key else {
        anyhow::bail!(
            "CHAT_SESSION_KEY is required with NATS and PostgreSQL: the same key (at least 64 bytes, \
             e.g. from `openssl rand -hex 64`) on every server, so any server accepts any session"
        );
    };
    let key = crate::session_key::parse(given)?;
    let bus = NatsBus::connect(&config.nats.options(nats_url, "chat-server")).await?;
    let store = PgStore::connect(db_url, 16)
        .await
        .context("could not open the database")?;
    let kv = KvCounters::new(bus.client().clone(), Abuse::longest_window(&config.limits));
    Ok(Connected {
        store: Arc::new(store),
        bus: Arc::new(bus),
        key,
        counters: Counters::shared(kv),
    })
}

/// What the configured mode connects to.
async fn connect(config: &Config) -> anyhow::Result<Connected> {
    if config.is_embedded() {
        embedded(config).await
    } else {
        distributed(config).await
    }
}

/// Runs the server until it is stopped.
pub async fn run(config: Config) -> anyhow::Result<()> {
    tracing::info!(config = ?config.redacted(), "starting");
    let Connected {
        store,
        bus,
        key,
        counters,
    } = connect(&config).await?;
    // Every server of a deployment shares the session key, and so the key
    // that tells their messages from anyone else's on the bus.
    let bus_key = BusKey::derive(key.master());
    let in_process = match config.is_embedded() {
        true => Some(InProcess::start(&bus, &store, &config.quotes, &bus_key).await?),
        false => None,
    };
    let server_id: Arc<str> = Arc::from(format!("srv-{}", chat_shared::message::next_id()));
    let publisher = Publisher::start(bus.clone());
    let bus_rejected = Arc::new(AtomicU64::new(0));
    let link = BusLink {
        bus: bus.clone(),
        publisher: publisher.clone(),
        server_id: server_id.clone(),
        key: bus_key.clone(),
        rejected: bus_rejected.clone(),
        durability: durability(&config, &store, &bus),
    };
    let load = Load::new(config.limits.overload_lag(), config.limits.overload_wait());
    let channel_threads = channel_threads(config.limits.channel_threads(), &load);
    let registry = Registry::new(link)
        .rooms(config.limits.rooms())
        .arbiters(channel_threads.iter().map(actix::Arbiter::handle).collect())
        .start();
    let parts = Parts {
        store,
        bus,
        registry: registry.clone(),
        server_id: server_id.clone(),
        bus_key,
        bus_rejected,
        counters,
        load,
    };
    let state = web::Data::new(AppState::new(parts, &config));
    state.abuse.prepare().await;
    let admin = AdminService::start(state.clone(), config.is_embedded()).await?;
    let listeners = Listeners::start(state, key, &config)?;
    say_listening(&config, &server_id);
    chat_shared::process::shutdown_signal().await;

    // Shut down without losing a message: send clients elsewhere, stop taking
    // requests, hand every accepted message to the bus, then let an
    // in-process archiver store what it has.
    admin.stop();
    let closed = registry.send(CloseAll).await.unwrap_or(0);
    tracing::info!(connections = closed, "shutting down");
    listeners.stop().await;
    publisher.flush().await;
    if let Some(services) = in_process {
        services.stop().await;
    }
    for thread in channel_threads {
        thread.stop();
    }
    tracing::info!("stopped");
    Ok(())
}

/// Where members' messages become durable: the embedded database, or the stream.
fn durability(config: &Config, store: &Arc<dyn Store>, bus: &Arc<dyn Bus>) -> Durability {
    match config.is_embedded() {
        true => Durability::Database(Committer::start(store.clone()), bus.clone()),
        false => Durability::Stream(bus.clone()),
    }
}

/// The threads channels run on, one per core by default, each watching how
/// late it runs (`crate::load`).
fn channel_threads(count: usize, load: &Arc<Load>) -> Vec<actix::Arbiter> {
    (0..count)
        .map(|_| {
            let thread = actix::Arbiter::new();
            thread.spawn(load.clone().probe());
            thread
        })
        .collect()
}

/// The running HTTP servers: the main one, and the metrics listener if asked for.
struct Listeners {
    main: actix_web::dev::ServerHandle,
    running: actix_rt::task::JoinHandle<std::io::Result<()>>,
    metrics: Option<actix_web::dev::ServerHandle>,
}

impl Listeners {
    fn start(state: web::Data<AppState>, key: Key, config: &Config) -> anyhow::Result<Self> {
        let server = crate::app::serve(state.clone(), key, config)?;
        let metrics = match config.metrics_bind {
            Some(bind) => {
                let m = crate::app::serve_metrics(state, bind)?;
                let handle = m.handle();
                actix_rt::spawn(m);
                Some(handle)
            }
            None => None,
        };
        Ok(Self {
            main: server.handle(),
            running: actix_rt::spawn(server),
            metrics,
        })
    }

    /// Stops taking requests and waits for those in flight.
    async fn stop(self) {
        self.main.stop(true).await;
        let _ = self.running.await;
        if let Some(metrics) = self.metrics {
            metrics.stop(true).await;
        }
    }
}

fn say_listening(config: &Config, server_id: &str) {
    let address = format!("http://{}", config.bind);
    if config.is_embedded() {
        tracing::info!(
            mode = "embedded",
            address = %address,
            database = %config.database_path().display(),
            "chat server listening; bot and archiver running in-process"
        );
    } else {
        tracing::info!(
            mode = "distributed",
            address = %address,
            server = %server_id,
            "chat server listening; bot and archiver are separate processes"
        );
    }
}
