//! Price alerts against a real SQLite store, the in-process bus and a quote
//! service on loopback: the per-person limit, and firing exactly once when
//! checks overlap or a claim is left by a bot that died.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use chat_bot::alerts;
use chat_bot::config::BotLimits;
use chat_bot::responder::{Asker, Request, Responder};
use chat_bot::upstream::Upstream;
use chat_shared::bus::{Bus, LocalBus};
use chat_shared::counters::Counters;
use chat_shared::names::ChannelName;
use chat_shared::store::{NewAlert, SqliteStore, Store};
use futures::StreamExt;
use support::Answer;

/// A quote service on loopback quoting every code at 25.
async fn quotes_at_25() -> support::Service {
    support::start(|code| {
        Answer::ok(format!(
            "Symbol,Date,Time,Open,High,Low,Close,Volume\r\n{},2026-11-27,22:00:09,20,26,19,25,100\r\n",
            code.to_ascii_uppercase()
        ))
    })
    .await
}

struct World {
    /// Requests the quote service got.
    hits: Arc<std::sync::atomic::AtomicUsize>,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    upstream: std::rc::Rc<Upstream>,
    _dir: tempfile::TempDir,
}

impl World {
    /// One check of every alert, as the bot `origin` makes it.
    async fn check(&self, origin: &str, lease: Duration) -> usize {
        alerts::check(
            &self.upstream,
            self.store.as_ref(),
            self.bus.as_ref(),
            origin,
            lease,
        )
        .await
    }
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("chat.db")).unwrap());
    let service = quotes_at_25().await;
    let url = format!("{}/q/l/?s={{code}}", service.base);
    let upstream = Upstream::new(
        &url,
        &url,
        Duration::from_secs(2),
        Duration::from_secs(30),
        100,
    );
    World {
        store,
        bus: Arc::new(LocalBus::new()),
        upstream,
        hits: service.hits,
        _dir: dir,
    }
}

fn alert(user: &str, code: &str) -> NewAlert {
    NewAlert {
        user: user.into(),
        channel: ChannelName::general(),
        code: code.into(),
        above: true,
        price: 20.0,
    }
}

#[actix_rt::test]
async fn a_person_has_at_most_twenty_alerts_and_more_are_refused_clearly() {
    let w = world().await;
    let limits = BotLimits {
        rate_count: 1000,
        ..BotLimits::default()
    };
    let r = Responder::new(
        w.upstream.clone(),
        w.store.clone(),
        limits,
        Counters::in_memory(),
    );
    let general = ChannelName::general();
    let alice = Asker {
        user: "alice",
        channel: &general,
    };
    for i in 0..20 {
        let args = format!("a{i}.us > 30");
        let reply = r.reply(&alice, &Request::Alert { args }).await.unwrap();
        assert!(reply.text.starts_with("Alert set"), "{i}: {}", reply.text);
    }
    let refused = r
        .reply(
            &alice,
            &Request::Alert {
                args: "b.us > 30".into(),
            },
        )
        .await
        .unwrap();
    assert!(
        refused.text.starts_with("You have 20 alerts already"),
        "{}",
        refused.text
    );
    assert_eq!(
        w.store.alerts_of("alice", &general).await.unwrap().len(),
        20
    );
    let bob = Asker {
        user: "bob",
        channel: &general,
    };
    let own = r
        .reply(
            &bob,
            &Request::Alert {
                args: "b.us > 30".into(),
            },
        )
        .await
        .unwrap();
    assert!(
        own.text.starts_with("Alert set"),
        "per person: {}",
        own.text
    );
}

/// Every alert message the bus carried, by id.
async fn posted(sub: &mut chat_shared::bus::Subscription) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(200), sub.next()).await {
        let m: serde_json::Value = serde_json::from_slice(&e.payload).unwrap();
        out.push((
            m["id"].as_str().unwrap().to_owned(),
            m["text"].as_str().unwrap().to_owned(),
        ));
    }
    out
}

#[actix_rt::test]
async fn overlapping_checks_fire_each_crossed_alert_once() {
    let w = world().await;
    let mut sub = w.bus.subscribe("chat.msg.>").await.unwrap();
    for i in 0..10 {
        assert!(w
            .store
            .add_alert(&alert("alice", &format!("c{i}.us")))
            .await
            .unwrap());
    }
    let lease = Duration::from_secs(15);
    let (one, two) = futures::join!(w.check("bot-a", lease), w.check("bot-b", lease),);
    assert_eq!(one + two, 10, "{one} + {two}");
    assert_eq!(
        w.hits.load(std::sync::atomic::Ordering::SeqCst),
        10,
        "each code asked once for both checks"
    );
    let messages = posted(&mut sub).await;
    assert_eq!(messages.len(), 10, "{messages:?}");
    assert!(messages
        .iter()
        .all(|(_, t)| t.ends_with("is above $20.00 (now $25.00)")));
    assert_eq!(w.check("bot-a", lease).await, 0);
    assert!(w.store.pending_alerts().await.unwrap().is_empty());
}

#[actix_rt::test]
async fn a_claim_left_by_a_dead_bot_is_taken_over_after_the_lease_with_the_same_message() {
    let w = world().await;
    let mut sub = w.bus.subscribe("chat.msg.>").await.unwrap();
    assert!(w.store.add_alert(&alert("alice", "d.us")).await.unwrap());
    let id = w.store.pending_alerts().await.unwrap()[0].id;
    // A bot claims it and dies before posting.
    let dead_id = chat_shared::message::next_id().to_string();
    let text = "@alice D.US is above $20.00 (now $24.00)";
    let stale_before = chrono::Utc::now().timestamp_millis() - 60_000;
    let claim = w
        .store
        .claim_alert(id, &dead_id, text, stale_before)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claim.message_id, dead_id);

    let lease = Duration::from_millis(300);
    assert_eq!(
        w.check("bot-b", lease).await,
        0,
        "a fresh claim is left alone"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(w.check("bot-b", lease).await, 1);
    let messages = posted(&mut sub).await;
    assert_eq!(
        messages,
        vec![(dead_id, text.to_owned())],
        "the dead bot's message, same id and text"
    );
    assert_eq!(w.check("bot-b", lease).await, 0);
}
