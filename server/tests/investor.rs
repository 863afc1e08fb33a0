//! Investor tools in embedded mode (the bot in-process, SQLite): quote
//! cards, charts, price alerts, watchlists and the quote route, against a
//! loopback server in stooq's formats.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::quotes::{history_close, QuoteService, HISTORY_DAYS};
use crate::support::{Client, TestApp, Ws};

const UNAVAILABLE: &str = "The quote service is unavailable right now; please try again later.";

/// A server whose bot asks `quotes`, checks alerts every second and keeps
/// quotes for a second, with `env` besides.
async fn app(quotes: &QuoteService, env: &[(&str, &str)]) -> TestApp {
    let mut all = vec![
        ("STOCK_HISTORY_URL", quotes.history_url.as_str()),
        ("BOT_ALERT_INTERVAL_SECS", "1"),
        ("STOCK_CACHE_SECS", "1"),
        ("BOT_RATE_COUNT", "100"),
    ];
    all.extend_from_slice(env);
    TestApp::spawn_with(&quotes.url, &all).await
}

/// The bot's next message in `channel` whose text starts with `start`.
pub async fn bot_says(ws: &mut Ws, channel: &str, start: &str) -> Value {
    let f = ws
        .expect(&format!("the bot's {start:?}"), |f| {
            f["type"] == "message"
                && f["message"]["channel"] == channel
                && f["message"]["user"] == "stockbot"
                && f["message"]["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(start))
        })
        .await;
    f["message"].clone()
}

/// How many of `messages` (a JSON list) have a text starting with `start`.
pub fn starting_with(messages: &Value, start: &str) -> usize {
    let texts = messages.as_array().into_iter().flatten();
    texts
        .filter(|m| m["text"].as_str().is_some_and(|t| t.starts_with(start)))
        .count()
}

/// Sends `command` to `channel` and returns the bot's reply starting with `start`.
pub async fn ask(ws: &mut Ws, channel: &str, command: &str, start: &str) -> Value {
    ws.say(channel, command).await;
    bot_says(ws, channel, start).await
}

#[actix_rt::test]
async fn quotes_and_charts_come_as_cards_beside_their_text_and_stay_in_history() {
    let quotes = QuoteService::start();
    let app = app(&quotes, &[]).await;
    let alice = app.user("alice").await;
    let mut ws = alice.ws().await;
    ws.join("general").await;

    let quote = ask(&mut ws, "general", "/stock=aapl.us", "AAPL.US quote is").await;
    assert_eq!(
        quote["text"], "AAPL.US quote is $93.42 per share",
        "the v1 line"
    );
    assert_eq!(
        quote["card"],
        json!({"kind": "quote", "symbol": "AAPL.US", "date": "2026-11-27", "time": "22:00:09",
               "open": 92.1, "high": 94.0, "low": 91.8, "close": 93.42, "volume": 41234567,
               "change_pct": 1.43})
    );
    let both = ask(
        &mut ws,
        "general",
        "/stock=aapl.us,msft.us",
        "AAPL.US quote is",
    )
    .await;
    assert_eq!(both["card"]["kind"], "quotes");
    let symbols: Vec<&str> = both["card"]["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, ["AAPL.US", "MSFT.US"]);

    let chart = ask(&mut ws, "general", "/chart=aapl.us,30", "AAPL.US 30 days").await;
    let (first, last) = (
        history_close(HISTORY_DAYS - 30),
        history_close(HISTORY_DAYS - 1),
    );
    let pct = ((last - first) / first * 10_000.0).round() / 100.0;
    assert_eq!(
        chart["text"],
        format!("AAPL.US 30 days: ${first:.2} → ${last:.2} (+{pct:.2}%)")
    );
    let points = chart["card"]["points"].as_array().unwrap();
    assert_eq!(
        (chart["card"]["kind"].as_str(), points.len()),
        (Some("chart"), 30)
    );
    assert_eq!(points[29][1], json!(last), "the newest close last");
    assert!(points[0][0].as_str().unwrap() < points[29][0].as_str().unwrap());
    let default = ask(&mut ws, "general", "/chart=aapl.us", "AAPL.US ").await;
    assert_eq!(
        default["card"]["points"].as_array().unwrap().len(),
        30,
        "30 days by default"
    );

    // Unknown, empty, failing, bad: clear replies and no card.
    for (command, reply) in [
        (
            "/chart=zzzz.us",
            "I couldn't find a price history for ZZZZ.US.",
        ),
        (
            "/chart=empty.us",
            "I couldn't find a price history for EMPTY.US.",
        ),
        ("/chart=fail.us", UNAVAILABLE),
        ("/chart=aapl.us,4", "Usage: /chart=CODE"),
    ] {
        let said = ask(&mut ws, "general", command, &reply[..12]).await;
        assert!(
            said["text"].as_str().unwrap().starts_with(reply),
            "{command}: {said}"
        );
        assert!(said.get("card").is_none(), "{command}: {said}");
    }
    // A slow history service is cut off within 6 s.
    let asked = Instant::now();
    let slow = ask(&mut ws, "general", "/chart=slow.us", "The quote service").await;
    assert_eq!(slow["text"], UNAVAILABLE);
    assert!(
        asked.elapsed() < Duration::from_secs(6),
        "{:?}",
        asked.elapsed()
    );

    // History gives the cards back.
    let mut again = alice.ws().await;
    let joined = again.join("general").await;
    let history = joined["history"].as_array().unwrap();
    let kept = |id: &Value| history.iter().find(|m| m["id"] == *id).cloned().unwrap();
    assert_eq!(kept(&quote["id"])["card"], quote["card"]);
    assert_eq!(kept(&chart["id"])["card"], chart["card"]);
}

#[actix_rt::test]
async fn an_alert_is_kept_across_a_restart_and_fires_once_with_a_mention_of_its_owner() {
    let quotes = QuoteService::start();
    let mut app = app(&quotes, &[]).await;
    let alice = app.user("alice").await;
    let mut ws = alice.ws().await;
    ws.join("general").await;

    let set = ask(&mut ws, "general", "/alert AAPL.US > 100", "Alert set").await;
    assert_eq!(
        set["text"],
        "Alert set: I'll tell you here when AAPL.US goes above $100.00 (now $93.42)."
    );
    ask(&mut ws, "general", "/alert aapl.us < 50", "Alert set").await;
    let listed = ask(&mut ws, "general", "/alerts", "Your alerts").await;
    assert_eq!(
        listed["text"],
        "Your alerts here:\n1. AAPL.US above $100.00\n2. AAPL.US below $50.00"
    );
    let cancelled = ask(&mut ws, "general", "/alert cancel 2", "Alert 2").await;
    assert_eq!(
        cancelled["text"],
        "Alert 2 (AAPL.US below $50.00) is cancelled."
    );
    drop(ws);
    // Bad input: the usage, a clear word, nothing stored.
    let mut ws = alice.ws().await;
    ws.join("general").await;
    for (command, start) in [
        ("/alert aapl.us > lots", "Usage: /alert CODE > PRICE"),
        ("/alert aapl.us = 5", "Usage: /alert CODE > PRICE"),
        (
            "/alert aapl.us > 50",
            "AAPL.US is already above $50.00 (now $93.42); no alert set.",
        ),
        ("/alert zzzz.us > 5", "I couldn't find a quote for ZZZZ.US."),
    ] {
        ask(&mut ws, "general", command, start).await;
    }
    drop(ws);

    app.restart().await;
    let mut ws = alice.ws().await;
    ws.join("general").await;
    let mut elsewhere = alice.ws().await; // joined to nothing: told by a mention frame
    let listed = ask(&mut ws, "general", "/alerts", "Your alerts").await;
    assert_eq!(
        listed["text"], "Your alerts here:\n1. AAPL.US above $100.00",
        "kept across the restart"
    );

    quotes.set_close("aapl.us", 101.5);
    let fired = bot_says(&mut ws, "general", "@alice").await;
    assert_eq!(
        fired["text"],
        "@alice AAPL.US is above $100.00 (now $101.50)"
    );
    assert_eq!(fired["mentions"], json!(["alice"]));
    let told = elsewhere
        .expect("a mention", |f| f["type"] == "mention")
        .await;
    assert_eq!(told["message"]["id"], fired["id"]);
    // Once: several more checks post nothing more, and the list is empty.
    let later = ws.drain(Duration::from_secs(4)).await;
    let again = later.iter().filter(|f| {
        f["type"] == "message"
            && f["message"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("@alice"))
    });
    assert_eq!(again.count(), 0, "the alert fired once: {later:?}");
    ask(&mut ws, "general", "/alerts", "You have no alerts").await;
    let mut reader = alice.ws().await;
    let joined = reader.join("general").await;
    let posts = starting_with(&joined["history"], "@alice AAPL.US is above");
    assert_eq!(posts, 1, "archived once");
}

/// `GET /api/channels/{channel}/watchlist` as (codes, symbols of the quotes).
async fn watchlist(client: &mut Client, channel: &str) -> (u16, Vec<String>, Vec<String>) {
    let (status, body) = client
        .get(&format!("/api/channels/{channel}/watchlist"))
        .await;
    let strings = |v: &Value, key: &str| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x[key].as_str().or(x.as_str()).unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    (
        status,
        strings(&body["codes"], ""),
        strings(&body["quotes"], "symbol"),
    )
}

#[actix_rt::test]
async fn a_channels_watchlist_is_kept_and_served_with_its_quotes() {
    let quotes = QuoteService::start();
    let app = app(&quotes, &[]).await;
    let mut alice = app.user("alice").await;
    let mut bob = app.user("bob").await;
    alice.create_channel("desk").await;
    let mut ws = alice.ws().await;
    ws.join("general").await;

    let watched = ask(
        &mut ws,
        "general",
        "/watch AAPL.US, msft.us zzzz.us",
        "Watching",
    )
    .await;
    assert_eq!(
        watched["text"],
        "Watching AAPL.US, MSFT.US here. I couldn't find a quote for ZZZZ.US, so it is not added. The ticker: AAPL.US, MSFT.US."
    );
    assert_eq!(
        watched["card"],
        json!({"kind": "watchlist", "codes": ["aapl.us", "msft.us"]})
    );
    assert_eq!(
        watchlist(&mut bob, "general").await,
        (
            200,
            vec!["aapl.us".into(), "msft.us".into()],
            vec!["AAPL.US".into(), "MSFT.US".into()]
        )
    );
    let (_, body) = bob.get("/api/channels/general/watchlist").await;
    assert_eq!(body["quotes"][0]["close"], 93.42, "{body}");
    assert_eq!(
        watchlist(&mut bob, "desk").await,
        (200, vec![], vec![]),
        "per channel"
    );

    let off = ask(&mut ws, "general", "/unwatch msft.us", "MSFT.US").await;
    assert_eq!(
        off["text"],
        "MSFT.US is off this channel's ticker. The ticker: AAPL.US."
    );
    assert_eq!(off["card"]["codes"], json!(["aapl.us"]));
    ask(&mut ws, "general", "/unwatch msft.us", "MSFT.US isn't on").await;
    ask(&mut ws, "general", "/watch", "Usage: /watch").await;
    let many: Vec<String> = (0..10).map(|i| format!("c{i}.us")).collect();
    for code in &many {
        quotes.set_close(code, 10.0);
    }
    let full = ask(
        &mut ws,
        "general",
        &format!("/watch {}", many.join(",")),
        "This channel's ticker",
    )
    .await;
    assert!(
        full["text"]
            .as_str()
            .unwrap()
            .contains("at most 10 codes and has 1"),
        "{full}"
    );
    assert_eq!(
        watchlist(&mut bob, "general").await.1,
        vec!["aapl.us".to_owned()],
        "unchanged"
    );

    // A private channel's list is nobody else's business.
    let (status, _) = alice
        .post("/api/channels", json!({"name": "secret", "private": true}))
        .await;
    assert_eq!(status, 201);
    assert_eq!(watchlist(&mut bob, "secret").await.0, 404);
    assert_eq!(watchlist(&mut bob, "nowhere").await.0, 404);
    assert_eq!(
        app.anonymous()
            .get("/api/channels/general/watchlist")
            .await
            .0,
        401
    );
}

#[actix_rt::test]
async fn the_quote_route_asks_the_bot_once_per_code_and_answers_each_failure_clearly() {
    let quotes = QuoteService::start();
    let app = app(&quotes, &[("STOCK_CACHE_SECS", "30")]).await;
    let mut alice = app.user("alice").await;
    let (status, card) = alice.get("/api/quotes/AAPL.US").await;
    assert_eq!(status, 200, "{card}");
    assert_eq!(
        (&card["kind"], &card["symbol"], &card["close"]),
        (&json!("quote"), &json!("AAPL.US"), &json!(93.42))
    );
    for (path, status, code) in [
        ("/api/quotes/zzzz.us", 404, "no_such_quote"),
        ("/api/quotes/fail.us", 503, "quotes_unavailable"),
        ("/api/quotes/bad%20code", 400, "invalid_code"),
        ("/api/quotes/%3Cb%3E", 400, "invalid_code"),
    ] {
        let (got, body) = alice.get(path).await;
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{path}: {body}"
        );
    }
    assert_eq!(app.anonymous().get("/api/quotes/aapl.us").await.0, 401);

    // Twenty readers at once: one request upstream.
    let asks = (0..20).map(|_| {
        let mut c = alice.clone();
        async move { c.get("/api/quotes/msft.us").await.0 }
    });
    let statuses = futures::future::join_all(asks).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        quotes.asked("quote", "msft.us").len(),
        1,
        "asked once for twenty readers"
    );
}

