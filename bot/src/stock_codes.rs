//! The stock codes of a `/stock` command's arguments, as the bot reads them.

/// Most codes one `/stock` command may ask for.
pub const MAX_CODES: usize = 5;

/// The usage line for `/stock`.
pub const USAGE: &str = "Usage: /stock=CODE, e.g. /stock=aapl.us, or up to 5 codes separated by commas \
                         (/stock=aapl.us,msft.us). Codes are letters, digits, '.' and '-', at most 20 characters.";

/// Whether `code` is a plausible stock code: letters, digits, `.`, `-`, at most 20.
pub fn is_valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 20
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// The codes of `/stock=a,b,…`, lower-cased, in order, without repeats; `None`
/// when there are none, more than `MAX_CODES`, or any is not a code.
pub fn parse_codes(args: &str) -> Option<Vec<String>> {
    let mut codes: Vec<String> = Vec::new();
    for part in args.split(',') {
        let code = part.trim().to_ascii_lowercase();
        if !is_valid_code(&code) {
            return None;
        }
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    (codes.len() <= MAX_CODES).then_some(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_or_several_codes_case_insensitive() {
        assert_eq!(parse_codes("AAPL.US"), Some(vec!["aapl.us".to_owned()]));
        assert_eq!(
            parse_codes("aapl.us, msft.us"),
            Some(vec!["aapl.us".to_owned(), "msft.us".to_owned()])
        );
        assert_eq!(
            parse_codes("aapl.us,AAPL.US"),
            Some(vec!["aapl.us".to_owned()]),
            "repeats asked once"
        );
        assert_eq!(parse_codes("brk-b.us"), Some(vec!["brk-b.us".to_owned()]));
        assert!(parse_codes("a,".repeat(4).trim_end_matches(',')).is_some());
    }

    #[test]
    fn bad_empty_or_too_many_codes_get_the_usage() {
        for bad in [
            "",
            " ",
            ",",
            "aapl.us,",
            "aa pl",
            "aapl.us;drop",
            "<b>",
            "ünï",
            &"x".repeat(21),
            "a,b,c,d,e,f",
        ] {
            assert_eq!(parse_codes(bad), None, "{bad:?}");
        }
        assert!(parse_codes(&"x".repeat(20)).is_some());
    }
}
