//! Counters every server and bot shares: a JetStream key-value bucket
//! (`chat_limits`), each counter updated with compare-and-set on its revision
//! so that two processes counting at once never lose an event.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::kv::{self, CreateErrorKind, Operation, UpdateErrorKind};
use async_nats::jetstream::stream;
use tokio::sync::OnceCell;

use super::window::{self, Key, Op, RetryAfter, Rule, Step, Window};

/// The bucket (its stream is `KV_chat_limits`; nats.conf lets servers and bots use it).
pub const BUCKET: &str = "chat_limits";
/// How long one operation on the bucket may take before it counts as down.
const TIMEOUT: Duration = Duration::from_secs(2);
/// Attempts at one update when other processes keep updating the same counter.
const RACES: usize = 8;
/// The bucket's size bound; counters last at most an hour.
const MAX_BYTES: i64 = 128 * 1024 * 1024;
/// After failing to open the bucket, requests go through without asking it
/// for this long, so they are not each held up by the same failure.
const REOPEN_AFTER: Duration = Duration::from_secs(10);

/// The bucket could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KvError(String);

fn failed(what: &str, e: impl std::fmt::Display) -> KvError {
    KvError(format!("{what}: {e}"))
}

pub struct KvCounters {
    client: async_nats::Client,
    /// How long the bucket keeps a counter (the longest window of any rule),
    /// when this process creates the bucket; `None` only opens it.
    max_age: Option<Duration>,
    /// Opened on first use, and again after a failure.
    store: OnceCell<kv::Store>,
    /// When opening it last failed.
    failed_at: Mutex<Option<Instant>>,
}

impl KvCounters {
    /// Counters in the bucket, which this process creates if it is missing,
    /// keeping each counter for `max_age` (the servers do this).
    pub fn new(client: async_nats::Client, max_age: Duration) -> Self {
        Self::with(client, Some(max_age))
    }

    /// Counters in the bucket the servers create; until it exists, nothing
    /// is counted (the bots do this: their windows are the shortest, so
    /// they must not decide how long the servers' counters last).
    pub fn existing(client: async_nats::Client) -> Self {
        Self::with(client, None)
    }

    fn with(client: async_nats::Client, max_age: Option<Duration>) -> Self {
        Self {
            client,
            max_age,
            store: OnceCell::new(),
            failed_at: Mutex::new(None),
        }
    }

    /// Waits up to `TIMEOUT` for the client to be connected.
    pub async fn await_connection(&self) {
        let connected = async {
            while self.client.connection_state() != async_nats::connection::State::Connected {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let _ = tokio::time::timeout(TIMEOUT, connected).await;
    }

    /// The bucket, opened on first use (and created if missing, if this
    /// process creates it).
    pub async fn store(&self) -> Result<&kv::Store, KvError> {
        if self.client.connection_state() != async_nats::connection::State::Connected {
            return Err(failed("bucket", "not connected to NATS"));
        }
        if let Some(store) = self.store.get() {
            return Ok(store);
        }
        let mut failed_at = *self
            .failed_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if failed_at.is_some_and(|at| at.elapsed() < REOPEN_AFTER) {
            return Err(failed("bucket", "could not be opened a moment ago"));
        }
        let opened = self.store.get_or_try_init(|| self.open()).await;
        failed_at = opened.is_err().then(Instant::now);
        *self
            .failed_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = failed_at;
        opened
    }

    /// Opens the bucket, creating it first if this process may.
    async fn open(&self) -> Result<kv::Store, KvError> {
        let mut js = async_nats::jetstream::new(self.client.clone());
        js.set_timeout(TIMEOUT);
        if let Some(max_age) = self.max_age {
            create(&js, max_age).await;
        }
        js.get_key_value(BUCKET)
            .await
            .map_err(|e| failed(&format!("bucket {BUCKET}"), e))
    }

    /// Applies `op` to the counter at `key`.
    pub async fn apply(
        &self,
        key: &Key,
        rule: &Rule,
        op: Op,
    ) -> Result<Result<(), RetryAfter>, KvError> {
        let store = self.store().await?;
        tokio::time::timeout(TIMEOUT * 2, compare_and_set(store, key, rule, op))
            .await
            .map_err(|_| failed("update", "timed out"))?
    }

    /// Forgets the counter at `key`, if there is one (a deletion is a write:
    /// most successful logins have nothing to forget).
    pub async fn clear(&self, key: &Key) -> Result<(), KvError> {
        let store = self.store().await?;
        let forget = async {
            let entry = store
                .entry(key.as_str())
                .await
                .map_err(|e| failed("reading a counter", e))?;
            if entry.is_some_and(|e| e.operation == Operation::Put) {
                store
                    .delete(key.as_str())
                    .await
                    .map_err(|e| failed("forgetting a counter", e))?;
            }
            Ok(())
        };
        tokio::time::timeout(TIMEOUT * 2, forget)
            .await
            .map_err(|_| failed("forgetting a counter", "timed out"))?
    }
}

/// Creates the bucket's stream as a key-value bucket is made (one value per
/// key, rollups, direct reads). The stream is made directly rather than with
/// `create_key_value`, which first asks for the account's JetStream details,
/// a reply older NATS servers shape differently. An existing bucket made with
/// other settings (another version) is used as it is.
async fn create(js: &async_nats::jetstream::Context, max_age: Duration) {
    let config = stream::Config {
        name: format!("KV_{BUCKET}"),
        description: Some("chat limits: rate counters".to_owned()),
        subjects: vec![format!("$KV.{BUCKET}.>")],
        max_messages_per_subject: 1,
        max_age,
        max_bytes: MAX_BYTES,
        storage: stream::StorageType::Memory,
        discard: stream::DiscardPolicy::New,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        ..stream::Config::default()
    };
    if let Err(e) = js.create_stream(config).await {
        tracing::debug!(error = %e, bucket = BUCKET, "bucket not created");
    }
}

/// Reads the counter, works out the step, and writes it only if nobody
/// wrote in between (expected revision); otherwise reads again.
async fn compare_and_set(
    store: &kv::Store,
    key: &Key,
    rule: &Rule,
    op: Op,
) -> Result<Result<(), RetryAfter>, KvError> {
    for _ in 0..RACES {
        let entry = store
            .entry(key.as_str())
            .await
            .map_err(|e| failed("reading a counter", e))?;
        let (stored, revision) = match entry {
            Some(e) if e.operation == Operation::Put => {
                (Window::decode(&e.value), Some(e.revision))
            }
            Some(e) => (None, Some(e.revision)),
            None => (None, None),
        };
        let next = match Window::step(stored, op, rule, unix_millis()) {
            Step::Keep => return Ok(Ok(())),
            Step::Refuse(wait) => return Ok(Err(wait)),
            Step::Write(next) => next.encode().into(),
        };
        let raced = match revision {
            Some(revision) => match store.update(key.as_str(), next, revision).await {
                Ok(_) => false,
                Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => true,
                Err(e) => return Err(failed("update", e)),
            },
            None => match store.create(key.as_str(), next).await {
                Ok(_) => false,
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => true,
                Err(e) => return Err(failed("create", e)),
            },
        };
        if !raced {
            return Ok(Ok(()));
        }
    }
    Err(failed(
        key.as_str(),
        format!("changed under each of {RACES} attempts"),
    ))
}

/// The shared clock: the wall clock, in milliseconds.
fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, window::millis)
}
