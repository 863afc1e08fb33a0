//! Arbitrary input never panics the bot's parsers.

// In tests an unwrap that fails is the test failing, with its message.
#![allow(clippy::unwrap_used)]

use chat_bot::quote::parse_csv;
use chat_bot::stock_codes::parse_codes;
use chat_shared::bot_commands::Command;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn command_text_never_panics(text in ".*") {
        if let Some(Command::Stock { args }) = Command::parse(&text) {
            if let Some(codes) = parse_codes(args) {
                prop_assert!(!codes.is_empty() && codes.len() <= 5);
            }
        }
    }

    #[test]
    fn commands_made_of_stock_like_text_never_panic(text in "/(stock|STOCK|help|x)?[= ]?[a-zA-Z0-9.,\\- ]{0,120}") {
        if let Some(Command::Stock { args }) = Command::parse(&text) {
            let _ = parse_codes(args);
        }
    }

    #[test]
    fn csv_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512), code in "[a-z.]{0,10}") {
        let _ = parse_csv(&body, &code);
    }

    #[test]
    fn csv_shaped_text_never_panics(rows in "(Symbol,Date,Time,Open,High,Low,Close,Volume\r?\n)?([A-Z.,0-9/\"-]{0,60}\r?\n){0,4}") {
        let _ = parse_csv(rows.as_bytes(), "x");
    }
}
