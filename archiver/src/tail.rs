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

    /// Messages of `channel` with an id after `since`, oldest first, at most `limit`.
    pub async fn after(
        &self,
        channel: &ChannelName,
        since: &str,
        limit: usize,
    ) -> Result<Vec<Message>, String> {
        let since_ms = ulid::Ulid::from_string(since)
            .map_err(|e| e.to_string())?
            .timestamp_ms();
        let start = chrono::DateTime::from_timestamp_millis(since_ms as i64).unwrap_or_default()
            - CLOCK_SLACK;
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
                filter_subject: subjects::msg(channel),
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
                let envelope = NatsBus::envelope(m.message);
                if let Ok(message) = inbound::receive(&envelope, &self.key) {
                    if message.id.as_str() > since && message.channel == *channel {
                        out.push(message);
                    }
                }
            }
            if got < 500 || out.len() >= limit {
                break;
            }
        }
        let _ = stream.delete_consumer(&name).await;
        Ok(out)
    }
}
