//! `chat-bot`: answers `/stock=` commands from NATS. Run any number; each
//! command is answered once (queue group `bot`).

use std::sync::Arc;
use std::time::Duration;

use chat_bot::config::{QuoteArgs, RATE_COUNT, RATE_WINDOW_SECS};
use chat_bot::Bot;
use chat_shared::bus::{Bus, NatsBus};
use chat_shared::config::NatsArgs;
use chat_shared::counters::kv::KvCounters;
use chat_shared::counters::Counters;
use clap::Parser;

/// The stock bot.
#[derive(Debug, Parser)]
#[command(name = "chat-bot", version, about)]
struct Cli {
    #[command(flatten)]
    nats: NatsArgs,

    #[command(flatten)]
    quotes: QuoteArgs,

    /// Commands one user may give per window.
    #[arg(long, env = "BOT_RATE_COUNT", default_value_t = RATE_COUNT)]
    rate_count: u32,

    /// The rate limit's window, in seconds.
    #[arg(long, env = "BOT_RATE_WINDOW_SECS", default_value_t = RATE_WINDOW_SECS)]
    rate_window_secs: u64,
}

#[actix_rt::main]
async fn main() -> anyhow::Result<()> {
    chat_shared::process::init_logging();
    let cli = Cli::parse();
    let url = cli.nats.required_url()?.to_owned();
    tracing::info!(nats = %url, quotes = %cli.quotes.stock_api_url, "chat-bot starting");
    let nats = NatsBus::connect(&cli.nats.options(&url, "chat-bot")).await?;
    let bus: Arc<dyn Bus> = Arc::new(nats.clone());
    let mut config = cli.quotes.bot_config();
    config.limits.rate_count = cli.rate_count;
    config.limits.rate_window = Duration::from_secs(cli.rate_window_secs);
    // The servers create the bucket; every bot counts in it.
    let counters = Counters::shared(KvCounters::existing(nats.client().clone()));
    counters.prepare().await;
    let bot = Bot::subscribe(bus, config, counters).await?;
    bot.run(chat_shared::process::shutdown_signal()).await;
    nats.flush().await?;
    Ok(())
}
