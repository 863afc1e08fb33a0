//! The message bus: NATS semantics behind one trait, so the bot, the archiver
//! and the servers are written once for both the in-process and the NATS bus.

pub mod follow;
pub mod inbound;
pub mod local;
pub mod nats;
pub mod pattern;
pub mod read_back;
pub mod signature;

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

pub use local::LocalBus;
pub use nats::{NatsBus, NatsOptions};
pub use signature::BusKey;

/// Message headers, in order; names compare case-sensitively as in NATS.
pub type Headers = Vec<(String, String)>;

/// One message taken from the bus.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub subject: String,
    pub reply: Option<String>,
    pub headers: Headers,
    pub payload: Bytes,
}

impl Envelope {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What can go wrong on the bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("invalid subject {0:?}")]
    InvalidSubject(String),
    #[error("no one is listening on {0}")]
    NoResponders(String),
    #[error("no reply on {0} in time")]
    Timeout(String),
    #[error("bus unavailable: {0}")]
    Unavailable(String),
}

/// Where a stream stored a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredAt {
    pub sequence: u64,
    /// The publish repeated one stored before (same `Nats-Msg-Id`), which
    /// `sequence` names; nothing new was stored.
    pub duplicate: bool,
}

/// A live subscription: a stream of envelopes, unsubscribed when dropped.
pub struct Subscription {
    inner: Pin<Box<dyn Stream<Item = Envelope> + Send>>,
}

impl Subscription {
    pub fn new(inner: impl Stream<Item = Envelope> + Send + 'static) -> Self {
        Self {
            inner: Box::pin(inner),
        }
    }
}

impl Stream for Subscription {
    type Item = Envelope;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Envelope>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// Publish, subscribe (with `*` and `>` wildcards), queue groups, request/reply.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes a message; `Ok` means the bus has taken it, in order with this
    /// caller's other publishes.
    async fn publish(
        &self,
        subject: &str,
        headers: Headers,
        payload: Bytes,
    ) -> Result<(), BusError>;

    /// Publishes on a subject that a stream captures and waits until the
    /// stream has stored it (JetStream's PubAck; with a replicated stream,
    /// once the replicas agree). A publish whose `Nats-Msg-Id` the stream
    /// stored before is not stored again: the answer says so and names the
    /// earlier one's sequence. The in-process bus stores nothing: `Unavailable`.
    async fn publish_stored(
        &self,
        subject: &str,
        headers: Headers,
        payload: Bytes,
    ) -> Result<StoredAt, BusError>;

    /// The message stored at `sequence` in `stream`.
    async fn stored(&self, stream: &str, sequence: u64) -> Result<Envelope, BusError>;

    /// Publishes a request whose answer goes to `reply`.
    async fn publish_with_reply(
        &self,
        subject: &str,
        reply: &str,
        payload: Bytes,
    ) -> Result<(), BusError>;

    /// Every message on subjects matching `pattern`.
    async fn subscribe(&self, pattern: &str) -> Result<Subscription, BusError>;

    /// Every message `stream` stores on `subject` from now on, each once and
    /// in the stream's order, including those stored while this process was
    /// cut off from the bus (read back from the stream when it returns).
    /// The in-process bus stores nothing: there it is `subscribe`.
    async fn subscribe_stored(&self, stream: &str, subject: &str)
        -> Result<Subscription, BusError>;

    /// Each matching message goes to one member of the group `queue`.
    async fn queue_subscribe(&self, pattern: &str, queue: &str) -> Result<Subscription, BusError>;

    /// Sends a request (with `headers`) and waits for the first reply.
    async fn request(
        &self,
        subject: &str,
        headers: Headers,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Envelope, BusError>;

    /// Whether the archive can lag behind what this bus delivers (a stream
    /// stores messages first, archivers copy them later): then only an
    /// archiver, which reads the stream too, can say what came after a
    /// message. The in-process bus delivers what is already committed.
    fn archive_may_lag(&self) -> bool {
        false
    }

    /// Hands `take` each message the stream stored on `subject` that the
    /// archivers have not acknowledged yet (so may not be archived), in the
    /// stream's order; past `within`, an error. The in-process bus has none:
    /// what it delivers is already committed.
    async fn read_unarchived(
        &self,
        subject: &str,
        within: Duration,
        take: &mut (dyn FnMut(Envelope, chrono::DateTime<chrono::Utc>) -> read_back::Then + Send),
    ) -> Result<(), BusError> {
        let _ = (subject, within, take);
        Ok(())
    }

    /// Whether the bus is usable right now (for readiness).
    fn is_connected(&self) -> bool;

    /// Waits until everything published so far has left this process.
    async fn flush(&self) -> Result<(), BusError>;
}

/// A value as a bus payload: its JSON bytes. Every payload type is plain
/// data (strings, numbers, lists, string-keyed maps), which always serializes.
pub fn json_payload(value: &impl serde::Serialize) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("bus payloads are plain data"))
}

/// Answers a request: publishes `payload` to its reply subject, if it has one.
pub async fn respond(bus: &dyn Bus, request: &Envelope, payload: Bytes) -> Result<(), BusError> {
    match &request.reply {
        Some(reply) => bus.publish(reply, Vec::new(), payload).await,
        None => Ok(()),
    }
}
