//! Where the archiver's messages come from: a plain bus subscription
//! (embedded mode) or the JetStream stream `CHAT` through a durable pull
//! consumer with explicit acks (distributed mode).

use std::pin::Pin;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream, AckKind};
use chat_shared::bus::{Envelope, NatsBus, Subscription};
use chat_shared::subjects;
use futures::{Stream, StreamExt};

/// Name of the stream that keeps every chat message.
pub const STREAM: &str = subjects::MSG_STREAM;
/// Name of the archivers' shared durable consumer.
pub const CONSUMER: &str = subjects::ARCHIVE_CONSUMER;

/// One message to store, with what confirms it once stored.
pub struct Delivery {
    pub envelope: Envelope,
    acker: Option<jetstream::message::Acker>,
}

impl Delivery {
    /// Confirms the message (stored, or dropped as unreadable). A failed ack
    /// means redelivery, which the idempotent insert absorbs.
    pub async fn ack(self) {
        if let Some(acker) = self.acker {
            if let Err(e) = acker.ack_with(AckKind::Ack).await {
                tracing::warn!(error = %e, "ack failed; the message will be redelivered");
            }
        }
    }
}

impl Delivery {
    /// Asks for the message again after `delay` (a change whose message is
    /// not archived yet: another archiver may be storing it now).
    pub async fn retry_after(self, delay: Duration) {
        if let Some(acker) = self.acker {
            if let Err(e) = acker.ack_with(AckKind::Nak(Some(delay))).await {
                tracing::warn!(error = %e, "nak failed; the message will be redelivered after ack_wait");
            }
        }
    }
}

/// A stream of deliveries.
pub type Source = Pin<Box<dyn Stream<Item = Delivery> + Send>>;

/// Deliveries from a plain subscription; nothing to acknowledge.
pub fn from_subscription(sub: Subscription) -> Source {
    Box::pin(sub.map(|envelope| Delivery {
        envelope,
        acker: None,
    }))
}

/// Retention of the `CHAT` stream.
#[derive(Debug, Clone)]
pub struct StreamLimits {
    pub max_age: Duration,
    pub max_bytes: i64,
    pub replicas: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(7 * 24 * 3600),
            max_bytes: 1 << 30,
            replicas: 1,
        }
    }
}

/// Creates the `CHAT` stream on `chat.msg.>` if missing, and adds the
/// subject to a stream that lacks it.
pub async fn ensure_stream(
    js: &jetstream::Context,
    limits: &StreamLimits,
) -> Result<stream::Stream, SetupError> {
    let mut stream = js
        .get_or_create_stream(stream::Config {
            name: STREAM.to_owned(),
            subjects: subjects::STORED.map(str::to_owned).to_vec(),
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            discard: stream::DiscardPolicy::Old,
            max_age: limits.max_age,
            max_bytes: limits.max_bytes,
            num_replicas: limits.replicas,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map_err(|e| SetupError(format!("could not create stream {STREAM}: {e}")))?;
    let mut config = stream
        .info()
        .await
        .map_err(|e| SetupError(format!("could not read stream {STREAM}: {e}")))?
        .config
        .clone();
    let missing: Vec<String> = subjects::STORED
        .iter()
        .filter(|s| !config.subjects.iter().any(|have| have == *s))
        .map(|s| (*s).to_owned())
        .collect();
    if !missing.is_empty() {
        tracing::info!(stream = STREAM, subjects = ?missing, "adding subjects to the stream");
        config.subjects.extend(missing);
        js.update_stream(config)
            .await
            .map_err(|e| SetupError(format!("could not update stream {STREAM}: {e}")))?;
    }
    Ok(stream)
}

/// Deliveries from the durable consumer `archiver` on `CHAT`, shared by every
/// archiver process. Unacked messages come back after `ack_wait`. When the
/// consumer or the stream goes away (an operator deleted it, the stream was
/// recreated), both are made again and delivery goes on; a new consumer
/// starts at the beginning of the stream, and the idempotent insert absorbs
/// what is already stored.
pub async fn from_jetstream(
    bus: &NatsBus,
    limits: &StreamLimits,
    ack_wait: Duration,
) -> Result<Source, SetupError> {
    let mut consuming = Consuming {
        js: jetstream::new(bus.client().clone()),
        limits: limits.clone(),
        ack_wait,
        messages: None,
    };
    // JetStream may still be electing a leader (a cluster just started): retry
    // a while, then give up, so a misconfigured archiver says so at start.
    let mut delay = Duration::from_millis(250);
    let messages = loop {
        match consuming.open().await {
            Ok(m) => break m,
            Err(e) if delay < Duration::from_secs(16) => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "JetStream not ready");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => return Err(e),
        }
    };
    consuming.messages = Some(messages);
    Ok(Box::pin(futures::stream::unfold(
        consuming,
        |mut consuming| async move {
            let delivery = consuming.next().await;
            Some((delivery, consuming))
        },
    )))
}

/// The durable consumer being read, and how to make it again.
struct Consuming {
    js: jetstream::Context,
    limits: StreamLimits,
    ack_wait: Duration,
    messages: Option<consumer::pull::Stream>,
}

impl Consuming {
    /// The stream and the consumer, created if missing, and its messages.
    async fn open(&self) -> Result<consumer::pull::Stream, SetupError> {
        let stream = ensure_stream(&self.js, &self.limits).await?;
        let consumer: consumer::PullConsumer = stream
            .get_or_create_consumer(
                CONSUMER,
                consumer::pull::Config {
                    durable_name: Some(CONSUMER.to_owned()),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: self.ack_wait,
                    max_ack_pending: 20_000,
                    deliver_policy: consumer::DeliverPolicy::All,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| SetupError(format!("could not create consumer {CONSUMER}: {e}")))?;
        consumer
            .messages()
            .await
            .map_err(|e| SetupError(format!("could not consume {STREAM}: {e}")))
    }

    /// Opens the consumer again, retrying (backoff up to 5 s) until it works.
    async fn reopen(&self) -> consumer::pull::Stream {
        let mut delay = Duration::from_millis(100);
        loop {
            match self.open().await {
                Ok(messages) => {
                    tracing::info!(stream = STREAM, consumer = CONSUMER, "consuming again");
                    return messages;
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "could not reopen the consumer");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// The next delivery, reopening the consumer whenever it is gone.
    async fn next(&mut self) -> Delivery {
        loop {
            let messages = match &mut self.messages {
                Some(messages) => messages,
                None => self.messages.insert(self.reopen().await),
            };
            match messages.next().await {
                Some(Ok(m)) => {
                    let (message, acker) = m.split();
                    return Delivery {
                        envelope: NatsBus::envelope(message),
                        acker: Some(acker),
                    };
                }
                Some(Err(e)) if is_gone(e.kind()) => {
                    tracing::warn!(error = %e, "the consumer is gone; recreating it");
                    self.messages = None;
                }
                Some(Err(e)) => tracing::warn!(error = %e, "consumer hiccup; continuing"),
                None => {
                    tracing::warn!("the consumer's messages ended; reopening it");
                    self.messages = None;
                }
            }
        }
    }
}

/// Whether an error of the consumer's messages means it must be made again:
/// deleted, or silent past its heartbeats (its stream may have been deleted).
fn is_gone(kind: consumer::pull::MessagesErrorKind) -> bool {
    use consumer::pull::MessagesErrorKind as K;
    matches!(
        kind,
        K::ConsumerDeleted | K::MissingHeartbeat | K::NoResponders
    )
}

/// Setting up the stream or consumer failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);
