//! The archiver: stores every message published on `chat.msg.>` (in batches,
//! idempotently) and answers history requests on `chat.history.<channel>`.

pub mod history;

use std::sync::Arc;
use std::time::Duration;

use chat_shared::bus::{Bus, BusError, Envelope, Subscription};
use chat_shared::message::Message;
use chat_shared::store::Store;
use chat_shared::subjects;
use futures::StreamExt;

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
        Self { batch_size: 500, flush_interval: Duration::from_millis(20) }
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

/// The archiver with its subscriptions in place: nothing published after
/// `subscribe` returns is missed.
pub struct Archiver {
    bus: Arc<dyn Bus>,
    store: Arc<dyn Store>,
    config: ArchiverConfig,
    incoming: Subscription,
    requests: Subscription,
}

impl Archiver {
    pub async fn subscribe(
        bus: Arc<dyn Bus>,
        store: Arc<dyn Store>,
        config: ArchiverConfig,
    ) -> Result<Self, BusError> {
        let incoming = bus.subscribe(subjects::MSG_ALL).await?;
        let requests = bus.queue_subscribe(subjects::HISTORY_ALL, subjects::ARCHIVER_QUEUE).await?;
        tracing::info!("archiver listening on {} and {}", subjects::MSG_ALL, subjects::HISTORY_ALL);
        Ok(Self { bus, store, config, incoming, requests })
    }

    /// Runs until the bus closes or `shutdown` fires. History requests are
    /// answered after the pending batch is written, so a reader sees every
    /// message the archiver has received. On shutdown, what has already
    /// arrived is written before returning.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let store = self.store.as_ref();
        let mut batch: Vec<Message> = Vec::with_capacity(self.config.batch_size);
        let mut tick = tokio::time::interval(self.config.flush_interval);
        loop {
            tokio::select! {
                envelope = self.incoming.next() => match envelope {
                    Some(e) => {
                        batch.extend(decode(&e));
                        if batch.len() >= self.config.batch_size {
                            store_batch(store, &mut batch).await;
                        }
                    }
                    None => break,
                },
                request = self.requests.next() => match request {
                    Some(r) => {
                        store_batch(store, &mut batch).await;
                        history::answer(self.bus.as_ref(), store, &r).await;
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    if !batch.is_empty() {
                        store_batch(store, &mut batch).await;
                    }
                }
                _ = &mut shutdown => {
                    while let Ok(Some(e)) = tokio::time::timeout(DRAIN_WAIT, self.incoming.next()).await {
                        batch.extend(decode(&e));
                    }
                    break;
                }
            }
        }
        store_batch(store, &mut batch).await;
        tracing::info!("archiver stopped");
    }
}
