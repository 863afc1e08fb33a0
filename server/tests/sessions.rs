//! Login sessions end on the server: by their lifetime, by logout, and by
//! "log out everywhere", whatever a kept cookie says.

use std::time::Duration;

use serde_json::json;

use crate::support::{TestApp, PASSWORD};

#[actix_rt::test]
async fn a_session_older_than_its_lifetime_is_refused_even_with_its_cookie_intact() {
    let app = TestApp::spawn_with_env(&[("CHAT_SESSION_LIFETIME_SECS", "3")]).await;
    let mut alice = app.user("alice").await;
    let mut open = alice.ws().await;
    open.join("general").await;
    assert_eq!(alice.get("/api/me").await.0, 200);

    actix_rt::time::sleep(Duration::from_millis(3200)).await;
    let mut kept = alice.clone();
    assert_eq!(
        kept.get("/api/me").await.0,
        401,
        "the same cookie, intact, is refused once the session is older than its lifetime"
    );
    assert_eq!(kept.try_ws(None).await.err(), Some(401));
    assert_eq!(
        open.expect_close().await,
        Some(1008),
        "a socket of the expired session is closed"
    );
    let mut again = app.anonymous();
    assert_eq!(again.login("alice", PASSWORD).await.0, 200);
    assert_eq!(again.get("/api/me").await.0, 200, "logging in again works");
}

#[actix_rt::test]
async fn a_logged_out_cookie_stays_refused_after_a_restart() {
    let mut app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    let kept = alice.clone();
    assert_eq!(alice.post("/api/logout", json!({})).await.0, 204);
    // Other sessions come and go (each start sweeps expired sessions).
    for _ in 0..3 {
        let mut other = app.anonymous();
        assert_eq!(other.login("alice", PASSWORD).await.0, 200);
        assert_eq!(other.post("/api/logout", json!({})).await.0, 204);
    }
    app.restart().await;
    let mut replay = kept.clone();
    assert_eq!(replay.get("/api/me").await.0, 401);
    assert_eq!(kept.try_ws(None).await.err(), Some(401));
}

#[actix_rt::test]
async fn logging_out_everywhere_ends_every_session_of_the_account_and_no_one_elses() {
    let app = TestApp::spawn().await;
    let mut laptop = app.user("alice").await;
    let laptop_kept = laptop.clone();
    let mut phone = app.anonymous();
    assert_eq!(phone.login("alice", PASSWORD).await.0, 200);
    let mut bob = app.user("bob").await;
    let mut phone_socket = phone.ws().await;
    phone_socket.join("general").await;
    let mut bob_socket = bob.ws().await;
    bob_socket.join("general").await;

    let status = laptop
        .post("/api/logout", json!({"everywhere": true}))
        .await
        .0;
    assert_eq!(status, 204);
    assert_eq!(phone.get("/api/me").await.0, 401, "the phone is logged out");
    assert_eq!(phone_socket.expect_close().await, Some(1008));
    let mut replay = laptop_kept.clone();
    assert_eq!(replay.get("/api/me").await.0, 401, "and so is the laptop");
    assert_eq!(
        bob.get("/api/me").await.0,
        200,
        "other accounts keep theirs"
    );
    bob_socket.say("general", "still here").await;
}

#[actix_rt::test]
async fn logging_in_with_end_other_sessions_keeps_only_the_new_one() {
    let app = TestApp::spawn().await;
    let mut stolen = app.user("alice").await;
    let mut stolen_socket = stolen.ws().await;
    stolen_socket.join("general").await;

    let mut owner = app.anonymous();
    let body = json!({"username": "alice", "password": PASSWORD, "end_other_sessions": true});
    assert_eq!(owner.post("/api/login", body).await.0, 200);
    assert_eq!(owner.get("/api/me").await.0, 200, "the new session lives");
    assert_eq!(stolen.get("/api/me").await.0, 401, "the old one is ended");
    assert_eq!(stolen_socket.expect_close().await, Some(1008));

    let mut another = app.anonymous();
    assert_eq!(another.login("alice", PASSWORD).await.0, 200);
    assert_eq!(
        owner.get("/api/me").await.0,
        200,
        "a plain login leaves other sessions alone"
    );
}
