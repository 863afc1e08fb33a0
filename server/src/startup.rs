//! Builds the server from its configuration and runs it.

use std::sync::Arc;
use std::time::Duration;

use actix::Actor;
use actix_session::config::PersistentSession;
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::middleware::{DefaultHeaders, Logger};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use chat_archiver::{Archiver, ArchiverConfig};
use chat_bot::responder::Policy;
use chat_bot::{Bot, BotConfig};
use chat_shared::bus::{Bus, LocalBus, NatsBus};
use chat_shared::store::{PgStore, SqliteStore, Store};

use crate::actors::channel::ChannelDeps;
use crate::actors::registry::{CloseAll, Registry};
use crate::config::Config;
use crate::publisher::Publisher;
use crate::routes;
use crate::state::AppState;

/// The Content-Security-Policy of every response: only this origin's own files.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// What runs inside the server process besides the server (embedded mode).
struct InProcess {
    stop_archiver: tokio::sync::oneshot::Sender<()>,
    archiver: tokio::task::JoinHandle<()>,
}

impl InProcess {
    /// Starts the archiver and the bot on the in-process bus.
    async fn start(
        bus: &Arc<dyn Bus>,
        store: &Arc<dyn Store>,
        config: &Config,
    ) -> anyhow::Result<Self> {
        let archiver =
            Archiver::in_process(bus.clone(), store.clone(), ArchiverConfig::default()).await?;
        let (stop_archiver, stopped) = tokio::sync::oneshot::channel::<()>();
        let archiver = tokio::spawn(archiver.run(async move {
            let _ = stopped.await;
        }));
        let policy = Policy {
            timeout: Duration::from_secs(config.stock_timeout_secs),
            cache_ttl: Duration::from_secs(config.stock_cache_secs),
            ..Policy::default()
        };
        let bot_config = BotConfig {
            stock_api_url: config.stock_api_url.clone(),
            policy,
        };
        let bot = Bot::subscribe(bus.clone(), bot_config).await?;
        actix_rt::spawn(bot.run(std::future::pending()));
        Ok(Self {
            stop_archiver,
            archiver,
        })
    }

    /// Lets the archiver store everything it has received.
    async fn stop(self) {
        let _ = self.stop_archiver.send(());
        if tokio::time::timeout(Duration::from_secs(10), self.archiver)
            .await
            .is_err()
        {
            tracing::error!("archiver did not finish in time");
        }
    }
}

/// Embedded mode: SQLite in the data dir, the in-process bus, a session key
/// kept next to the data.
async fn embedded(config: &Config) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn Bus>, Key)> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "could not create the data dir {}",
            config.data_dir.display()
        )
    })?;
    let db_path = config.data_dir.join("chat.db");
    let open_path = db_path.clone();
    let store = web::block(move || SqliteStore::open(&open_path))
        .await?
        .with_context(|| format!("could not open {}", db_path.display()))?;
    let key = match &config.session_key {
        Some(k) => crate::session_key::parse(k)?,
        None => crate::session_key::load_or_create(&config.data_dir)?,
    };
    Ok((Arc::new(store), Arc::new(LocalBus::new()), key))
}

/// Distributed mode: NATS and PostgreSQL, and a session key shared by all servers.
async fn distributed(config: &Config) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn Bus>, Key)> {
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
    Ok((Arc::new(store), Arc::new(bus), key))
}

/// Runs the server until it is stopped.
pub async fn run(config: Config) -> anyhow::Result<()> {
    tracing::info!(config = ?config.redacted(), "starting");
    let embedded_mode = config.is_embedded();
    let (store, bus, key) = if embedded_mode {
        embedded(&config).await?
    } else {
        distributed(&config).await?
    };
    let in_process = if embedded_mode {
        Some(InProcess::start(&bus, &store, &config).await?)
    } else {
        None
    };

    let server_id: Arc<str> = Arc::from(format!("srv-{}", chat_shared::message::next_id()));
    let publisher = Publisher::start(bus.clone());
    let deps = ChannelDeps {
        bus: bus.clone(),
        publisher: publisher.clone(),
        server_id: server_id.clone(),
    };
    let registry = Registry::new(deps).start();
    let state = web::Data::new(AppState::new(
        store,
        bus,
        registry.clone(),
        server_id.clone(),
        config.limits.clone(),
        config.allowed_origins.clone(),
        config.bcrypt_cost,
    ));

    let server = serve(state, key, &config)?;
    if embedded_mode {
        tracing::info!(
            mode = "embedded",
            address = %format!("http://{}", config.bind),
            database = %config.data_dir.join("chat.db").display(),
            "chat server listening; bot and archiver running in-process"
        );
    } else {
        tracing::info!(
            mode = "distributed",
            address = %format!("http://{}", config.bind),
            server = %server_id,
            "chat server listening; bot and archiver are separate processes"
        );
    }
    let handle = server.handle();
    let running = actix_rt::spawn(server);
    chat_shared::process::shutdown_signal().await;

    // Shut down without losing a message: send clients elsewhere, stop taking
    // requests, hand every accepted message to the bus, then let an
    // in-process archiver store what it has.
    let closed = registry.send(CloseAll).await.unwrap_or(0);
    tracing::info!(connections = closed, "shutting down");
    handle.stop(true).await;
    let _ = running.await;
    publisher.flush().await;
    if let Some(services) = in_process {
        services.stop().await;
    }
    tracing::info!("stopped");
    Ok(())
}

fn serve(
    state: web::Data<AppState>,
    key: Key,
    config: &Config,
) -> anyhow::Result<actix_web::dev::Server> {
    let secure = config.behind_tls;
    let max_body = state.limits.max_body_bytes;
    let send_buffer = state.limits.socket_send_buffer;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(max_body)
                    .error_handler(routes::json_error),
            )
            .app_data(web::PayloadConfig::default().limit(max_body))
            .app_data(web::QueryConfig::default().error_handler(routes::query_error))
            .app_data(web::PathConfig::default().error_handler(routes::path_error))
            .wrap(
                SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                    .cookie_name("chat_session".to_owned())
                    .cookie_secure(secure)
                    .cookie_http_only(true)
                    .cookie_same_site(SameSite::Lax)
                    .session_lifecycle(
                        PersistentSession::default()
                            .session_ttl(actix_web::cookie::time::Duration::days(30)),
                    )
                    .build(),
            )
            .wrap(security_headers())
            .wrap(
                Logger::new("%a \"%r\" %s %b %Dms")
                    .exclude("/healthz")
                    .exclude("/readyz"),
            )
            .configure(routes::config)
    })
    .on_connect(move |conn, _| tune_socket(conn, send_buffer))
    .bind(config.bind)
    .with_context(|| format!("could not listen on {}", config.bind))?
    .shutdown_timeout(10)
    .disable_signals()
    .run();
    Ok(server)
}

/// Fixes a connection's kernel send buffer (instead of letting it grow to
/// megabytes), so a client that stops reading backs up into its outbox, where
/// the server notices and disconnects it.
/// Bounds the socket's kernel send buffer (so a client that stops reading
/// fills its outbox and is evicted) and turns off Nagle's algorithm (frames
/// are small and go out as soon as they are written).
fn tune_socket(conn: &dyn std::any::Any, bytes: usize) {
    if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
        if let Err(e) = socket2::SockRef::from(tcp).set_send_buffer_size(bytes) {
            tracing::warn!(error = %e, "could not bound a socket's send buffer");
        }
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
    }
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"))
}
