//! Writing what the archiver received: messages gather in a batch, and up
//! to `writers` batches are stored at once while the next one fills. A
//! delivery is acknowledged only after its batch is stored.

use std::sync::Arc;
use std::time::Duration;

use chat_shared::bus::inbound::{self, Inbound};
use chat_shared::bus::BusKey;
use chat_shared::change::Change;
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
                crate::metrics::batch_stored(batch, n);
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

/// How long a change whose message is not archived yet waits to be tried again.
const CHANGE_RETRY: Duration = Duration::from_secs(1);

/// Applies changes after the messages before them are stored, retrying
/// while the database is unavailable; for each, whether its message is
/// archived.
async fn apply_changes(store: &dyn Store, changes: &[Change]) -> Vec<bool> {
    let mut delay = Duration::from_millis(100);
    loop {
        match store.apply_changes(changes).await {
            Ok(archived) => return archived,
            Err(e) => {
                tracing::error!(error = %e, changes = changes.len(), retry_in_ms = delay.as_millis() as u64, "applying changes failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Messages waiting to be stored, changes to apply after them, and the
/// deliveries to acknowledge after.
#[derive(Default)]
pub struct Batch {
    messages: Vec<Message>,
    /// Each with the index of its delivery.
    changes: Vec<(Change, usize)>,
    deliveries: Vec<Delivery>,
}

impl Batch {
    /// Messages in the batch.
    pub fn len(&self) -> usize {
        self.messages.len() + self.changes.len()
    }

    /// Adds a delivery; its message (or change) is stored only if it passes
    /// the rules of `inbound` (checked with `key`), and it is acknowledged
    /// either way, once stored.
    pub fn push(&mut self, d: Delivery, key: &BusKey) {
        match inbound::receive_any(&d.envelope, key) {
            Ok(Inbound::Message(m)) => self.messages.push(m),
            Ok(Inbound::Change(c)) => self.changes.push((c, self.deliveries.len())),
            Err(_) => {}
        }
        self.deliveries.push(d);
    }

    /// Stores the batch (retrying while the database is down), then acks
    /// it; a change to a message not archived yet comes back later.
    async fn store(mut self, store: &dyn Store) {
        if !self.messages.is_empty() {
            store_batch(store, &mut self.messages).await;
        }
        let mut later = Vec::new();
        if !self.changes.is_empty() {
            let changes: Vec<Change> = self.changes.iter().map(|(c, _)| c.clone()).collect();
            let archived = apply_changes(store, &changes).await;
            later = self
                .changes
                .iter()
                .zip(archived)
                .filter(|(_, archived)| !archived)
                .map(|((_, i), _)| *i)
                .collect();
        }
        for (i, d) in self.deliveries.drain(..).enumerate() {
            if later.contains(&i) {
                d.retry_after(CHANGE_RETRY).await;
            } else {
                d.ack().await;
            }
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
