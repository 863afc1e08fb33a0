//! Making an accepted message durable before anyone is told it exists: in
//! distributed mode JetStream stores it (its PubAck, after the replicas
//! agree), in embedded mode a SQLite transaction commits it (many messages
//! per transaction). Only then is it delivered, on every server (which
//! deliver what the stream stored, in its order; embedded, what the
//! committer publishes in-process), and acknowledged. A client's retry of
//! the same send (same sender and `ref`) is recognized here and answered
//! with the message stored the first time.

use std::sync::Arc;

use chat_shared::bus::{Bus, BusError};
use chat_shared::change::Change;
use chat_shared::message::Message;
use chat_shared::store::Store;
use chat_shared::subjects;
use tokio::sync::{mpsc, oneshot};

use crate::publisher::Outgoing;

/// Messages committed in one SQLite transaction, at most.
const GROUP_COMMIT: usize = 512;

/// Where messages become durable.
#[derive(Clone)]
pub enum Durability {
    /// Distributed: the JetStream stream on the message subjects.
    Stream(Arc<dyn Bus>),
    /// Embedded: the database, then the in-process bus (for the bot).
    Database(Committer, Arc<dyn Bus>),
}

/// What persisting a message found.
#[derive(Debug)]
pub enum Persisted {
    /// Stored now.
    New,
    /// A retry: this message was stored before under the same key.
    Repeat(Box<Message>),
}

/// Why a message could not be made durable (it was not acknowledged).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotDurable(String);

impl From<BusError> for NotDurable {
    fn from(e: BusError) -> Self {
        NotDurable(e.to_string())
    }
}

/// The key under which a send is stored once: the sender and the client's
/// id for the send when it is a usable one (8 to 64 letters, digits, `-`,
/// `_`, as the UI makes them), else the message's own id.
pub fn dedupe_key(message: &Message, reference: Option<&str>) -> String {
    match reference.filter(|r| usable_ref(r)) {
        Some(r) => format!("{}/{r}", message.user.to_ascii_lowercase()),
        None => message.id.clone(),
    }
}

/// The key under which a change is stored once: the user and the client's
/// usable id for it (apart from sends' keys), else a fresh id.
pub fn change_key(user: &str, reference: Option<&str>) -> String {
    match reference.filter(|r| usable_ref(r)) {
        Some(r) => format!("{}/change/{r}", user.to_ascii_lowercase()),
        None => chat_shared::message::next_id().to_string(),
    }
}

/// Whether a client's id for a send can key it: 8 to 64 letters, digits,
/// `-`, `_` (as the UI makes them).
fn usable_ref(r: &str) -> bool {
    (8..=64).contains(&r.len())
        && r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Durability {
    /// Stores `message` (published as `out` on its `chat.msg.` subject,
    /// whose headers carry `key` as `Nats-Msg-Id`) and says whether it is new
    /// or a repeat. In distributed mode every server delivers it from the
    /// stream; embedded, the bot and the in-process archiver hear of it once
    /// it is committed.
    pub async fn persist(
        &self,
        message: &Message,
        out: Outgoing,
        key: String,
    ) -> Result<Persisted, NotDurable> {
        match self {
            Durability::Stream(bus) => {
                let at = bus
                    .publish_stored(&out.subject, out.headers, out.payload)
                    .await?;
                if !at.duplicate {
                    return Ok(Persisted::New);
                }
                // Stored by a first try whose answer was lost: the servers
                // delivered it then, from the stream.
                let earlier = bus.stored(subjects::MSG_STREAM, at.sequence).await?;
                let repeat = serde_json::from_slice(&earlier.payload)
                    .map_err(|e| NotDurable(format!("the stored message is unreadable: {e}")))?;
                Ok(Persisted::Repeat(Box::new(repeat)))
            }
            Durability::Database(committer, bus) => {
                if let Some(earlier) = committer.commit(message.clone(), key).await? {
                    return Ok(Persisted::Repeat(Box::new(earlier)));
                }
                // Committed: now the bot and the in-process archiver hear of it.
                bus.publish(&out.subject, out.headers, out.payload).await?;
                Ok(Persisted::New)
            }
        }
    }

    /// Stores a change to a message (published as `out`, on its message's
    /// subject): the stream stores it (each server then delivers it, in the
    /// stream's order, and the archivers apply it); embedded, the database
    /// applies it now.
    pub async fn persist_change(&self, change: &Change, out: Outgoing) -> Result<(), NotDurable> {
        match self {
            Durability::Stream(bus) => {
                bus.publish_stored(&out.subject, out.headers, out.payload)
                    .await?;
                Ok(())
            }
            Durability::Database(committer, _) => {
                let archived = committer
                    .store
                    .apply_changes(std::slice::from_ref(change))
                    .await
                    .map_err(|e| NotDurable(e.to_string()))?;
                match archived.first() {
                    Some(true) => Ok(()),
                    _ => Err(NotDurable("the message is not stored".to_owned())),
                }
            }
        }
    }

    /// Whether members here get even this server's messages from the
    /// stream (in its order, the one every server delivers); else (one
    /// embedded server) the channel delivers them as they commit.
    pub fn delivers_from_stream(&self) -> bool {
        matches!(self, Durability::Stream(_))
    }
}

struct Job {
    message: Message,
    key: String,
    done: oneshot::Sender<Result<Option<Message>, NotDurable>>,
}

/// The embedded mode's group commit: one task writes whatever messages are
/// waiting in one transaction, then answers each.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
    /// Where changes to committed messages are applied.
    store: Arc<dyn Store>,
}