#[actix_rt::test]
async fn the_bot_never_sends_more_than_its_rate_upstream_and_says_busy_past_its_queue() {
    let quotes = QuoteService::start();
    let app = app(&quotes, &[("BOT_UPSTREAM_PER_SEC", "2")]).await;
    let alice = app.user("alice").await;
    let codes: Vec<String> = (0..12).map(|i| format!("r{i}.us")).collect();
    for code in &codes {
        quotes.set_close(code, 10.0);
    }
    let asks = codes.iter().map(|code| {
        let mut c = alice.clone();
        let path = format!("/api/quotes/{code}");
        async move {
            let (status, body) = c.get(&path).await;
            (status, body["error"]["code"].as_str().map(str::to_owned))
        }
    });
    let answers = futures::future::join_all(asks).await;
    let served = answers.iter().filter(|(s, _)| *s == 200).count();
    let busy = answers
        .iter()
        .filter(|(s, c)| *s == 503 && c.as_deref() == Some("busy"))
        .count();
    assert_eq!(served + busy, codes.len(), "{answers:?}");
    assert!(
        busy >= 1 && served >= 2,
        "2 at once and 4 queued are served, the rest busy: {answers:?}"
    );
    let sent = quotes.all_asked();
    assert_eq!(sent.len(), served, "nothing upstream for the busy");
    for window in sent.windows(3) {
        assert!(
            window[2].duration_since(window[0]) >= Duration::from_millis(950),
            "three requests within a second: {sent:?}"
        );
    }
}
