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
use chat_bot::{Bot, BotConfig};
use chat_shared::bus::{Bus, LocalBus};
use chat_shared::store::{SqliteStore, Store};

use crate::actors::channel::ChannelDeps;
use crate::actors::registry::Registry;
use crate::config::Config;
use crate::limits::Limits;
use crate::publisher::Publisher;
use crate::routes;
use crate::state::AppState;

/// The Content-Security-Policy of every response: only this origin's own files.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Runs the server until it is stopped.
pub async fn run(config: Config) -> anyhow::Result<()> {
    tracing::info!(config = ?config.redacted(), "starting");
    if !config.is_embedded() {
        anyhow::bail!("distributed mode (--nats-url / --database-url) is not available in this version; run without them for embedded mode");
    }
    let limits = Limits::default();
    let server_id: Arc<str> = Arc::from(format!("srv-{}", chat_shared::message::next_id()));

    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("could not create the data dir {}", config.data_dir.display()))?;
    let db_path = config.data_dir.join("chat.db");
    let open_path = db_path.clone();
    let store: Arc<dyn Store> = Arc::new(
        web::block(move || SqliteStore::open(&open_path))
            .await?
            .with_context(|| format!("could not open {}", db_path.display()))?,
    );
    let key = match &config.session_key {
        Some(k) => crate::session_key::parse(k)?,
        None => crate::session_key::load_or_create(&config.data_dir)?,
    };
    let bus: Arc<dyn Bus> = Arc::new(LocalBus::new());

    let archiver = Archiver::subscribe(bus.clone(), store.clone(), ArchiverConfig::default()).await?;
    tokio::spawn(archiver.run());
    let bot_config = BotConfig {
        stock_api_url: config.stock_api_url.clone(),
        timeout: Duration::from_secs(config.stock_timeout_secs),
    };
    let bot = Bot::subscribe(bus.clone(), bot_config).await?;
    actix_rt::spawn(bot.run());

    let publisher = Publisher::start(bus.clone());
    let registry = Registry::new(ChannelDeps { bus: bus.clone(), publisher, server_id: server_id.clone() }).start();
    let state = web::Data::new(AppState::new(
        store,
        bus,
        registry,
        server_id,
        limits,
        config.allowed_origins.clone(),
        config.bcrypt_cost,
    ));

    let server = serve(state, key, &config)?;
    tracing::info!(
        mode = "embedded",
        address = %format!("http://{}", config.bind),
        database = %config.data_dir.join("chat.db").display(),
        "chat server listening; bot and archiver running in-process"
    );
    server.await?;
    tracing::info!("stopped");
    Ok(())
}

fn serve(state: web::Data<AppState>, key: Key, config: &Config) -> anyhow::Result<actix_web::dev::Server> {
    let secure = config.behind_tls;
    let max_body = state.limits.max_body_bytes;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::JsonConfig::default().limit(max_body).error_handler(routes::json_error))
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
                        PersistentSession::default().session_ttl(actix_web::cookie::time::Duration::days(30)),
                    )
                    .build(),
            )
            .wrap(security_headers())
            .wrap(Logger::new("%a \"%r\" %s %b %Dms").exclude("/healthz").exclude("/readyz"))
            .configure(routes::config)
    })
    .bind(config.bind)
    .with_context(|| format!("could not listen on {}", config.bind))?
    .shutdown_timeout(10)
    .run();
    Ok(server)
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"))
}
