//! Chat commands: a message whose text starts with `/`. The server only
//! routes them by name to `chat.cmd.<name>`; the bot reads their arguments.

/// A command found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// `/stock=CODE[,CODE…]` (or `/stock CODE`); `args` as typed, trimmed.
    Stock { args: &'a str },
    /// `/help`.
    Help,
    /// Any other `/name`.
    Unknown { name: &'a str },
}

impl<'a> Command<'a> {
    /// The command in `text`, if it is one.
    pub fn parse(text: &'a str) -> Option<Self> {
        let rest = text.trim_start().strip_prefix('/')?;
        let end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let (name, args) = rest.split_at(end);
        let args = args.strip_prefix('=').unwrap_or(args).trim();
        Some(if name.eq_ignore_ascii_case("stock") {
            Command::Stock { args }
        } else if name.eq_ignore_ascii_case("help") {
            Command::Help
        } else {
            Command::Unknown { name }
        })
    }
}

/// The commands the bot knows, for `/help` and unknown commands.
pub const KNOWN: &[(&str, &str)] = &[
    (
        "/stock=CODE",
        "a stock quote, e.g. /stock=aapl.us (up to 5 codes separated by commas)",
    ),
    ("/help", "this list"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_recognised_by_name_case_insensitively() {
        assert_eq!(
            Command::parse("/stock=aapl.us"),
            Some(Command::Stock { args: "aapl.us" })
        );
        assert_eq!(
            Command::parse("/STOCK=AAPL.US"),
            Some(Command::Stock { args: "AAPL.US" })
        );
        assert_eq!(
            Command::parse("/stock aapl.us "),
            Some(Command::Stock { args: "aapl.us" })
        );
        assert_eq!(
            Command::parse("/stock= aapl.us, msft.us"),
            Some(Command::Stock {
                args: "aapl.us, msft.us"
            })
        );
        assert_eq!(Command::parse("/stock"), Some(Command::Stock { args: "" }));
        assert_eq!(Command::parse("/stock="), Some(Command::Stock { args: "" }));
        assert_eq!(Command::parse("/help"), Some(Command::Help));
        assert_eq!(Command::parse("/Help me"), Some(Command::Help));
        assert_eq!(
            Command::parse("/foo"),
            Some(Command::Unknown { name: "foo" })
        );
        assert_eq!(Command::parse("/"), Some(Command::Unknown { name: "" }));
        assert_eq!(
            Command::parse("/stockx=1"),
            Some(Command::Unknown { name: "stockx" })
        );
    }

    #[test]
    fn plain_text_is_not_a_command() {
        for text in ["hello", "a /stock=aapl.us", "stock=aapl.us", ""] {
            assert_eq!(Command::parse(text), None, "{text}");
        }
    }
}
