//! Writing what the archiver received: messages gather in a batch, and up
//! to `writers` batches are stored at once while the next one fills. A
//! delivery is acknowledged only after its batch is stored.

use std::sync::Arc;
use std::time::Duration;

use chat_shared::bus::{inbound, BusKey};
use chat_shared::message::Message;
use chat_shared::store::Store;
use tokio::task::JoinSet;

use crate::source::Delivery;

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

/// Messages waiting to be stored, and the deliveries to acknowledge after.
#[derive(Default)]
pub struct Batch {
    messages: Vec<Message>,
    deliveries: Vec<Delivery>,
}

impl Batch {
    /// Messages in the batch.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Adds a delivery; its message is stored only if it passes the rules
    /// of `inbound` (checked with `key`), and it is acknowledged either way.
    pub fn push(&mut self, d: Delivery, key: &BusKey) {
        self.messages
            .extend(inbound::receive(&d.envelope, key).ok());
        self.deliveries.push(d);
    }

    /// Stores the batch (retrying while the database is down), then acks it.
    async fn store(mut self, store: &dyn Store) {
        if !self.messages.is_empty() {
            store_batch(store, &mut self.messages).await;
        }
        for d in self.deliveries.drain(..) {
            d.ack().await;
        }
    }
}

/// Batches being written, at most `limit` at once.
pub struct Writes {
    store: Arc<dyn Store>,
    limit: usize,
    running: JoinSet<()>,
}

impl Writes {
    pub fn new(store: Arc<dyn Store>, limit: usize) -> Self {
        Self {
            store,
            limit: limit.max(1),
            running: JoinSet::new(),
        }
    }

    /// Starts writing `batch` (leaving it empty), first waiting for a free
    /// writer.
    pub async fn start(&mut self, batch: &mut Batch) {
        if batch.deliveries.is_empty() {
            return;
        }
        while self.running.len() >= self.limit {
            self.running.join_next().await;
        }
        let batch = std::mem::take(batch);
        let store = self.store.clone();
        self.running
            .spawn(async move { batch.store(store.as_ref()).await });
    }

    /// Waits until every started batch is stored and acknowledged.
    pub async fn finish(&mut self) {
        while self.running.join_next().await.is_some() {}
    }
}
