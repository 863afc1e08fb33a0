//! What runs inside the server process in embedded mode besides the server:
//! the archiver and the stock bot, on the in-process bus.

use std::sync::Arc;
use std::time::Duration;

use chat_archiver::{Archiver, ArchiverConfig};
use chat_bot::config::QuoteArgs;
use chat_bot::Bot;
use chat_shared::bus::{Bus, BusKey};
use chat_shared::counters::Counters;
use chat_shared::store::Store;

/// How long a stop waits for the archiver to write what it holds.
const ARCHIVER_STOP: Duration = Duration::from_secs(10);

pub struct InProcess {
    stop_archiver: tokio::sync::oneshot::Sender<()>,
    archiver: tokio::task::JoinHandle<()>,
}

impl InProcess {
    /// Starts the archiver (checking messages with the server's `bus_key`)
    /// and the bot on `bus`.
    pub async fn start(
        bus: &Arc<dyn Bus>,
        store: &Arc<dyn Store>,
        quotes: &QuoteArgs,
        bus_key: &BusKey,
    ) -> anyhow::Result<Self> {
        let config = ArchiverConfig::default();
        let archiver =
            Archiver::in_process(bus.clone(), store.clone(), config, bus_key.clone()).await?;
        let (stop_archiver, stopped) = tokio::sync::oneshot::channel::<()>();
        let archiver = tokio::spawn(archiver.run(async move {
            let _ = stopped.await;
        }));
        let bot = Bot::subscribe(
            bus.clone(),
            store.clone(),
            quotes.bot_config(),
            Counters::in_memory(),
        )
        .await?;
        actix_rt::spawn(bot.run(std::future::pending()));
        Ok(Self {
            stop_archiver,
            archiver,
        })
    }

    /// Lets the archiver store everything it has received.
    pub async fn stop(self) {
        let _ = self.stop_archiver.send(());
        if tokio::time::timeout(ARCHIVER_STOP, self.archiver)
            .await
            .is_err()
        {
            tracing::error!("archiver did not finish in time");
        }
    }
}
