//! Investor tools across processes (chat servers, bots, an archiver, NATS,
//! PostgreSQL): cards, charts, watchlists and quotes over the bus, and
//! alerts that fire exactly once however many bots check them, even when
//! one dies in the middle.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::investor::{ask, bot_says, starting_with};
use crate::support::cluster::{Cluster, Shape};
use crate::support::quotes::QuoteService;

async fn cluster(quotes: &QuoteService, servers: usize, bots: usize) -> Option<Cluster> {
    Cluster::start(Shape {
        servers,
        bots,
        quotes: Some(quotes.url.clone()),
        bot_env: vec![
            ("BOT_ALERT_INTERVAL_SECS", "1"),
            ("STOCK_CACHE_SECS", "1"),
            ("BOT_RATE_COUNT", "100"),
        ],
        ..Shape::default()
    })
    .await
}

#[actix_rt::test]
async fn cards_charts_watchlists_and_quotes_travel_between_servers_through_a_bot() {
    let quotes = QuoteService::start();
    let Some(cluster) = cluster(&quotes, 2, 1).await else {
        return;
    };
    let alice = cluster.user(0, "alice").await;
    let mut bob = cluster.user(1, "bob").await;
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    a.join("general").await;
    b.join("general").await;

    a.say("general", "/stock=aapl.us").await;
    let quote = bot_says(&mut b, "general", "AAPL.US quote is $93.42").await;
    assert_eq!(
        (&quote["card"]["kind"], &quote["card"]["close"]),
        (&json!("quote"), &json!(93.42))
    );
    let chart = ask(&mut a, "general", "/chart=aapl.us,60", "AAPL.US 60 days").await;
    let seen = bot_says(&mut b, "general", "AAPL.US 60 days").await;
    assert_eq!(
        seen["card"], chart["card"],
        "the same card on the other server"
    );
    assert_eq!(chart["card"]["points"].as_array().unwrap().len(), 60);

    ask(&mut a, "general", "/watch aapl.us,msft.us", "Watching").await;
    let (status, list) = bob.get("/api/channels/general/watchlist").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["codes"], json!(["aapl.us", "msft.us"]));
    assert_eq!(list["quotes"][1]["symbol"], "MSFT.US");
    let (status, card) = bob.get("/api/quotes/msft.us").await;
    assert_eq!((status, &card["close"]), (200, &json!(412.5)));
    let (status, body) = bob.get("/api/quotes/zzzz.us").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("no_such_quote"))
    );
}

/// Notes, by code, the id of each alert post among `frames`.
fn note_alerts(frames: Vec<Value>, fired: &mut HashMap<String, Vec<String>>) {
    for f in frames {
        let text = f["message"]["text"].as_str().unwrap_or_default();
        if f["type"] == "message" && text.starts_with("@alice ") {
            let code = text.split(' ').nth(1).unwrap().to_ascii_lowercase();
            let id = f["message"]["id"].as_str().unwrap().to_owned();
            fired.entry(code).or_default().push(id);
        }
    }
}

#[actix_rt::test]
async fn with_two_bots_and_one_killed_mid_check_every_alert_fires_exactly_once() {
    let quotes = QuoteService::start();
    let Some(mut cluster) = cluster(&quotes, 1, 2).await else {
        return;
    };
    let codes: Vec<String> = (0..16).map(|i| format!("k{i}.us")).collect();
    for code in &codes {
        quotes.set_close(code, 10.0);
    }
    let alice = cluster.user(0, "alice").await;
    let bob = cluster.user(0, "bob").await;
    let (mut a, mut watcher) = (alice.ws().await, bob.ws().await);
    a.join("general").await;
    watcher.join("general").await;
    for code in &codes {
        ask(
            &mut a,
            "general",
            &format!("/alert {code} > 20"),
            "Alert set",
        )
        .await;
    }

    // Every price crosses; each quote takes a while, so the two bots' checks
    // are under way when one of them is killed.
    quotes.set_delay(Duration::from_millis(250));
    for code in &codes {
        quotes.set_close(code, 25.0);
    }
    // Whichever bot fires first is killed: the two check in the same order,
    // so the one whose timer came first may claim every alert before the
    // other gets to one.
    let crossed = Instant::now();
    let killed = loop {
        let firing = (0..2).find(|&i| cluster.bots[i].log_text().contains("alert fired"));
        if let Some(i) = firing {
            break i;
        }
        assert!(
            crossed.elapsed() < Duration::from_secs(10),
            "no bot fired anything"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let survivor = 1 - killed;
    cluster.bots[killed].kill();
    let by_first = cluster.bots[killed]
        .log_text()
        .matches("alert fired")
        .count();

    let mut fired: HashMap<String, Vec<String>> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while fired.len() < codes.len() && Instant::now() < deadline {
        note_alerts(watcher.drain(Duration::from_millis(500)).await, &mut fired);
    }
    // A while longer, for any second post to show.
    note_alerts(watcher.drain(Duration::from_secs(5)).await, &mut fired);
    for code in &codes {
        let posts = fired.get(code).map_or(0, Vec::len);
        assert_eq!(posts, 1, "{code} fired {posts} times: {fired:?}");
    }
    let by_second = cluster.bots[survivor]
        .log_text()
        .matches("alert fired")
        .count();
    assert!(
        by_first < codes.len() && by_first + by_second >= codes.len(),
        "bot {killed} fired {by_first} before it died, bot {survivor} {by_second}"
    );
    // The archive has each once too.
    let mut reader = bob.ws().await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let joined = reader.join("general").await;
        let archived = starting_with(&joined["history"], "@alice ");
        if archived == codes.len() || Instant::now() > deadline {
            assert_eq!(archived, codes.len(), "each alert archived once");
            break;
        }
        reader
            .send(json!({"type": "leave", "channel": "general"}))
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
