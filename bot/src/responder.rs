//! Decides the bot's reply to each command: quotes (cached), usage, help,
//! unknown commands, and a polite word to users who go too fast.

use std::cell::RefCell;
use std::time::Instant;

use chat_shared::bot_commands::{shown_name, KNOWN};
use chat_shared::counters::{Counters, Op, Rule};

use crate::cache::QuoteCache;
use crate::config::BotLimits;
use crate::quote::{QuoteClient, QuoteError};
use crate::stock_codes::{parse_codes, USAGE};

/// Told when the quote service fails in any way.
pub const UNAVAILABLE: &str = "The quote service is unavailable right now; please try again later.";

/// A command as the bot receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `/stock=…` with its arguments as typed.
    Stock {
        args: String,
    },
    Help,
    /// `/name` of a command the bot does not know.
    Unknown {
        name: String,
    },
}

/// Answers commands. Lives on one actix thread (the HTTP client is not `Send`).
pub struct Responder {
    client: QuoteClient,
    limits: BotLimits,
    cache: RefCell<QuoteCache>,
    /// Each user's commands (shared by every bot in distributed mode).
    counters: Counters,
    /// At most `rate_count` commands per user per window.
    commands: Rule,
    /// One polite word per user per window when over the limit.
    warnings: Rule,
}

impl Responder {
    pub fn new(client: QuoteClient, limits: BotLimits, counters: Counters) -> Self {
        let rule = |name, limit| Rule {
            name,
            limit,
            window: limits.rate_window,
        };
        Self {
            cache: RefCell::new(QuoteCache::new(limits.cache_ttl)),
            commands: rule("bot_cmd", limits.rate_count),
            warnings: rule("bot_warn", 1),
            counters,
            client,
            limits,
        }
    }

    /// The reply to `request` from `user`, or `None` to stay quiet (a user
    /// over the rate limit hears about it once per window).
    pub async fn reply(&self, user: &str, request: &Request) -> Option<String> {
        if let Some(refusal) = self.over_limit(user).await {
            return refusal;
        }
        Some(match request {
            Request::Stock { args } => self.quotes(args).await,
            Request::Help => help(),
            Request::Unknown { name } => unknown(name),
        })
    }

    /// `Some(reply)` when `user` is over the limit: a polite word the first
    /// time in a window, silence after. Counted across every bot.
    async fn over_limit(&self, user: &str) -> Option<Option<String>> {
        let account = user.to_lowercase();
        let key = self.commands.key(&[&account]);
        self.counters
            .apply(&self.commands, &key, Op::Hit)
            .await
            .err()?;
        let key = self.warnings.key(&[&account]);
        if self
            .counters
            .apply(&self.warnings, &key, Op::Hit)
            .await
            .is_err()
        {
            return Some(None);
        }
        Some(Some(format!(
            "Easy, {user}: at most {} commands every {} seconds. Try again in a moment.",
            self.limits.rate_count,
            self.limits.rate_window.as_secs()
        )))
    }

    async fn quotes(&self, args: &str) -> String {
        let Some(codes) = parse_codes(args) else {
            return USAGE.to_owned();
        };
        let lines = futures::future::join_all(codes.iter().map(|code| self.quote_line(code))).await;
        lines.join("\n")
    }

    async fn quote_line(&self, code: &str) -> String {
        let cached = self.cache.borrow().get(code, Instant::now());
        let answer = match cached {
            Some(answer) => answer,
            None => {
                let fetched = tokio::time::timeout(self.limits.timeout, self.client.fetch(code))
                    .await
                    .unwrap_or_else(|_| Err(QuoteError::Unavailable("timed out".into())));
                self.cache.borrow_mut().put(code, &fetched, Instant::now());
                fetched
            }
        };
        match answer {
            Ok(q) => q.reply(),
            Err(QuoteError::NotFound(symbol)) => format!("I couldn't find a quote for {symbol}."),
            Err(QuoteError::Unavailable(why)) => {
                tracing::warn!(code, error = %why, "quote service failed");
                UNAVAILABLE.to_owned()
            }
        }
    }
}

fn known_list() -> String {
    KNOWN.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
}

/// The `/help` reply.
pub fn help() -> String {
    let mut out = String::from("Commands:");
    for (command, what) in KNOWN {
        out.push_str(&format!("\n{command} — {what}"));
    }
    out
}

/// The reply to an unknown command: it repeats the command's name only, and
/// only when short and plain (`shown_name`), never what followed it.
pub fn unknown(name: &str) -> String {
    match shown_name(name) {
        Some(shown) => format!("I don't know /{shown}. I know: {}.", known_list()),
        None => format!("That isn't a command I know. I know: {}.", known_list()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_and_unknown_name_the_known_commands() {
        let h = help();
        assert!(h.contains("/stock=CODE") && h.contains("/help"), "{h}");
        let u = unknown("foo");
        assert!(
            u.starts_with("I don't know /foo.") && u.contains("/stock=CODE") && u.contains("/help"),
            "{u}"
        );
        assert!(unknown("").starts_with("That isn't a command"));
        assert!(unknown(&"x".repeat(500)).len() < 200, "a long name is cut");
        assert!(unknown("evil.example").starts_with("That isn't a command"));
    }
}
