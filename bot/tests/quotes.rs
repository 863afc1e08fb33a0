//! The bot against a real HTTP server on loopback that answers in stooq's CSV
//! format, well and badly.

// In tests an unwrap that fails is the test failing, with its message.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chat_bot::config::BotLimits;
use chat_bot::responder::{Asker, Reply, Request, Responder, UNAVAILABLE};
use chat_bot::upstream::Upstream;
use chat_shared::bot_commands::Command;
use chat_shared::counters::Counters;
use chat_shared::names::ChannelName;
use chat_shared::store::{SqliteStore, Store};
use support::Answer;

const HEADER: &str = "Symbol,Date,Time,Open,High,Low,Close,Volume";

/// A quote service on loopback; counts the requests it gets.
struct QuoteService {
    url: String,
    hits: Arc<AtomicUsize>,
}

fn failed(status: &'static str, body: &str) -> Answer {
    Answer {
        status,
        ..Answer::ok(body.to_owned())
    }
}

fn row(row: &str) -> Answer {
    Answer::ok(format!("{HEADER}\r\n{row}\r\n"))
}

/// Answers like stooq for a few codes, and badly for others.
fn stooq(code: &str) -> Answer {
    match code {
        "aapl.us" => row("AAPL.US,2026-11-27,22:00:09,92.1,94,91.8,93.42,41234567"),
        "msft.us" => row("MSFT.US,2026-11-27,22:00:09,410,415,409,412.5,1234567"),
        "fail.us" => failed("500 Internal Server Error", "oops"),
        "slow.us" => Answer {
            delay: Duration::from_secs(30),
            ..row("SLOW.US,2026-11-27,22:00:09,1,1,1,1,1")
        },
        "garbage.us" => Answer::ok("<html><body>Service temporarily down</body></html>".into()),
        "empty.us" => Answer::ok(String::new()),
        "header.us" => Answer::ok(format!("{HEADER}\r\n")),
        other => row(&format!(
            "{},N/D,N/D,N/D,N/D,N/D,N/D,N/D",
            other.to_ascii_uppercase()
        )),
    }
}

impl QuoteService {
    async fn start() -> Self {
        let service = support::start(stooq).await;
        QuoteService {
            url: format!("{}/q/l/?s={{code}}&f=sd2t2ohlcv&h&e=csv", service.base),
            hits: service.hits,
        }
    }

    fn responder(&self, limits: BotLimits) -> Bench {
        Bench::new(&self.url, limits)
    }
}

/// A responder on a fresh store, asked from `#general`.
struct Bench {
    responder: Responder,
    _dir: tempfile::TempDir,
}

impl Bench {
    fn new(url: &str, limits: BotLimits) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("chat.db")).unwrap());
        let history = url.replace("/q/l/", "/q/d/l/");
        let upstream = Upstream::new(
            url,
            &history,
            limits.timeout,
            limits.cache_ttl,
            limits.upstream_per_sec,
        );
        Bench {
            responder: Responder::new(upstream, store, limits, Counters::in_memory()),
            _dir: dir,
        }
    }

    /// The reply's text.
    async fn reply(&self, user: &str, request: &Request) -> Option<String> {
        self.full(user, request).await.map(|r| r.text)
    }

    async fn full(&self, user: &str, request: &Request) -> Option<Reply> {
        let channel = ChannelName::general();
        let asker = Asker {
            user,
            channel: &channel,
        };
        self.responder.reply(&asker, request).await
    }
}

fn fast() -> BotLimits {
    BotLimits {
        timeout: Duration::from_secs(1),
        ..BotLimits::default()
    }
}

/// `fast()`, with room for many commands from one user.
fn generous() -> BotLimits {
    BotLimits {
        rate_count: 100,
        ..fast()
    }
}

fn stock(args: &str) -> Request {
    Request::Stock {
        args: args.to_owned(),
    }
}

#[actix_rt::test]
async fn a_good_code_gets_the_documented_reply() {
    let svc = QuoteService::start().await;
    let r = svc.responder(fast());
    assert_eq!(
        r.reply("alice", &stock("aapl.us")).await.unwrap(),
        "AAPL.US quote is $93.42 per share"
    );
    assert_eq!(
        r.reply("bob", &stock("AAPL.US")).await.unwrap(),
        "AAPL.US quote is $93.42 per share",
        "codes are case-insensitive"
    );
}

#[actix_rt::test]
async fn several_codes_get_one_line_each_in_order() {
    let svc = QuoteService::start().await;
    let r = svc.responder(fast());
    let reply = r
        .reply("alice", &stock("msft.us, aapl.us,zzzz.us"))
        .await
        .unwrap();
    assert_eq!(
        reply,
        "MSFT.US quote is $412.5 per share\nAAPL.US quote is $93.42 per share\nI couldn't find a quote for ZZZZ.US."
    );
}

#[actix_rt::test]
async fn an_unknown_symbol_is_named_in_the_reply() {
    let svc = QuoteService::start().await;
    let r = svc.responder(fast());
    assert_eq!(
        r.reply("alice", &stock("zzzz.us")).await.unwrap(),
        "I couldn't find a quote for ZZZZ.US."
    );
}

