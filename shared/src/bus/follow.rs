//! Following what a JetStream stream stores on one subject, in the stream's
//! order, with nothing missed: a push consumer with flow control and idle
//! heartbeats, read by a task that checks each delivery's consumer sequence.
//! A gap (a delivery lost in transit), a missed heartbeat (the consumer's
//! node died) or a reconnection makes it create a new consumer starting
//! right after the last message it passed on. Each message therefore comes
//! once and in order, whatever happens to the NATS node in between.

use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use chrono::Utc;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::nats::{unavailable, NatsBus};
use super::{BusError, Envelope, Subscription};

/// How often an idle consumer says it is alive; two periods without a word
/// and it is recreated.
const HEARTBEAT: Duration = Duration::from_secs(2);
/// A consumer nobody reads (its process died) is removed after this.
const INACTIVE: Duration = Duration::from_secs(30);
/// Messages handed on but not yet taken by the subscriber; past it the
/// follower stops reading, and flow control holds the stream back.
const QUEUE: usize = 4096;
/// How long the first consumer may take before the subscription is handed
/// over anyway (it keeps trying, from the time of the call).
const FIRST_WITHIN: Duration = Duration::from_secs(5);
/// Waits between attempts to create a consumer, growing to the last.
const RETRY: [Duration; 4] = [
    Duration::from_millis(100),
    Duration::from_millis(300),
    Duration::from_secs(1),
    Duration::from_secs(2),
];
/// Taken from a start time, for clocks that differ between processes.
const CLOCK_SLACK: chrono::Duration = chrono::Duration::seconds(5);

/// Where the next consumer starts.
#[derive(Clone, Copy, Debug)]
enum From {
    Sequence(u64),
    Time(chrono::DateTime<Utc>),
}

impl From {
    fn policy(self) -> consumer::DeliverPolicy {
        match self {
            From::Sequence(start_sequence) => {
                consumer::DeliverPolicy::ByStartSequence { start_sequence }
            }
            From::Time(start_time) => consumer::DeliverPolicy::ByStartTime { start_time },
        }
    }
}

struct Follower {
    js: jetstream::Context,
    stream: String,
    subject: String,
    from: From,
    tx: mpsc::Sender<Envelope>,
    /// Changes when the NATS connection comes back: deliveries may have been
    /// lost in transit, and a quiet channel would not show the gap.
    reconnections: tokio::sync::watch::Receiver<u64>,
}

/// One consumer being read: its name (to delete it) and its deliveries.
struct Reading {
    name: String,
    messages: consumer::push::Messages,
    /// The consumer sequence the next delivery must carry.
    expected: u64,
}

