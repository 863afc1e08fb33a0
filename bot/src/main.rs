//! `chat-bot`: answers `/stock=` commands from NATS. Run any number; each
//! command is answered once (queue group `bot`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chat_bot::responder::Policy;
use chat_bot::{Bot, BotConfig};
use chat_shared::bus::{Bus, NatsBus};
use chat_shared::config::NatsArgs;
use clap::Parser;

/// The stock bot.
#[derive(Debug, Parser)]
#[command(name = "chat-bot", version, about)]
struct Cli {
    #[command(flatten)]
    nats: NatsArgs,

    /// Quote service URL template; `{code}` is replaced by the stock code.
    #[arg(
        long,
        env = "STOCK_API_URL",
        default_value = "https://stooq.com/q/l/?s={code}&f=sd2t2ohlcv&h&e=csv"
    )]
    stock_api_url: String,

    /// Seconds to wait for the quote service.
    #[arg(long, env = "STOCK_TIMEOUT_SECS", default_value_t = 5)]
    stock_timeout_secs: u64,

    /// Seconds a quote is reused (0 turns the cache off).
    #[arg(long, env = "STOCK_CACHE_SECS", default_value_t = 30)]
    stock_cache_secs: u64,

    /// Commands one user may give per window.
    #[arg(long, env = "BOT_RATE_COUNT", default_value_t = 5)]
    rate_count: u32,

    /// The rate limit's window, in seconds.
    #[arg(long, env = "BOT_RATE_WINDOW_SECS", default_value_t = 10)]
    rate_window_secs: u64,
}

#[actix_rt::main]
async fn main() -> anyhow::Result<()> {
    chat_shared::process::init_logging();
    let cli = Cli::parse();
    let url = cli
        .nats
        .nats_url
        .clone()
        .context("--nats-url (NATS_URL) is required")?;
    tracing::info!(nats = %url, quotes = %cli.stock_api_url, "chat-bot starting");
    let nats = NatsBus::connect(&cli.nats.options(&url, "chat-bot")).await?;
    let bus: Arc<dyn Bus> = Arc::new(nats.clone());
    let policy = Policy {
        timeout: Duration::from_secs(cli.stock_timeout_secs),
        cache_ttl: Duration::from_secs(cli.stock_cache_secs),
        rate_count: cli.rate_count,
        rate_window: Duration::from_secs(cli.rate_window_secs),
    };
    let config = BotConfig {
        stock_api_url: cli.stock_api_url,
        policy,
    };
    let bot = Bot::subscribe(bus, config).await?;
    bot.run(chat_shared::process::shutdown_signal()).await;
    nats.flush().await?;
    Ok(())
}
