//! The part of a channel's history that may not be archived yet: read back
//! from the JetStream stream, so `since` recovery misses nothing.

use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use chat_shared::bus::{inbound, BusKey, NatsBus};
use chat_shared::message::Message;
use chat_shared::names::ChannelName;
use chat_shared::subjects;
use futures::StreamExt;

use crate::source::STREAM;

/// How far before the `since` id's time the stream is read, to allow for
/// clocks that differ between servers and NATS.
const CLOCK_SLACK: chrono::Duration = chrono::Duration::seconds(30);
/// Messages read beyond a reply's limit, for those stored before `since`.
const READ_MORE: usize = 10_000;
/// How long one read of the stream may wait for messages.
const FETCH_WAIT: Duration = Duration::from_millis(300);
/// How long reading the whole tail may take before it is given up (an error,
/// never a part of it).
const READ_WITHIN: Duration = Duration::from_secs(5);

/// Reads recent messages of a channel from the `CHAT` stream, each checked
/// as the archiver checks what it stores (`key` tells the servers' messages).
#[derive(Clone)]
pub struct StreamTail {
    js: jetstream::Context,
    key: BusKey,
}

impl StreamTail {
    pub fn new(client: async_nats::Client, key: BusKey) -> Self {
        Self {
            js: jetstream::new(client),
            key,
        }
    }

    /// Messages of `channel` a client that received `since` may lack, in
    /// the stream's order: every one stored after it, whatever its id, and
    /// any with a later id. Servers deliver in the stream's order, so a
    /// client that got `since` got everything stored before it; ids are
    /// given when a server accepts a message, so one accepted a moment
    /// before `since` on another server may have been stored after it.
    pub async fn after(
        &self,
        channel: &ChannelName,
        since: &str,
        limit: usize,
    ) -> Result<Vec<Message>, String> {
        let since_ms = ulid::Ulid::from_string(since)
            .map_err(|e| e.to_string())?
            .timestamp_ms();
        let since_time =
            chrono::DateTime::from_timestamp_millis(since_ms as i64).unwrap_or_default();
        let start = since_time - CLOCK_SLACK;
        let read = self
            .read_from(subjects::msg(channel), channel, start, limit)
            .await?;
        // Stored after `since`; if `since` is not in the stream (it was
        // stored before the stream's oldest message), after its id's time.
        let position = read.iter().position(|(m, _)| m.id == since);
        Ok(read
            .into_iter()
            .enumerate()
            .filter(|(i, (m, at))| match position {
                Some(p) => *i > p || m.id.as_str() > since,
                None => m.id.as_str() > since || *at >= since_time,
            })
            .map(|(_, (m, _))| m)
            .collect())
    }

    /// The channel's messages on `subject` stored since `start`, in the
    /// stream's order, each with the time it was stored; all of them up to
    /// the stream's end (or at least `limit` plus `READ_MORE`), or an error:
    /// never a part that looks whole.
    async fn read_from(
        &self,
        subject: String,
        channel: &ChannelName,
        start: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<Vec<(Message, chrono::DateTime<chrono::Utc>)>, String> {
        let stream = self
            .js
            .get_stream(STREAM)
            .await
            .map_err(|e| e.to_string())?;
        let name = format!(
            "tail-{}",
            chat_shared::message::next_id()
                .to_string()
                .to_ascii_lowercase()
        );
        let reader: consumer::PullConsumer = stream
            .create_consumer(consumer::pull::Config {
                name: Some(name.clone()),
                filter_subject: subject,
                deliver_policy: consumer::DeliverPolicy::ByStartTime { start_time: start },
                ack_policy: consumer::AckPolicy::None,
                inactive_threshold: Duration::from_secs(10),
                memory_storage: true,
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        // As the stream stood when the reader was made.
        let pending = reader.cached_info().num_pending;
        let read = self.read_all(&reader, channel, pending, limit).await;
        let _ = stream.delete_consumer(&name).await;
        read
    }

    /// Reads `reader` until nothing is pending (as each delivery says).
    async fn read_all(
        &self,
        reader: &consumer::PullConsumer,
        channel: &ChannelName,
        mut pending: u64,
        limit: usize,
    ) -> Result<Vec<(Message, chrono::DateTime<chrono::Utc>)>, String> {
        let deadline = tokio::time::Instant::now() + READ_WITHIN;
        let mut out = Vec::new();
        while pending > 0 && out.len() < limit + READ_MORE {
            if tokio::time::Instant::now() > deadline {
                return Err(format!("the stream still had {pending} messages to give"));
            }
            let mut batch = reader
                .fetch()
                .max_messages(pending.min(500) as usize)
                .expires(FETCH_WAIT)
                .messages()
                .await
                .map_err(|e| e.to_string())?;
            while let Some(m) = batch.next().await {
                let m = m.map_err(|e| e.to_string())?;
                let info = m.info().map_err(|e| e.to_string())?;
                pending = info.pending;
                let at = info.published.to_utc();
                let envelope = NatsBus::envelope(m.message);
                if let Ok(message) = inbound::receive(&envelope, &self.key) {
                    if message.channel == *channel {
                        out.push((message, at));
                    }
                }
            }
        }
        Ok(out)
    }
}
