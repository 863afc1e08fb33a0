//! `chat-archiver`: stores every message from the JetStream stream `CHAT` in
//! PostgreSQL and answers history requests. Run any number; they share the work.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chat_archiver::source::{self, StreamLimits};
use chat_archiver::{Archiver, ArchiverConfig};
use chat_shared::bus::{Bus, BusKey, NatsBus};
use chat_shared::config::{redact_url, MetricsArgs, NatsArgs};
use chat_shared::process::LogArgs;
use chat_shared::store::{PgStore, Store};
use clap::Parser;

/// Archives chat messages from NATS JetStream into PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "chat-archiver", version, about)]
struct Cli {
    #[command(flatten)]
    nats: NatsArgs,

    #[command(flatten)]
    metrics: MetricsArgs,

    /// The chat servers' session key (CHAT_SESSION_KEY, the same on every
    /// server): used only to derive the key that tells the servers' messages
    /// from anyone else's. Required.
    #[arg(long, env = "CHAT_SESSION_KEY", hide_env_values = true)]
    session_key: Option<String>,

    /// PostgreSQL URL, e.g. postgres://chat:secret@127.0.0.1:5432/chat.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,

    /// Database connections.
    #[arg(long, env = "DATABASE_POOL_SIZE", default_value_t = 12)]
    database_pool_size: u32,

    /// Largest batch written in one statement.
    #[arg(long, env = "ARCHIVER_BATCH_SIZE", default_value_t = 500)]
    batch_size: usize,

    /// Longest a message waits for its batch, in milliseconds.
    #[arg(long, env = "ARCHIVER_FLUSH_MS", default_value_t = 50)]
    flush_ms: u64,

    /// Batches written to the database at once.
    #[arg(long, env = "ARCHIVER_WRITERS", default_value_t = 4)]
    writers: usize,

    /// History requests answered at once.
    #[arg(long, env = "ARCHIVER_READERS", default_value_t = 8)]
    readers: usize,

    /// Seconds before an unacknowledged message is redelivered.
    #[arg(long, env = "ARCHIVER_ACK_WAIT_SECS", default_value_t = 30)]
    ack_wait_secs: u64,

    /// How long the CHAT stream keeps messages, in hours.
    #[arg(long, env = "CHAT_STREAM_MAX_AGE_HOURS", default_value_t = 168)]
    stream_max_age_hours: u64,

    /// How many bytes the CHAT stream keeps.
    #[arg(long, env = "CHAT_STREAM_MAX_BYTES", default_value_t = 1 << 30)]
    stream_max_bytes: i64,

    /// Replicas of the CHAT stream (1, or 3 on a NATS cluster).
    #[arg(long, env = "CHAT_STREAM_REPLICAS", default_value_t = 1)]
    stream_replicas: usize,

    #[command(flatten)]
    log: LogArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.log.init();
    let Some(given) = &cli.session_key else {
        anyhow::bail!(
            "CHAT_SESSION_KEY is required: the chat servers' session key, so that only what they \
             signed is archived as a person's message"
        );
    };
    let key = BusKey::from_session_key(given)?;
    let url = cli.nats.required_url()?.to_owned();
    tracing::info!(nats = %url, database = %redact_url(&cli.database_url), "chat-archiver starting");

    let nats = NatsBus::connect(&cli.nats.options(&url, "chat-archiver")).await?;
    let store: Arc<dyn Store> = Arc::new(
        PgStore::connect(&cli.database_url, cli.database_pool_size)
            .await
            .context("could not open the database")?,
    );
    let limits = StreamLimits {
        max_age: Duration::from_secs(cli.stream_max_age_hours * 3600),
        max_bytes: cli.stream_max_bytes,
        replicas: cli.stream_replicas,
    };
    let incoming =
        source::from_jetstream(&nats, &limits, Duration::from_secs(cli.ack_wait_secs)).await?;
    let config = ArchiverConfig {
        batch_size: cli.batch_size,
        flush_interval: Duration::from_millis(cli.flush_ms),
        writers: cli.writers,
        readers: cli.readers,
    };
    let bus: Arc<dyn Bus> = Arc::new(nats.clone());
    cli.metrics
        .serve(bus.clone(), store.clone())
        .context("could not serve metrics")?;
    let tail = chat_archiver::tail::StreamTail::new(nats.clone(), key.clone());
    let archiver = Archiver::new(bus, store, incoming, config, key)
        .await?
        .with_tail(tail);
    tracing::info!(
        stream = source::STREAM,
        consumer = source::CONSUMER,
        "archiving"
    );
    archiver.run(chat_shared::process::shutdown_signal()).await;
    chat_shared::process::last_flush(&nats).await;
    Ok(())
}
