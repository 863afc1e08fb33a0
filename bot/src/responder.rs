//! Decides the bot's reply to each command: quotes and charts (through the
//! gate and caches of `Upstream`), alerts, watchlists, usage, help, unknown
//! commands, and a polite word to users who go too fast.

use std::rc::Rc;
use std::sync::Arc;

use chat_shared::bot_commands::{shown_name, KNOWN};
use chat_shared::card::Card;
use chat_shared::counters::{Counters, Op, Rule};
use chat_shared::names::ChannelName;
use chat_shared::store::Store;

use crate::config::BotLimits;
use crate::history;
use crate::metrics::Outcome;
use crate::quote::{Quote, QuoteError};
use crate::stock_codes::{parse_codes, USAGE};
use crate::upstream::Upstream;
use crate::{alerts, watch};

/// Told when the quote service fails in any way.
pub const UNAVAILABLE: &str = "The quote service is unavailable right now; please try again later.";
/// Told when the bot is at its own limit of requests to the service.
pub const BUSY: &str =
    "I'm busy, try again in a moment: the quote service takes only so many requests a second.";
/// Told when the bot's own storage fails.
pub const STORE_FAILED: &str =
    "I couldn't reach my records just now; please try again in a moment.";

/// A command as the bot receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `/stock=…` with its arguments as typed.
    Stock {
        args: String,
    },
    /// `/chart=CODE[,DAYS]`.
    Chart {
        args: String,
    },
    /// `/alert CODE > PRICE`, `/alert CODE < PRICE`, `/alert cancel N`.
    Alert {
        args: String,
    },
    /// `/alerts`.
    Alerts,
    /// `/watch CODE,…`.
    Watch {
        args: String,
    },
    /// `/unwatch CODE,…`.
    Unwatch {
        args: String,
    },
    Help,
    /// `/name` of a command the bot does not know.
    Unknown {
        name: String,
    },
}

impl Request {
    /// Its kind, as the metrics label it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Stock { .. } => "stock",
            Self::Chart { .. } => "chart",
            Self::Alert { .. } => "alert",
            Self::Alerts => "alerts",
            Self::Watch { .. } => "watch",
            Self::Unwatch { .. } => "unwatch",
            Self::Help => "help",
            Self::Unknown { .. } => "unknown",
        }
    }
}

/// Who asked, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asker<'a> {
    pub user: &'a str,
    pub channel: &'a ChannelName,
}

/// What the bot posts: its text, and a card for clients that draw one.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub text: String,
    pub card: Option<Card>,
    /// How the command went, for the metrics.
    pub outcome: Outcome,
}

impl Reply {
    /// The same reply, for a command that ended as `outcome`.
    pub fn because(self, outcome: Outcome) -> Self {
        Self { outcome, ..self }
    }
}

impl From<String> for Reply {
    fn from(text: String) -> Self {
        Reply {
            text,
            card: None,
            outcome: Outcome::Ok,
        }
    }
}

impl From<&str> for Reply {
    fn from(text: &str) -> Self {
        text.to_owned().into()
    }
}

/// Answers commands. Lives on one actix thread (the HTTP client is not `Send`).
pub struct Responder {
    pub(crate) upstream: Rc<Upstream>,
    pub(crate) store: Arc<dyn Store>,
    limits: BotLimits,
    /// Each user's commands (shared by every bot in distributed mode).
    counters: Counters,
    /// At most `rate_count` commands per user per window.
    commands: Rule,
    /// One polite word per user per window when over the limit.
    warnings: Rule,
}

impl Responder {
    pub fn new(
        upstream: Rc<Upstream>,
        store: Arc<dyn Store>,
        limits: BotLimits,
        counters: Counters,
    ) -> Self {
        let rule = |name, limit| Rule {
            name,
            limit,
            window: limits.rate_window,
        };
        Self {
            commands: rule("bot_cmd", limits.rate_count),
            warnings: rule("bot_warn", 1),
            counters,
            upstream,
            store,
            limits,
        }
    }

