//! The archiver: stores every message published on `chat.msg.>` (in batches,
//! idempotently) and answers history requests on `chat.history.<channel>`.

pub mod history;
pub mod source;
pub mod tail;

use std::sync::Arc;
use std::time::Duration;

use chat_shared::bus::{Bus, BusError, Envelope, Subscription};
use chat_shared::message::Message;
use chat_shared::store::Store;
use chat_shared::subjects;
use futures::StreamExt;
use source::{Delivery, Source};

/// How long shutdown waits for more messages already on their way.
const DRAIN_WAIT: Duration = Duration::from_millis(100);

/// Batching of inserts.
#[derive(Debug, Clone)]
pub struct ArchiverConfig {
    /// Largest batch written in one transaction.
    pub batch_size: usize,
    /// Longest a message waits before its batch is written.
    pub flush_interval: Duration,
}

impl Default for ArchiverConfig {
    fn default() -> Self {
        Self {
            batch_size: 500,
            flush_interval: Duration::from_millis(20),
        }
    }
}

/// Reads a message from the bus, or says why it is being dropped.
pub fn decode(envelope: &Envelope) -> Option<Message> {
    match serde_json::from_slice::<Message>(&envelope.payload) {
        Ok(m) if subjects::channel_of(&envelope.subject).as_ref() == Some(&m.channel) => Some(m),
        Ok(m) => {
            tracing::warn!(subject = %envelope.subject, channel = %m.channel, "dropping message published on another channel's subject");
            None
        }
        Err(e) => {
            tracing::warn!(subject = %envelope.subject, error = %e, "dropping malformed message");
            None
        }
    }
}

/// Writes a batch, retrying while the database is unavailable, so nothing
/// taken from the bus is lost.
async fn store_batch(store: &dyn Store, batch: &mut Vec<Message>) {
    let mut delay = Duration::from_millis(100);
    loop {
        match store.insert_messages(batch).await {
            Ok(n) => {
                tracing::debug!(received = batch.len(), stored = n, "batch archived");
                batch.clear();
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, batch = batch.len(), retry_in_ms = delay.as_millis() as u64, "archiving failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
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
}

impl Archiver {
    /// An archiver reading `source` and answering history requests.
    pub async fn new(
        bus: Arc<dyn Bus>,
        store: Arc<dyn Store>,
        source: Source,
        config: ArchiverConfig,
    ) -> Result<Self, BusError> {
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
        })
    }

    /// Also reads the stream for messages not yet archived when answering `since`.
    pub fn with_tail(mut self, tail: tail::StreamTail) -> Self {
        self.tail = Some(tail);
        self
    }

    /// The in-process archiver: a plain subscription to `chat.msg.>`.
    pub async fn in_process(
        bus: Arc<dyn Bus>,
        store: Arc<dyn Store>,
        config: ArchiverConfig,
    ) -> Result<Self, BusError> {
        let source = source::from_subscription(bus.subscribe(subjects::MSG_ALL).await?);
        Self::new(bus, store, source, config).await
    }

    /// Runs until the source ends or `shutdown` fires. Each message is
    /// acknowledged only after its batch is stored. History requests are
    /// answered after the pending batch is written, so a reader sees every
    /// message this archiver has received. On shutdown, what has already
    /// arrived is written and acknowledged before returning.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let store = self.store.as_ref();
        let mut batch = Batch::default();
        let mut tick = tokio::time::interval(self.config.flush_interval);
        loop {
            tokio::select! {
                delivery = self.incoming.next() => match delivery {
                    Some(d) => {
                        batch.push(d);
                        if batch.messages.len() >= self.config.batch_size {
                            batch.store(store).await;
                        }
                    }
                    None => break,
                },
                request = self.requests.next() => match request {
                    Some(r) => {
                        batch.store(store).await;
                        history::answer(self.bus.as_ref(), store, self.tail.as_ref(), &r).await;
                    }
                    None => break,
                },
                _ = tick.tick() => batch.store(store).await,
                _ = &mut shutdown => {
                    while let Ok(Some(d)) = tokio::time::timeout(DRAIN_WAIT, self.incoming.next()).await {
                        batch.push(d);
                    }
                    break;
                }
            }
        }
        batch.store(store).await;
        tracing::info!("archiver stopped");
    }
}

/// Messages waiting to be stored, and the deliveries to acknowledge after.
#[derive(Default)]
struct Batch {
    messages: Vec<Message>,
    deliveries: Vec<Delivery>,
}

impl Batch {
    fn push(&mut self, d: Delivery) {
        self.messages.extend(decode(&d.envelope));
        self.deliveries.push(d);
    }

    /// Stores the batch (retrying while the database is down), then acks it.
    async fn store(&mut self, store: &dyn Store) {
        if self.deliveries.is_empty() {
            return;
        }
        if !self.messages.is_empty() {
            store_batch(store, &mut self.messages).await;
        }
        for d in self.deliveries.drain(..) {
            d.ack().await;
        }
    }
}
