//! The bench's side of the WebSocket protocol: client frames, the probe text
//! every bench message carries (who sent it, its sequence number and the send
//! time), and a cheap classification of server frames.

use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch (the clock every process on this machine shares).
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

pub fn join(channel: &str) -> String {
    format!(r#"{{"type":"join","channel":"{channel}"}}"#)
}

pub fn leave(channel: &str) -> String {
    format!(r#"{{"type":"leave","channel":"{channel}"}}"#)
}

pub fn send(channel: &str, text: &str) -> String {
    format!(r#"{{"type":"send","channel":"{channel}","text":"{text}"}}"#)
}

/// What a bench message says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// The run it belongs to (messages of other runs are not counted).
    pub run: u32,
    /// Index of the server the sender is connected to.
    pub server: u16,
    pub sender: u32,
    pub seq: u64,
    /// Send time, µs since the epoch.
    pub sent_us: u64,
}

impl Probe {
    /// The message text, padded with `x` to at least `size` bytes.
    pub fn text(&self, size: usize) -> String {
        let mut t = format!(
            "b{:08x} {} {} {} {}",
            self.run, self.server, self.sender, self.seq, self.sent_us
        );
        if t.len() + 1 < size {
            t.push(' ');
            t.extend(std::iter::repeat_n('x', size - t.len()));
        }
        t
    }

    pub fn parse(text: &str) -> Option<Probe> {
        let mut parts = text.strip_prefix('b')?.split(' ');
        Some(Probe {
            run: u32::from_str_radix(parts.next()?, 16).ok()?,
            server: parts.next()?.parse().ok()?,
            sender: parts.next()?.parse().ok()?,
            seq: parts.next()?.parse().ok()?,
            sent_us: parts.next()?.parse().ok()?,
        })
    }
}

/// A server frame, told apart by its first bytes (the server writes `type` first).
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A `message` frame: the message text, still JSON-escaped.
    Message(&'a str),
    Ack,
    Joined,
    /// An `error` frame, whole.
    Error(&'a str),
    Other,
}

pub fn classify(frame: &str) -> Frame<'_> {
    let Some(rest) = frame.strip_prefix(r#"{"type":""#) else {
        return Frame::Other;
    };
    if rest.starts_with(r#"message""#) {
        return text_of(frame).map_or(Frame::Other, Frame::Message);
    }
    if rest.starts_with(r#"ack""#) {
        Frame::Ack
    } else if rest.starts_with(r#"joined""#) {
        Frame::Joined
    } else if rest.starts_with(r#"error""#) {
        Frame::Error(frame)
    } else {
        Frame::Other
    }
}

/// The raw `text` of the (first) message in a frame.
fn text_of(frame: &str) -> Option<&str> {
    const KEY: &str = r#""text":""#;
    let start = frame.find(KEY)? + KEY.len();
    let len = frame[start..].find('"')?;
    Some(&frame[start..start + len])
}

/// The `code` of an error frame.
pub fn error_code(frame: &str) -> &str {
    const KEY: &str = r#""code":""#;
    frame
        .find(KEY)
        .map(|i| &frame[i + KEY.len()..])
        .and_then(|r| r.split('"').next())
        .unwrap_or("unknown")
}

/// The `count` of a presence frame: how many are present.
pub fn presence_count(frame: &str) -> Option<u64> {
    const KEY: &str = r#""count":"#;
    let rest = &frame[frame.rfind(KEY)? + KEY.len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Messages in the `history` of a `joined` frame.
pub fn history_len(frame: &str) -> usize {
    frame.matches(r#""text":""#).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_shared::frames::ServerFrame;
    use chat_shared::message::Message;
    use chat_shared::names::{ChannelName, MessageText};

    #[test]
    fn a_presence_frame_says_how_many_are_present() {
        let frame = r#"{"type":"presence","channel":"g","joins":["count"],"leaves":[],"count":9876,"more":true}"#;
        assert_eq!(presence_count(frame), Some(9876));
        assert_eq!(presence_count(r#"{"type":"typing"}"#), None);
    }

    #[test]
    fn a_probe_survives_the_servers_message_frame() {
        let probe = Probe {
            run: 0xbeef,
            server: 1,
            sender: 42,
            seq: 7,
            sent_us: now_micros(),
        };
        let text = probe.text(100);
        assert!(text.len() >= 100);
        let m = Message::new(
            ChannelName::general(),
            "bench0001",
            MessageText::parse(&text).unwrap(),
            false,
        );
        let frame = ServerFrame::message_json(&serde_json::to_string(&m).unwrap());
        match classify(&frame) {
            Frame::Message(t) => assert_eq!(Probe::parse(t), Some(probe)),
            other => panic!("{other:?}"),
        }
        let sent: serde_json::Value = serde_json::from_str(&send("general", &text)).unwrap();
        assert_eq!(sent["text"], text.as_str());
    }

    #[test]
    fn frames_are_told_apart() {
        assert_eq!(classify(r#"{"type":"ack","id":"01X"}"#), Frame::Ack);
        assert_eq!(
            classify(r#"{"type":"joined","channel":"g","history":[],"members":[]}"#),
            Frame::Joined
        );
        let e = r#"{"type":"error","code":"rate_limited","message":"Slow down."}"#;
        assert_eq!(classify(e), Frame::Error(e));
        assert_eq!(error_code(e), "rate_limited");
        assert_eq!(
            classify(r#"{"type":"presence","channel":"g","user":"a","event":"join"}"#),
            Frame::Other
        );
        assert_eq!(Probe::parse("hello"), None);
    }
}
