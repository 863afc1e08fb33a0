//! Reassembly of fragmented WebSocket messages (RFC 6455 §5.4): a message
//! may arrive as a first frame and continuations, with control frames
//! (ping, pong) in between; the whole message is bounded like one frame.

use actix_http::ws::Item;
use actix_web::web::{Bytes, BytesMut};
use actix_web_actors::ws::CloseCode;

/// A whole message put together from its fragments.
#[derive(Debug, PartialEq, Eq)]
pub enum Whole {
    Text(String),
    Binary,
}

/// Why a fragment ends the connection, with the close code RFC 6455 gives it.
#[derive(Debug, PartialEq, Eq)]
pub struct Broken {
    pub code: CloseCode,
    pub why: &'static str,
}

/// The message being put together, if any.
#[derive(Debug, Default)]
pub struct Fragments {
    open: Option<(bool, BytesMut)>,
}

impl Fragments {
    /// Takes one fragment; `Ok(Some(_))` when it completed a message.
    pub fn push(&mut self, item: Item, max_bytes: usize) -> Result<Option<Whole>, Broken> {
        let (is_text, data, last) = match item {
            Item::FirstText(b) => self.start(true, b)?,
            Item::FirstBinary(b) => self.start(false, b)?,
            Item::Continue(b) => (self.kind()?, b, false),
            Item::Last(b) => (self.kind()?, b, true),
        };
        let (_, buffer) = self.open.get_or_insert_with(|| (is_text, BytesMut::new()));
        if buffer.len() + data.len() > max_bytes {
            self.open = None;
            return Err(Broken {
                code: CloseCode::Size,
                why: "Message too large.",
            });
        }
        buffer.extend_from_slice(&data);
        if !last {
            return Ok(None);
        }
        let (_, buffer) = self.open.take().expect("a message is open");
        if !is_text {
            return Ok(Some(Whole::Binary));
        }
        String::from_utf8(buffer.to_vec())
            .map(|t| Some(Whole::Text(t)))
            .map_err(|_| Broken {
                code: CloseCode::Invalid,
                why: "Text is not valid UTF-8.",
            })
    }

    fn start(&mut self, is_text: bool, data: Bytes) -> Result<(bool, Bytes, bool), Broken> {
        if self.open.is_some() {
            return Err(Broken {
                code: CloseCode::Protocol,
                why: "A new message began before the last one ended.",
            });
        }
        self.open = Some((is_text, BytesMut::new()));
        Ok((is_text, data, false))
    }

    fn kind(&self) -> Result<bool, Broken> {
        self.open.as_ref().map(|(t, _)| *t).ok_or(Broken {
            code: CloseCode::Protocol,
            why: "A continuation came without a message to continue.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn fragments_make_one_text_message() {
        let mut f = Fragments::default();
        assert_eq!(f.push(Item::FirstText(b("{\"type\":")), 100), Ok(None));
        assert_eq!(f.push(Item::Continue(b("\"join\",")), 100), Ok(None));
        let whole = f.push(Item::Last(b("\"channel\":\"general\"}")), 100);
        assert_eq!(
            whole,
            Ok(Some(Whole::Text(
                "{\"type\":\"join\",\"channel\":\"general\"}".to_owned()
            )))
        );
        assert_eq!(f.push(Item::FirstBinary(b("x")), 100), Ok(None));
        assert_eq!(f.push(Item::Last(b("y")), 100), Ok(Some(Whole::Binary)));
    }

    #[test]
    fn a_message_past_the_limit_a_stray_continuation_and_bad_utf8_are_refused() {
        let mut f = Fragments::default();
        f.push(Item::FirstText(b("12345")), 8).unwrap();
        assert_eq!(
            f.push(Item::Continue(b("6789")), 8).unwrap_err().code,
            CloseCode::Size
        );
        let mut f = Fragments::default();
        assert_eq!(
            f.push(Item::Last(b("x")), 8).unwrap_err().code,
            CloseCode::Protocol
        );
        let mut f = Fragments::default();
        f.push(Item::FirstText(b("a")), 8).unwrap();
        assert_eq!(
            f.push(Item::FirstText(b("b")), 8).unwrap_err().code,
            CloseCode::Protocol
        );
        let mut f = Fragments::default();
        f.push(Item::FirstText(Bytes::from_static(&[0xe2, 0x82])), 8)
            .unwrap();
        assert_eq!(
            f.push(Item::Last(Bytes::from_static(&[0x28])), 8)
                .unwrap_err()
                .code,
            CloseCode::Invalid
        );
    }
}