    /// The reply to `request`, or `None` to stay quiet (a user over the rate
    /// limit hears about it once per window).
    pub async fn reply(&self, asker: &Asker<'_>, request: &Request) -> Option<Reply> {
        if let Some(refusal) = self.over_limit(asker.user).await {
            return refusal.map(|text| Reply::from(text).because(Outcome::RateLimited));
        }
        Some(match request {
            Request::Stock { args } => self.quotes(args, asker.user).await,
            Request::Chart { args } => self.chart(args, asker.user).await,
            Request::Alert { args } => alerts::command(self, asker, args).await.into(),
            Request::Alerts => alerts::list(self, asker).await.into(),
            Request::Watch { args } => watch::watch(self, asker, args).await,
            Request::Unwatch { args } => watch::unwatch(self, asker, args).await,
            Request::Help => help().into(),
            Request::Unknown { name } => Reply::from(unknown(name)).because(Outcome::BadRequest),
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

    async fn quotes(&self, args: &str, user: &str) -> Reply {
        let Some(codes) = parse_codes(args) else {
            return Reply::from(USAGE).because(Outcome::BadRequest);
        };
        let answers =
            futures::future::join_all(codes.iter().map(|code| self.upstream.quote(code, user)))
                .await;
        let lines: Vec<String> = codes
            .iter()
            .zip(&answers)
            .map(|(code, answer)| match answer {
                Ok(q) => q.reply(),
                Err(e) => failure(code, e, "a quote"),
            })
            .collect();
        // Ok if any code had a quote; else why the first had none.
        let outcome = match answers.iter().find_map(|a| a.as_ref().ok().map(|_| ())) {
            Some(()) => Outcome::Ok,
            None => answers
                .iter()
                .find_map(|a| a.as_ref().err().map(Outcome::of))
                .unwrap_or(Outcome::Ok),
        };
        let mut cards: Vec<_> = answers
            .into_iter()
            .filter_map(|a| a.ok().map(|q: Quote| q.card))
            .collect();
        let card = match (codes.len(), cards.len()) {
            (_, 0) => None,
            (1, _) => cards.pop().map(Card::Quote),
            _ => Some(Card::Quotes { quotes: cards }),
        };
        Reply {
            text: lines.join("\n"),
            card,
            outcome,
        }
    }

    async fn chart(&self, args: &str, user: &str) -> Reply {
        let Some((code, days)) = history::parse_args(args) else {
            return Reply::from(history::USAGE).because(Outcome::BadRequest);
        };
        match self.upstream.history(&code, user).await {
            Ok(points) => {
                let (text, card) = history::chart(&code, points, days);
                Reply {
                    text,
                    card: Some(card),
                    outcome: Outcome::Ok,
                }
            }
            Err(e) => Reply::from(failure(&code, &e, "a price history")).because(Outcome::of(&e)),
        }
    }
}

/// What the bot says when the service had no answer for `code`.
pub fn failure(code: &str, error: &QuoteError, what: &str) -> String {
    match error {
        QuoteError::NotFound(symbol) => format!("I couldn't find {what} for {symbol}."),
        QuoteError::Busy => BUSY.to_owned(),
        QuoteError::Unavailable(why) => {
            tracing::warn!(code, error = %why, "quote service failed");
            UNAVAILABLE.to_owned()
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
        assert!(
            h.contains("/chart=CODE,DAYS")
                && h.contains("/alert CODE > PRICE")
                && h.contains("/watch"),
            "{h}"
        );
        let u = unknown("foo");
        assert!(
            u.starts_with("I don't know /foo.") && u.contains("/stock=CODE") && u.contains("/help"),
            "{u}"
        );
        assert!(unknown("").starts_with("That isn't a command"));
        assert!(unknown(&"x".repeat(500)).len() < 300, "a long name is cut");
        assert!(unknown("evil.example").starts_with("That isn't a command"));
    }
}
