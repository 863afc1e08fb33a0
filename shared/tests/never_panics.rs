//! Arbitrary input never panics the frame parser or the message decoder, and
//! every failure is the one documented error.

// In tests an unwrap that fails is the test failing, with its message.
#![allow(clippy::unwrap_used)]

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
}