impl Committer {
    /// Starts the committing task on the current runtime.
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(GROUP_COMMIT * 8);
        let committing = store.clone();
        tokio::spawn(async move {
            let store = committing;
            let mut batch = Vec::with_capacity(GROUP_COMMIT);
            while rx.recv_many(&mut batch, GROUP_COMMIT).await > 0 {
                let input: Vec<_> = batch
                    .iter()
                    .map(|j| (j.message.clone(), j.key.clone()))
                    .collect();
                match store.insert_deduped(&input).await {
                    Ok(found) => {
                        for (job, earlier) in batch.drain(..).zip(found) {
                            let _ = job.done.send(Ok(earlier));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, messages = batch.len(), "could not commit messages");
                        for job in batch.drain(..) {
                            let _ = job.done.send(Err(NotDurable(e.to_string())));
                        }
                    }
                }
            }
        });
        Self { tx, store }
    }

    /// Commits `message` under `key`; the message stored earlier under the
    /// same key, if any (then nothing new was stored).
    pub async fn commit(
        &self,
        message: Message,
        key: String,
    ) -> Result<Option<Message>, NotDurable> {
        let (done, answer) = oneshot::channel();
        self.tx
            .send(Job { message, key, done })
            .await
            .map_err(|_| NotDurable("the committer has stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| NotDurable("the committer has stopped".to_owned()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_shared::names::{ChannelName, MessageText};

    fn message(user: &str) -> Message {
        Message::new(
            ChannelName::general(),
            user,
            MessageText::parse("hi").unwrap(),
            false,
        )
    }

    #[test]
    fn a_usable_ref_keys_the_send_by_sender_and_ref_and_others_by_id() {
        let m = message("Alice");
        assert_eq!(dedupe_key(&m, Some("c-4f9a1b2e")), "alice/c-4f9a1b2e");
        assert_eq!(dedupe_key(&m, Some("c-17")), m.id, "too short to be unique");
        assert_eq!(dedupe_key(&m, Some("has space 123")), m.id);
        assert_eq!(dedupe_key(&m, None), m.id);
    }

    #[tokio::test]
    async fn the_committer_stores_once_per_key_and_names_the_earlier_message() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(chat_shared::store::SqliteStore::open(&dir.path().join("c.db")).unwrap());
        let committer = Committer::start(store.clone());
        let first = message("alice");
        let key = "alice/r-0000001".to_owned();
        assert_eq!(
            committer.commit(first.clone(), key.clone()).await.unwrap(),
            None
        );
        let retry = message("alice");
        assert_eq!(committer.commit(retry, key).await.unwrap(), Some(first));
        let many = (0..100).map(|i| {
            let c = committer.clone();
            async move { c.commit(message("bob"), format!("bob/r-{i:08}")).await }
        });
        for stored in futures::future::join_all(many).await {
            assert_eq!(stored.unwrap(), None);
        }
    }
}
