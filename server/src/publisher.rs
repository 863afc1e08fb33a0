//! The server's outbound bus queue: one task publishes everything in the
//! order it was accepted. The queue is bounded; when it is full new messages
//! are refused to their senders (never dropped after being accepted).

use std::sync::Arc;

use bytes::Bytes;
use chat_shared::bus::{Bus, Headers};
use tokio::sync::mpsc;

/// How many publishes may wait for the bus.
pub const QUEUE: usize = 65_536;

/// What the publishing task is asked to do.
enum Job {
    Publish(Outgoing),
    /// Answer once everything queued before has been published.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// One publish.
#[derive(Debug)]
pub struct Outgoing {
    pub subject: String,
    pub headers: Headers,
    pub payload: Bytes,
}

/// The queue is full: the bus is not keeping up.
#[derive(Debug)]
pub struct QueueFull;

/// A handle to the publishing task.
#[derive(Clone)]
pub struct Publisher {
    tx: mpsc::Sender<Job>,
}

impl Publisher {
    /// Starts the publishing task on the current runtime.
    pub fn start(bus: Arc<dyn Bus>) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(QUEUE);
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                match job {
                    Job::Publish(out) => {
                        if let Err(e) = bus.publish(&out.subject, out.headers, out.payload).await {
                            tracing::error!(subject = %out.subject, error = %e, "publish failed");
                        }
                    }
                    Job::Flush(done) => {
                        let _ = bus.flush().await;
                        let _ = done.send(());
                    }
                }
            }
        });
        Self { tx }
    }

    /// Queues all of `items` or none of them.
    pub fn send_all(&self, items: Vec<Outgoing>) -> Result<(), QueueFull> {
        let permits = self
            .tx
            .try_reserve_many(items.len())
            .map_err(|_| QueueFull)?;
        for (permit, item) in permits.zip(items) {
            permit.send(Job::Publish(item));
        }
        Ok(())
    }

    /// Queues a best-effort note (presence, typing): dropped with a warning when full.
    pub fn send_lossy(&self, item: Outgoing) {
        if self.tx.try_send(Job::Publish(item)).is_err() {
            tracing::warn!("publish queue full; dropping a presence note");
        }
    }

    /// Waits until everything queued so far has been handed to the bus.
    pub async fn flush(&self) {
        let (done, wait) = tokio::sync::oneshot::channel();
        if self.tx.send(Job::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}