#[actix_rt::test]
async fn every_kind_of_service_failure_gets_the_unavailable_reply() {
    let svc = QuoteService::start().await;
    let limits = BotLimits {
        rate_count: 100,
        ..fast()
    };
    let r = svc.responder(limits);
    for code in ["fail.us", "garbage.us", "empty.us", "header.us"] {
        assert_eq!(
            r.reply("alice", &stock(code)).await.unwrap(),
            UNAVAILABLE,
            "{code}"
        );
    }
    let refused = Bench::new("http://127.0.0.1:9/q?s={code}", fast());
    assert_eq!(
        refused.reply("alice", &stock("aapl.us")).await.unwrap(),
        UNAVAILABLE,
        "connection refused"
    );
}

#[actix_rt::test]
async fn a_slow_service_is_cut_off_and_answered_within_six_seconds() {
    let svc = QuoteService::start().await;
    let r = svc.responder(BotLimits::default());
    let started = Instant::now();
    assert_eq!(
        r.reply("alice", &stock("slow.us")).await.unwrap(),
        UNAVAILABLE
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(6),
        "answered after {took:?}"
    );
}

#[actix_rt::test]
async fn quotes_are_cached_per_code_and_failures_too() {
    let svc = QuoteService::start().await;
    let r = svc.responder(generous());
    for _ in 0..3 {
        r.reply("alice", &stock("aapl.us")).await.unwrap();
    }
    assert_eq!(
        svc.hits.load(Ordering::SeqCst),
        1,
        "one fetch for three asks"
    );
    for _ in 0..2 {
        r.reply("alice", &stock("fail.us")).await.unwrap();
    }
    assert_eq!(
        svc.hits.load(Ordering::SeqCst),
        2,
        "a failing service is asked once per TTL too"
    );
    let uncached = svc.responder(BotLimits {
        cache_ttl: Duration::ZERO,
        rate_count: 100,
        ..fast()
    });
    uncached.reply("alice", &stock("aapl.us")).await.unwrap();
    uncached.reply("alice", &stock("aapl.us")).await.unwrap();
    assert_eq!(
        svc.hits.load(Ordering::SeqCst),
        4,
        "a zero TTL turns the cache off"
    );
}

#[actix_rt::test]
async fn a_user_over_the_rate_limit_is_told_once_then_ignored() {
    let svc = QuoteService::start().await;
    let r = svc.responder(BotLimits {
        rate_count: 5,
        rate_window: Duration::from_secs(60),
        ..fast()
    });
    for _ in 0..5 {
        assert_eq!(
            r.reply("alice", &Request::Help)
                .await
                .map(|t| t.starts_with("Commands:")),
            Some(true)
        );
    }
    let polite = r.reply("alice", &Request::Help).await.unwrap();
    assert!(
        polite.contains("at most 5 commands every 60 seconds"),
        "{polite}"
    );
    assert_eq!(
        r.reply("alice", &Request::Help).await,
        None,
        "one polite reply, then quiet"
    );
    assert!(
        r.reply("bob", &Request::Help).await.is_some(),
        "limits are per user"
    );
}

#[actix_rt::test]
async fn bad_or_missing_codes_get_the_usage() {
    let svc = QuoteService::start().await;
    let r = svc.responder(generous());
    for args in ["", "bad code", "a,b,c,d,e,f", "<script>"] {
        let reply = r.reply("alice", &stock(args)).await.unwrap();
        assert!(reply.starts_with("Usage: /stock=CODE"), "{args:?}: {reply}");
    }
    assert_eq!(
        svc.hits.load(Ordering::SeqCst),
        0,
        "nothing is fetched for bad input"
    );
}

#[actix_rt::test]
async fn help_and_unknown_commands_list_what_the_bot_knows() {
    let svc = QuoteService::start().await;
    let r = svc.responder(fast());
    let help = r.reply("alice", &Request::Help).await.unwrap();
    assert!(
        help.contains("/stock=CODE") && help.contains("/help"),
        "{help}"
    );
    let unknown = r
        .reply("alice", &Request::Unknown { name: "foo".into() })
        .await
        .unwrap();
    assert!(
        unknown.starts_with("I don't know /foo. I know: /stock=CODE, /chart=CODE,DAYS,"),
        "{unknown}"
    );
    assert!(unknown.ends_with("/help."), "{unknown}");
}

#[actix_rt::test]
async fn an_unknown_command_is_answered_naming_only_its_name() {
    let svc = QuoteService::start().await;
    let r = svc.responder(generous());
    let unknown = |name: &str| Request::Unknown { name: name.into() };
    // `/foo arbitrary text …`: the reply names `/foo` and nothing after it.
    let Some(Command::Unknown { name }) = Command::parse("/foo visit http://evil.example now")
    else {
        panic!("an unknown command");
    };
    let reply = r.reply("alice", &unknown(name)).await.unwrap();
    assert!(
        reply.starts_with("I don't know /foo. I know: /stock=CODE, "),
        "{reply}"
    );
    // A name with anything but letters, digits, `_` and `-` is not repeated.
    for name in [
        "visit.evil.example/now",
        "<b>hi</b>",
        "foo\u{202e}oof",
        "x@y",
        "déjà",
    ] {
        let reply = r.reply("alice", &unknown(name)).await.unwrap();
        assert!(
            reply.starts_with("That isn't a command I know. I know: /stock=CODE"),
            "{name:?}: {reply}"
        );
    }
    // A long name is cut short.
    let reply = r.reply("alice", &unknown(&"a".repeat(300))).await.unwrap();
    let shown = format!("/{}.", "a".repeat(24));
    assert!(
        reply.starts_with(&format!("I don't know {shown}")),
        "{reply}"
    );
}
