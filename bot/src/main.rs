//! `chat-bot`: answers `/stock=`, `/chart=`, `/alert`, `/watch` and `/help`
//! commands and quote requests from NATS, and fires price alerts kept in
//! PostgreSQL. Run any number; each command is answered once (queue group
//! `bot`) and each alert fires once.

use std::sync::Arc;

use anyhow::Context;
use chat_bot::config::QuoteArgs;
use chat_bot::Bot;
use chat_shared::bus::{Bus, NatsBus};
use chat_shared::config::{redact_url, MetricsArgs, NatsArgs};
use chat_shared::counters::kv::KvCounters;
use chat_shared::counters::Counters;
use chat_shared::process::LogArgs;
use chat_shared::store::{PgStore, Store};
use clap::Parser;

/// The stock bot.
#[derive(Debug, Parser)]
#[command(name = "chat-bot", version, about)]
struct Cli {
    #[command(flatten)]
    nats: NatsArgs,

    #[command(flatten)]
    quotes: QuoteArgs,

    #[command(flatten)]
    metrics: MetricsArgs,

    /// PostgreSQL URL (alerts and watchlists), e.g.
    /// postgres://chat:secret@127.0.0.1:5432/chat.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,

    /// Database connections.
    #[arg(long, env = "DATABASE_POOL_SIZE", default_value_t = 4)]
    database_pool_size: u32,

    #[command(flatten)]
    log: LogArgs,
}

#[actix_rt::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.log.init();
    let url = cli.nats.required_url()?.to_owned();
    tracing::info!(nats = %url, quotes = %cli.quotes.stock_api_url, database = %redact_url(&cli.database_url), "chat-bot starting");
    let nats = NatsBus::connect(&cli.nats.options(&url, "chat-bot")).await?;
    let store: Arc<dyn Store> = Arc::new(
        PgStore::connect(&cli.database_url, cli.database_pool_size)
            .await
            .context("could not open the database")?,
    );
    let bus: Arc<dyn Bus> = Arc::new(nats.clone());
    cli.metrics
        .serve(bus.clone(), store.clone())
        .context("could not serve metrics")?;
    let config = cli.quotes.bot_config();
    // The servers create the bucket; every bot counts in it.
    let counters = Counters::shared(KvCounters::existing(nats.client().clone()));
    counters.prepare().await;
    let bot = Bot::subscribe(bus, store, config, counters).await?;
    bot.run(chat_shared::process::shutdown_signal()).await;
    chat_shared::process::last_flush(&nats).await;
    Ok(())
}
