//! Abuse limits: sign-ups and new channels per address and per account, the
//! real client address behind a trusted proxy, typing merged per user, and
//! password hashing bounded so that a burst of sign-ups cannot starve the rest.

use futures::future::join_all;
use serde_json::json;

use crate::support::metrics::metric;
use crate::support::{pluck, Answer, Client, TestApp, PASSWORD};

/// The test's own address is a trusted proxy, as is a private range: requests
/// then speak for the clients named in their `X-Forwarded-For`.
const BEHIND_PROXY: (&str, &str) = ("CHAT_TRUSTED_PROXIES", "127.0.0.1,192.168.0.0/16");

async fn sign_up(client: &Client, name: impl Into<String>) -> Answer {
    let body = json!({"username": name.into(), "password": PASSWORD});
    client
        .clone()
        .exchange("POST", "/api/register", Some(body))
        .await
}

async fn new_channel(client: &Client, name: &str) -> Answer {
    client
        .clone()
        .exchange("POST", "/api/channels", Some(json!({ "name": name })))
        .await
}

// Sign-ups

#[actix_rt::test]
async fn sign_ups_from_one_address_are_limited_per_hour_with_429_and_retry_after() {
    let app = TestApp::spawn_with_env(&[("CHAT_SIGNUPS_PER_HOUR", "3")]).await;
    for name in ["alice", "bob", "carol"] {
        app.user(name).await;
    }
    let refused = sign_up(&app.anonymous(), "dave").await;
    let wait = refused.expect_retry_later(429, "rate_limited");
    assert!((1..=3600).contains(&wait), "Retry-After: {wait}");
    assert_eq!(
        app.anonymous().login("dave", PASSWORD).await.0,
        401,
        "no account was made"
    );
}

#[actix_rt::test]
async fn without_trusted_proxies_a_forged_x_forwarded_for_does_not_escape_the_per_address_limit() {
    let app = TestApp::spawn_with_env(&[("CHAT_SIGNUPS_PER_HOUR", "2")]).await;
    let anonymous = app.anonymous();
    for (name, forged) in [("alice", "10.0.0.1"), ("bob", "10.0.0.2")] {
        let answer = sign_up(&anonymous.forwarded_for(forged), name).await;
        assert_eq!(answer.status, 201, "{answer:?}");
    }
    sign_up(&anonymous.forwarded_for("10.0.0.3"), "carol")
        .await
        .expect_retry_later(429, "rate_limited");
}

#[actix_rt::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limits() {
    let app = TestApp::spawn_with_env(&[BEHIND_PROXY, ("CHAT_SIGNUPS_PER_HOUR", "2")]).await;
    let from = |chain: &str| app.anonymous().forwarded_for(chain);
    for name in ["alice", "bob"] {
        let answer = sign_up(&from("10.0.0.1"), name).await;
        assert_eq!(answer.status, 201, "{answer:?}");
    }
    sign_up(&from("10.0.0.1"), "carol")
        .await
        .expect_retry_later(429, "rate_limited");
    // What a client puts left of its proxy's entry counts for nothing.
    sign_up(&from("10.0.0.9, 10.0.0.1"), "carol")
        .await
        .expect_retry_later(429, "rate_limited");
    for (name, chain) in [("carol", "10.0.0.2"), ("dave", "10.0.0.3, 192.168.1.5")] {
        let answer = sign_up(&from(chain), name).await;
        assert_eq!(answer.status, 201, "{chain}: {answer:?}");
    }
}

// Channels

#[actix_rt::test]
async fn channel_creation_is_limited_per_account_and_per_address() {
    let app = TestApp::spawn_with_env(&[BEHIND_PROXY, ("CHAT_CHANNELS_PER_HOUR", "2")]).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let alice_home = alice.forwarded_for("10.0.0.1");
    for name in ["a1", "a2"] {
        let answer = new_channel(&alice_home, name).await;
        assert_eq!(answer.status, 201, "{answer:?}");
    }
    let wait = new_channel(&alice_home, "a3")
        .await
        .expect_retry_later(429, "rate_limited");
    assert!((1..=3600).contains(&wait), "Retry-After: {wait}");
    new_channel(&alice.forwarded_for("10.0.0.2"), "a3")
        .await
        .expect_retry_later(429, "rate_limited");
    new_channel(&bob.forwarded_for("10.0.0.1"), "b1")
        .await
        .expect_retry_later(429, "rate_limited");
    let answer = new_channel(&carol.forwarded_for("10.0.0.3"), "c1").await;
    assert_eq!(answer.status, 201, "{answer:?}");

    let (status, list) = carol.clone().get("/api/channels").await;
    assert_eq!(status, 200);
    assert_eq!(
        pluck(&list["channels"], "name"),
        ["a1", "a2", "c1", "general"],
        "refused channels were not made"
    );
}

// Typing

#[actix_rt::test]
async fn a_burst_of_typing_frames_reaches_each_other_member_once_per_window() {
    let app = TestApp::spawn().await;
    let mut a = app.user("alice").await.ws().await;
    let mut b = app.user("bob").await.ws().await;
    let mut c = app.user("carol").await.ws().await;
    for ws in [&mut a, &mut b, &mut c] {
        ws.join("general").await;
    }
    a.typing_bursts_reach_once_per_window("alice", &mut [&mut b, &mut c])
        .await;
}

// Password hashing

#[actix_rt::test]
async fn sixteen_sign_ups_at_once_never_hash_more_passwords_at_once_than_the_cap() {
    let app = TestApp::spawn().await;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = (cores / 2).max(1) as f64;
    let anonymous = app.anonymous();
    let answers = join_all((0..16).map(|i| sign_up(&anonymous, format!("burst{i:02}")))).await;
    for answer in &answers {
        assert_eq!(answer.status, 201, "{answer:?}");
    }
    let peak = metric(&app.addr, "chat_password_hashes_in_flight_peak").await;
    assert!(
        (1.0..=cap).contains(&peak),
        "peak {peak} with a cap of {cap}"
    );
    assert_eq!(
        metric(&app.addr, "chat_password_hashes_in_flight").await,
        0.0
    );
}

#[actix_rt::test]
async fn sign_ups_beyond_the_hashing_queue_are_told_to_come_back_with_503_busy() {
    let env = [
        ("CHAT_HASH_CONCURRENCY", "1"),
        ("CHAT_HASH_QUEUE", "1"),
        ("CHAT_BCRYPT_COST", "13"),
    ];
    let app = TestApp::spawn_with_env(&env).await;
    let anonymous = app.anonymous();
    let answers = join_all((0..8).map(|i| sign_up(&anonymous, format!("burst{i:02}")))).await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    let busy: Vec<&Answer> = answers.iter().filter(|a| a.status == 503).collect();
    assert_eq!(created + busy.len(), 8, "{answers:?}");
    assert!(
        (1..=2).contains(&created),
        "one hashing, one waiting: {answers:?}"
    );
    for answer in busy {
        assert!(answer.expect_retry_later(503, "busy") >= 1);
    }
    let again = sign_up(&anonymous, "later").await;
    assert_eq!(again.status, 201, "{again:?}");
}