/// Starts following `subject` of `stream` from the next message it stores.
pub async fn follow(bus: &NatsBus, stream: &str, subject: &str) -> Subscription {
    let called = Utc::now();
    let (tx, mut rx) = mpsc::channel(QUEUE);
    let mut follower = Follower {
        js: jetstream::new(bus.client().clone()),
        stream: stream.to_owned(),
        subject: subject.to_owned(),
        from: From::Time(called - CLOCK_SLACK),
        tx,
        reconnections: bus.reconnections(),
    };
    follower.reconnections.borrow_and_update();
    let first = tokio::time::timeout(FIRST_WITHIN, follower.start_here()).await;
    let reading = match first {
        Ok(Ok(reading)) => Some(reading),
        Ok(Err(e)) => {
            tracing::warn!(stream, subject, error = %e, "could not follow the stream yet; retrying");
            None
        }
        Err(_) => {
            tracing::warn!(
                stream,
                subject,
                "the stream did not answer in time; retrying"
            );
            None
        }
    };
    tokio::spawn(follower.run(reading));
    Subscription::new(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
}

impl Follower {
    /// The first consumer, starting after the stream's last message now (or,
    /// when there is no stream yet, at its beginning).
    async fn start_here(&mut self) -> Result<Reading, BusError> {
        self.from = match self.js.get_stream(&self.stream).await {
            Ok(mut stream) => {
                let info = stream.info().await.map_err(unavailable)?;
                From::Sequence(info.state.last_sequence + 1)
            }
            Err(e) if is_missing(&e) => From::Sequence(1),
            Err(e) => return Err(unavailable(e)),
        };
        self.open().await
    }

    /// A new consumer from `self.from`.
    async fn open(&self) -> Result<Reading, BusError> {
        let stream = self
            .js
            .get_stream_no_info(&self.stream)
            .await
            .map_err(unavailable)?;
        let consumer: consumer::PushConsumer = stream
            .create_consumer(consumer::push::Config {
                deliver_subject: self.js.client().new_inbox(),
                filter_subject: self.subject.clone(),
                deliver_policy: self.from.policy(),
                ack_policy: consumer::AckPolicy::None,
                max_deliver: 1,
                flow_control: true,
                idle_heartbeat: HEARTBEAT,
                inactive_threshold: INACTIVE,
                num_replicas: 1,
                memory_storage: true,
                ..Default::default()
            })
            .await
            .map_err(unavailable)?;
        let name = consumer.cached_info().name.clone();
        let messages = consumer.messages().await.map_err(unavailable)?;
        Ok(Reading {
            name,
            messages,
            expected: 1,
        })
    }

    /// Reads, and reopens, until the subscriber is dropped.
    async fn run(mut self, mut reading: Option<Reading>) {
        let mut attempt = 0;
        loop {
            let Some(mut current) = reading.take() else {
                if self.tx.is_closed() {
                    return;
                }
                match self.open().await {
                    Ok(r) => {
                        tracing::info!(subject = %self.subject, from = ?self.from, "following the stream again");
                        attempt = 0;
                        reading = Some(r);
                    }
                    Err(e) => {
                        tracing::debug!(subject = %self.subject, error = %e, "could not follow the stream; retrying");
                        tokio::time::sleep(RETRY[attempt.min(RETRY.len() - 1)]).await;
                        attempt += 1;
                    }
                }
                continue;
            };
            let done = self.read(&mut current).await;
            self.close(&current.name).await;
            if done {
                return;
            }
        }
    }

    /// Hands on deliveries in order; true once the subscriber is gone, false
    /// when the consumer must be replaced.
    async fn read(&mut self, reading: &mut Reading) -> bool {
        loop {
            let next = tokio::select! {
                next = reading.messages.next() => next,
                () = self.tx.closed() => return true,
                Ok(()) = self.reconnections.changed() => {
                    tracing::info!(subject = %self.subject, "reconnected to NATS; following the stream anew");
                    return false;
                }
            };
            let message = match next {
                Some(Ok(message)) => message,
                Some(Err(e)) => {
                    tracing::info!(subject = %self.subject, error = %e, "stream consumer lost; following again");
                    return false;
                }
                None => return false,
            };
            let Ok(info) = message.info() else {
                return false;
            };
            if info.consumer_sequence != reading.expected {
                tracing::info!(subject = %self.subject, "a delivery was missed; following again");
                return false;
            }
            let sequence = info.stream_sequence;
            reading.expected += 1;
            if self
                .tx
                .send(NatsBus::envelope(message.message))
                .await
                .is_err()
            {
                return true;
            }
            self.from = From::Sequence(sequence + 1);
        }
    }

    /// Removes a consumer no longer read (it would expire by itself).
    async fn close(&self, name: &str) {
        let remove = async {
            let stream = self.js.get_stream_no_info(&self.stream).await.ok()?;
            stream.delete_consumer(name).await.ok()
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), remove).await;
    }
}

/// Whether the stream does not exist (yet): then everything it will store
/// comes after now.
fn is_missing(e: &jetstream::context::GetStreamError) -> bool {
    matches!(
        e.kind(),
        jetstream::context::GetStreamErrorKind::JetStream(j)
            if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
    )
}
