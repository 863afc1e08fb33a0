//! Arbitrary input never panics the frame parser, the message decoder or the
//! checks of messages from the bus, and every failure is the one documented error.

// In tests an unwrap that fails is the test failing, with its message.
#![allow(clippy::unwrap_used)]

use chat_shared::bus::{inbound, BusKey, Envelope};
use chat_shared::frames::{ClientFrame, ErrorCode};
use chat_shared::message::Message;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn any_text_frame_parses_or_is_invalid_frame(text in ".*") {
        if let Err(e) = ClientFrame::parse(&text) {
            prop_assert_eq!(e.code, ErrorCode::InvalidFrame);
        }
    }

    #[test]
    fn frame_shaped_json_parses_or_is_invalid_frame(
        kind in "(join|leave|send|typing|dance|)",
        channel in ".{0,60}",
        extra in "(,\"since\":\"[0-9A-Z]{0,30}\"|,\"text\":\".{0,40}\"|,\"ref\":7|,\"x\":null|)",
    ) {
        let text = format!("{{\"type\":\"{kind}\",\"channel\":{}{extra}}}", serde_json::to_string(&channel).unwrap());
        if let Err(e) = ClientFrame::parse(&text) {
            prop_assert_eq!(e.code, ErrorCode::InvalidFrame);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_message_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = serde_json::from_slice::<Message>(&bytes);
    }

    #[test]
    fn message_shaped_payloads_from_the_bus_never_panic_the_checks(
        id in "[0-9A-Z]{0,27}",
        user in ".{0,40}",
        text in ".{0,60}",
        ts in "(2026-11-29T12:00:00.000Z|9999-12-31T23:59:59Z|[0-9TZ:.+-]{0,30})",
        sig in "[0-9a-f]{0,70}",
    ) {
        let payload = serde_json::json!({
            "id": id, "channel": "general", "user": user, "text": text, "ts": ts, "kind": user,
        });
        let envelope = Envelope {
            subject: "chat.msg.general".to_owned(),
            reply: None,
            headers: vec![("Chat-Sig".to_owned(), sig)],
            payload: payload.to_string().into(),
        };
        let _ = inbound::accept(&envelope, &BusKey::derive(&[1; 64]), chrono::Utc::now());
    }
}
