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
pub const STREAM: &str = "CHAT";
/// Name of the archivers' shared durable consumer.
pub const CONSUMER: &str = "archiver";

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

/// Creates the `CHAT` stream on `chat.msg.>` if missing.
pub async fn ensure_stream(
    js: &jetstream::Context,
    limits: &StreamLimits,
) -> Result<stream::Stream, SetupError> {
    js.get_or_create_stream(stream::Config {
        name: STREAM.to_owned(),
        subjects: vec![subjects::MSG_ALL.to_owned()],
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
    .map_err(|e| SetupError(format!("could not create stream {STREAM}: {e}")))
}

/// Deliveries from the durable consumer `archiver` on `CHAT`, shared by every
/// archiver process. Unacked messages come back after `ack_wait`.
pub async fn from_jetstream(
    bus: &NatsBus,
    limits: &StreamLimits,
    ack_wait: Duration,
) -> Result<Source, SetupError> {
    let js = jetstream::new(bus.client().clone());
    // JetStream may still be electing a leader (a cluster just started): retry.
    let mut delay = Duration::from_millis(250);
    let stream = loop {
        match ensure_stream(&js, limits).await {
            Ok(s) => break s,
            Err(e) if delay < Duration::from_secs(16) => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "JetStream not ready");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => return Err(e),
        }
    };
    let consumer: consumer::PullConsumer = stream
        .get_or_create_consumer(
            CONSUMER,
            consumer::pull::Config {
                durable_name: Some(CONSUMER.to_owned()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait,
                max_ack_pending: 20_000,
                deliver_policy: consumer::DeliverPolicy::All,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| SetupError(format!("could not create consumer {CONSUMER}: {e}")))?;
    let messages = consumer
        .messages()
        .await
        .map_err(|e| SetupError(format!("could not consume {STREAM}: {e}")))?;
    Ok(Box::pin(messages.filter_map(|item| async move {
        match item {
            Ok(m) => {
                let (message, acker) = m.split();
                Some(Delivery {
                    envelope: NatsBus::envelope(message),
                    acker: Some(acker),
                })
            }
            Err(e) => {
                tracing::warn!(error = %e, "consumer hiccup; continuing");
                None
            }
        }
    })))
}

/// Setting up the stream or consumer failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);
