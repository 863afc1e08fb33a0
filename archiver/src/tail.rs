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
/// A message is shown on every server within this long of being stored
/// (the servers' live publication after the stream's acknowledgement).
const SHOWN_WITHIN: chrono::Duration = chrono::Duration::seconds(10);
/// Messages read beyond a reply's limit, for those stored before `since`.
const READ_MORE: usize = 10_000;
/// How long one read of the stream may wait for messages.
const FETCH_WAIT: Duration = Duration::from_millis(300);

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

    /// Messages of `channel` a client holding `since` (its newest id) may
    /// lack, in the stream's order: those with a later id, and those stored
    /// after `since` (less `SHOWN_WITHIN`) whatever their id. Ids are given
    /// when a server accepts a message, but the stream stores messages in the
    /// order they arrive from every server, so a message accepted just before
    /// `since` on another server may be stored (and shown live) after it.
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
        // Members' messages and those posted straight to the bus, read apart
        // (a filter with a wildcard in the middle is refused by older NATS).
        let (members, posted) = futures::try_join!(
            self.read_from(subjects::post(channel), channel, start, limit),
            self.read_from(subjects::msg(channel), channel, start, limit),
        )?;
        let read: Vec<_> = members.into_iter().chain(posted).collect();
        // Stored after `since` (on the stream's clock, less a little for the
        // time a message takes from being stored to being shown); if `since`
        // is not in the stream, after its id's time.
        let from = read
            .iter()
            .find(|(m, _)| m.id == since)
            .map_or(since_time, |(_, at)| *at)
            - SHOWN_WITHIN;
        Ok(read
            .into_iter()
            .filter(|(m, at)| m.id.as_str() > since || (m.id.as_str() < since && *at >= from))
            .map(|(m, _)| m)
            .collect())
    }

    /// The channel's messages on `subject` stored since `start`, in the
    /// stream's order, each with the time it was stored; at most `limit`
    /// plus `READ_MORE`.
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
        let mut out = Vec::new();
        loop {
            let mut batch = reader
                .fetch()
                .max_messages(500)
                .expires(FETCH_WAIT)
                .messages()
                .await
                .map_err(|e| e.to_string())?;
            let mut got = 0;
            while let Some(m) = batch.next().await {
                let m = m.map_err(|e| e.to_string())?;
                got += 1;
                let at = m.info().map_err(|e| e.to_string())?.published.to_utc();
                let envelope = NatsBus::envelope(m.message);
                if let Ok(message) = inbound::receive(&envelope, &self.key) {
                    if message.channel == *channel {
                        out.push((message, at));
                    }
                }
            }
            if got < 500 || out.len() >= limit + READ_MORE {
                break;
            }
        }
        let _ = stream.delete_consumer(&name).await;
        Ok(out)
    }
}
