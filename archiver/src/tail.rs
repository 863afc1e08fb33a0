//! The part of a channel's history that may not be archived yet: read back
//! from the JetStream stream, so `since` recovery misses nothing.

use std::time::Duration;

use chat_shared::bus::read_back::{From, Then};
use chat_shared::bus::{inbound, BusKey, NatsBus};
use chat_shared::message::Message;
use chat_shared::names::ChannelName;
use chat_shared::subjects;

/// How far before the `since` id's time the stream is read, to allow for
/// clocks that differ between servers and NATS.
const CLOCK_SLACK: chrono::Duration = chrono::Duration::seconds(30);
/// Messages read beyond a reply's limit, for those stored before `since`.
const READ_MORE: usize = 10_000;
/// How long reading the whole tail may take before it is given up (an error,
/// never a part of it).
const READ_WITHIN: Duration = Duration::from_secs(5);

/// Reads recent messages of a channel from the `CHAT` stream, each checked
/// as the archiver checks what it stores (`key` tells the servers' messages).
#[derive(Clone)]
pub struct StreamTail {
    bus: NatsBus,
    key: BusKey,
}

impl StreamTail {
    pub fn new(bus: NatsBus, key: BusKey) -> Self {
        Self { bus, key }
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
            .read_from(channel, start, limit, (since, since_time))
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

    /// The channel's messages stored since `start`, in the stream's order,
    /// each with the time it was stored; all of them up to the stream's end
    /// (or at least `limit` plus `READ_MORE`), or an error: never a part
    /// that looks whole.
    /// Before `since` is met (its id, and its id's time), a
    /// message with a lower id stored before that time is passed over
    /// unchecked: `after` drops it whatever it holds, and checking every
    /// message of the slack costs a client's catch-up more than the rest.
    async fn read_from(
        &self,
        channel: &ChannelName,
        start: chrono::DateTime<chrono::Utc>,
        limit: usize,
        (since, since_time): (&str, chrono::DateTime<chrono::Utc>),
    ) -> Result<Vec<(Message, chrono::DateTime<chrono::Utc>)>, String> {
        let mut out = Vec::new();
        let mut met = false;
        let mut take = |envelope: chat_shared::bus::Envelope, at| {
            if !met {
                match IdOnly::of(&envelope.payload) {
                    Some(id) if id == since => met = true,
                    Some(id) if id.as_str() < since && at < since_time => return Then::More,
                    _ => {}
                }
            }
            if let Ok(message) = inbound::receive(&envelope, &self.key) {
                if message.channel == *channel {
                    out.push((message, at));
                }
            }
            match out.len() < limit + READ_MORE {
                true => Then::More,
                false => Then::Stop,
            }
        };
        let (stream, subject) = (subjects::MSG_STREAM, subjects::msg(channel));
        self.bus
            .read_back(stream, &subject, From::Time(start), READ_WITHIN, &mut take)
            .await
            .map_err(|e| e.to_string())?;
        Ok(out)
    }
}

/// A message's id, read without the rest of it; `None` for a change or
/// anything that is not a message.
#[derive(serde::Deserialize)]
struct IdOnly<'a> {
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
}

impl IdOnly<'_> {
    fn of(payload: &[u8]) -> Option<String> {
        if chat_shared::change::is_change(payload) {
            return None;
        }
        serde_json::from_slice::<IdOnly<'_>>(payload)
            .ok()
            .map(|m| m.id.into_owned())
    }
}
