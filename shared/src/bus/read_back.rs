//! Reading back what a JetStream stream stored on one subject: a short-lived
//! pull consumer, read until nothing is pending as the stream stood when the
//! consumer was made. Either all of it or an error: never a part that looks
//! whole.

use std::time::Duration;

use async_nats::jetstream::context::ConsumerInfoErrorKind;
use async_nats::jetstream::{consumer, stream};
use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::nats::{unavailable, NatsBus};
use super::{BusError, Envelope};

/// How long one fetch may wait for messages.
const FETCH_WAIT: Duration = Duration::from_millis(300);
/// Messages asked for in one fetch.
const BATCH: u64 = 500;
/// A reader nobody deletes (its process died) is removed after this.
const INACTIVE: Duration = Duration::from_secs(10);

/// Where reading back starts.
#[derive(Debug, Clone, Copy)]
pub enum From {
    /// The first message stored at or after this time.
    Time(DateTime<Utc>),
    /// The message stored right after this sequence (0: the stream's first).
    After(u64),
}

/// What to do with each message read back: go on, or stop here.
pub enum Then {
    More,
    Stop,
}

impl NatsBus {
    /// Hands `take` each message `stream` stored on `subject` from `from` on,
    /// in the stream's order, with the time it was stored, until nothing is
    /// left (as the stream stood when reading began) or `take` says stop.
    /// Past `within` it gives up with an error.
    pub async fn read_back(
        &self,
        stream: &str,
        subject: &str,
        from: From,
        within: Duration,
        take: &mut (dyn FnMut(Envelope, DateTime<Utc>) -> Then + Send),
    ) -> Result<(), BusError> {
        let stream = self.stream(stream).await?;
        Reader::read_once(&stream, subject, from, within, take).await
    }

    /// Hands `take` what `stream` stored on `subject` that the durable
    /// consumer `consumer` has not acknowledged yet (nor anything before it):
    /// for an archive fed by that consumer, the messages still on their way
    /// to it. Nothing when the consumer has everything acknowledged (or
    /// there is no stream); every message when there is no such consumer yet.
    pub async fn read_unacknowledged(
        &self,
        stream: &str,
        consumer: &str,
        subject: &str,
        within: Duration,
        take: &mut (dyn FnMut(Envelope, DateTime<Utc>) -> Then + Send),
    ) -> Result<(), BusError> {
        let handle = self.stream(stream).await?;
        let floor = match handle.consumer_info(consumer).await {
            Ok(info) if info.num_pending == 0 && info.num_ack_pending == 0 => return Ok(()),
            Ok(info) => info.ack_floor.stream_sequence,
            Err(e) if e.kind() == ConsumerInfoErrorKind::NotFound => 0,
            // Nothing was ever stored.
            Err(e) if e.kind() == ConsumerInfoErrorKind::StreamNotFound => return Ok(()),
            Err(e) => return Err(unavailable(e)),
        };
        Reader::read_once(&handle, subject, From::After(floor), within, take).await
    }

    /// A handle on the stream, without asking NATS about it.
    async fn stream(&self, name: &str) -> Result<stream::Stream<()>, BusError> {
        self.jetstream
            .get_stream_no_info(name)
            .await
            .map_err(unavailable)
    }
}

/// One short-lived pull consumer.
struct Reader {
    name: String,
    consumer: consumer::PullConsumer,
    /// Messages left to read when it was made.
    pending: u64,
}

impl Reader {
    /// Creates a reader, reads it to the end, and deletes it.
    async fn read_once(
        stream: &stream::Stream<()>,
        subject: &str,
        from: From,
        within: Duration,
        take: &mut (dyn FnMut(Envelope, DateTime<Utc>) -> Then + Send),
    ) -> Result<(), BusError> {
        let reader = Reader::create(stream, subject, from).await?;
        let read = reader.read(within, take).await;
        let _ = stream.delete_consumer(&reader.name).await;
        read
    }

    async fn create(
        stream: &stream::Stream<()>,
        subject: &str,
        from: From,
    ) -> Result<Self, BusError> {
        let name = format!(
            "read-{}",
            crate::message::next_id().to_string().to_ascii_lowercase()
        );
        let deliver_policy = match from {
            From::Time(start_time) => consumer::DeliverPolicy::ByStartTime { start_time },
            From::After(0) => consumer::DeliverPolicy::All,
            From::After(sequence) => consumer::DeliverPolicy::ByStartSequence {
                start_sequence: sequence + 1,
            },
        };
        let consumer: consumer::PullConsumer = stream
            .create_consumer(consumer::pull::Config {
                name: Some(name.clone()),
                filter_subject: subject.to_owned(),
                deliver_policy,
                ack_policy: consumer::AckPolicy::None,
                inactive_threshold: INACTIVE,
                // One replica in memory: a reader lives for one read, and
                // on a replicated stream the default (the stream's replicas)
                // would make each read wait for a consensus group to form,
                // and fail while a node of it is down.
                num_replicas: 1,
                memory_storage: true,
                ..Default::default()
            })
            .await
            .map_err(unavailable)?;
        let pending = consumer.cached_info().num_pending;
        Ok(Self {
            name,
            consumer,
            pending,
        })
    }

    /// Reads until nothing is pending (as each delivery says).
    async fn read(
        &self,
        within: Duration,
        take: &mut (dyn FnMut(Envelope, DateTime<Utc>) -> Then + Send),
    ) -> Result<(), BusError> {
        let deadline = tokio::time::Instant::now() + within;
        let mut pending = self.pending;
        while pending > 0 {
            if tokio::time::Instant::now() > deadline {
                let e = format!("the stream still had {pending} messages to give");
                return Err(BusError::Unavailable(e));
            }
            let mut batch = self
                .consumer
                .fetch()
                .max_messages(pending.min(BATCH) as usize)
                .expires(FETCH_WAIT)
                .messages()
                .await
                .map_err(unavailable)?;
            while let Some(m) = batch.next().await {
                let m = m.map_err(unavailable)?;
                let info = m.info().map_err(unavailable)?;
                pending = info.pending;
                let at = info.published.to_utc();
                if let Then::Stop = take(NatsBus::envelope(m.message), at) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}
