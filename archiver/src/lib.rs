//! The archiver: stores every message published on `chat.msg.>` that passes
//! the rules of `chat_shared::bus::inbound` (in batches, idempotently) and
//! answers history requests on `chat.history.<channel>`.

mod batch;
pub mod history;
pub mod metrics;
pub mod source;
pub mod tail;

use std::sync::Arc;
use std::time::Duration;

use batch::{Batch, Writes};
use chat_shared::bus::{Bus, BusError, BusKey, Subscription};
use chat_shared::store::Store;
use chat_shared::subjects;
use futures::StreamExt;
use source::Source;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How long shutdown waits for more messages already on their way.
const DRAIN_WAIT: Duration = Duration::from_millis(100);

/// Batching of inserts and concurrency of the work.
#[derive(Debug, Clone)]
pub struct ArchiverConfig {
    /// Largest batch written in one transaction.
    pub batch_size: usize,
    /// Longest a message waits before its batch is written.
    pub flush_interval: Duration,
    /// Batches being written at once (the next batch fills meanwhile).
    pub writers: usize,
    /// History requests answered at once.
    pub readers: usize,
}

impl Default for ArchiverConfig {
    fn default() -> Self {
        Self {
            batch_size: 500,
            flush_interval: Duration::from_millis(20),
            writers: 1,
            readers: 8,
        }
    }
}

/// The archiver with its inputs in place: nothing published after it is
/// built is missed.
pub struct Archiver {
    bus: Arc<dyn Bus>,
    store: Arc<dyn Store>,
    config: ArchiverConfig,
    incoming: Source,
    requests: Subscription,
    tail: Option<tail::StreamTail>,
    /// Tells the chat servers' messages from anyone else's.
    key: BusKey,
}

impl Archiver {
    /// An archiver reading `source` and answering history requests; `key`
    /// checks which messages chat servers signed.
    pub async fn new(
        bus: Arc<dyn Bus>,
        store: Arc<dyn Store>,
        source: Source,
        config: ArchiverConfig,
        key: BusKey,
    ) -> Result<Self, BusError> {
        chat_shared::telemetry::register(&metrics::CATALOG);
        let requests = bus
            .queue_subscribe(subjects::HISTORY_ALL, subjects::ARCHIVER_QUEUE)
            .await?;
        tracing::info!(
            "archiver answering {} in queue group {}",
            subjects::HISTORY_ALL,
            subjects::ARCHIVER_QUEUE
        );
        Ok(Self {
            bus,
            store,
            config,
            incoming: source,
            requests,
            tail: None,
            key,
        })
    }

    /// Also reads the stream for messages not yet archived when answering `since`.
    pub fn with_tail(mut self, tail: tail::StreamTail) -> Self {
        self.tail = Some(tail);
        self
    }

    /// The in-process archiver: a plain subscription to `chat.msg.>`. The
    /// embedded server commits its members' messages itself before it
    /// publishes them (signed), so this archiver stores only the others':
    /// the bot's replies and anything else published in the process.
    pub async fn in_process(
        bus: Arc<dyn Bus>,
        store: Arc<dyn Store>,
        config: ArchiverConfig,
        key: BusKey,
    ) -> Result<Self, BusError> {
        let sub = bus.subscribe(subjects::MSG_ALL).await?;
        let servers = key.clone();
        let unstored = sub.filter(move |envelope| std::future::ready(!servers.signed(envelope)));
        let source = source::from_subscription(Subscription::new(unstored));
        Self::new(bus, store, source, config, key).await
    }

    /// Runs until the source ends or `shutdown` fires. Each message is
    /// acknowledged only after its batch is stored; up to `writers` batches
    /// are written at once while the next one fills. History requests are
    /// answered (up to `readers` at once) after every batch received so far is
    /// written, so a reader sees every message this archiver has received. On
    /// shutdown, what has already arrived is written and acknowledged before
    /// returning.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut batch = Batch::default();
        let mut writes = Writes::new(self.store.clone(), self.config.writers);
        let readers = Arc::new(Semaphore::new(self.config.readers.max(1)));
        let mut answers = JoinSet::new();
        let mut tick = tokio::time::interval(self.config.flush_interval);
        loop {
            tokio::select! {
                delivery = self.incoming.next() => match delivery {
                    Some(d) => {
                        batch.push(d, &self.key);
                        if batch.len() >= self.config.batch_size {
                            writes.start(&mut batch).await;
                        }
                    }
                    None => break,
                },
                request = self.requests.next() => match request {
                    Some(r) => {
                        writes.start(&mut batch).await;
                        writes.finish().await;
                        let permit = readers.clone().acquire_owned().await.expect("never closed");
                        let (bus, store, tail) = (self.bus.clone(), self.store.clone(), self.tail.clone());
                        let key = self.key.clone();
                        answers.spawn(async move {
                            let sources = history::Sources { bus: bus.as_ref(), store: store.as_ref(), tail: tail.as_ref(), key: &key };
                            history::answer(&sources, &r).await;
                            drop(permit);
                        });
                    }
                    None => break,
                },
                Some(_) = answers.join_next(), if !answers.is_empty() => {}
                _ = tick.tick() => writes.start(&mut batch).await,
                _ = &mut shutdown => {
                    while let Ok(Some(d)) = tokio::time::timeout(DRAIN_WAIT, self.incoming.next()).await {
                        batch.push(d, &self.key);
                    }
                    break;
                }
            }
        }
        writes.start(&mut batch).await;
        writes.finish().await;
        while answers.join_next().await.is_some() {}
        tracing::info!("archiver stopped");
    }
}
