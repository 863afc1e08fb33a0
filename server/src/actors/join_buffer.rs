//! Live frames held back while a connection joins a channel: the client must
//! get the history first, then whatever arrived meanwhile that the history
//! does not already hold (a message can be in both: it was stored before the
//! history was read and delivered live before it was sent).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chat_shared::message::Message;

use super::ChannelFrame;

/// Joins in flight, each with the frames held for it.
pub struct JoinBuffer {
    pending: HashMap<Arc<str>, Vec<ChannelFrame>>,
    /// Most frames held for one join; past it the connection is too far behind.
    capacity: usize,
}

/// What became of a frame offered to the buffer.
pub enum Held {
    /// Its channel is not joining: send it now.
    No(ChannelFrame),
    Yes,
    /// Its join already holds `capacity` frames.
    Overflow,
}

impl JoinBuffer {
    pub fn new(capacity: usize) -> Self {
        Self {
            pending: HashMap::new(),
            capacity,
        }
    }

    /// Starts holding frames for `channel` (a join already in flight keeps
    /// what it holds).
    pub fn start(&mut self, channel: Arc<str>) {
        self.pending.entry(channel).or_default();
    }

    pub fn is_joining(&self, channel: &str) -> bool {
        self.pending.contains_key(channel)
    }

    /// How many joins are in flight.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Holds `frame` if its channel is joining.
    pub fn hold(&mut self, frame: ChannelFrame) -> Held {
        match self.pending.get_mut(&frame.channel) {
            None => Held::No(frame),
            Some(held) if held.len() >= self.capacity => Held::Overflow,
            Some(held) => {
                held.push(frame);
                Held::Yes
            }
        }
    }

    /// Ends the join of `channel`: the frames held for it, less the messages
    /// already in `history`, in arrival order.
    pub fn finish(&mut self, channel: &str, history: &[Message]) -> Vec<ChannelFrame> {
        let held = self.pending.remove(channel).unwrap_or_default();
        let seen: HashSet<&str> = history.iter().map(|m| m.id.as_str()).collect();
        held.into_iter()
            .filter(|f| f.id.as_deref().is_none_or(|id| !seen.contains(id)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chat_shared::names::{ChannelName, MessageText};

    use super::*;

    fn frame(channel: &str, id: Option<&str>, body: &str) -> ChannelFrame {
        ChannelFrame {
            channel: Arc::from(channel),
            id: id.map(Arc::from),
            frame: body.into(),
            sent_ms: 0,
            accepted_ms: 0,
        }
    }

    fn message() -> Message {
        let text = MessageText::parse("hi").unwrap();
        Message::new(ChannelName::general(), "alice", text, false)
    }

    fn bodies(frames: &[ChannelFrame]) -> Vec<&str> {
        frames.iter().map(|f| &*f.frame).collect()
    }

    #[test]
    fn frames_of_other_channels_pass_and_a_joining_channel_holds_its_own() {
        let mut b = JoinBuffer::new(10);
        b.start(Arc::from("general"));
        assert!(b.is_joining("general") && !b.is_joining("random"));
        assert!(matches!(b.hold(frame("random", None, "r")), Held::No(f) if &*f.frame == "r"));
        assert!(matches!(b.hold(frame("general", None, "g")), Held::Yes));
        b.start(Arc::from("general"));
        assert_eq!(b.len(), 1);
        assert_eq!(bodies(&b.finish("general", &[])), vec!["g"]);
        assert!(b.is_empty() && !b.is_joining("general"));
        assert!(matches!(
            b.hold(frame("general", None, "later")),
            Held::No(_)
        ));
    }

    #[test]
    fn messages_already_in_the_history_are_dropped_and_the_rest_keep_their_order() {
        let mut b = JoinBuffer::new(10);
        let stored = message();
        b.start(Arc::from("general"));
        for f in [
            frame("general", Some(&stored.id), "dup"),
            frame("general", None, "presence"),
            frame("general", Some("01JNEWER00000000000000000A"), "new"),
        ] {
            assert!(matches!(b.hold(f), Held::Yes));
        }
        let out = b.finish("general", std::slice::from_ref(&stored));
        assert_eq!(bodies(&out), vec!["presence", "new"]);
    }

    #[test]
    fn a_join_holding_its_capacity_overflows() {
        let mut b = JoinBuffer::new(2);
        b.start(Arc::from("general"));
        assert!(matches!(b.hold(frame("general", None, "1")), Held::Yes));
        assert!(matches!(b.hold(frame("general", None, "2")), Held::Yes));
        assert!(matches!(
            b.hold(frame("general", None, "3")),
            Held::Overflow
        ));
    }

    #[test]
    fn finishing_a_join_that_was_never_started_gives_nothing() {
        let mut b = JoinBuffer::new(2);
        assert!(b.finish("general", &[]).is_empty());
    }
}
