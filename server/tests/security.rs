//! Limits and security: each limit is configurable and enforced, sessions and
//! secrets are handled with care.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{tells_presence, TestApp, PASSWORD};

#[actix_rt::test]
async fn a_connection_may_join_only_as_many_channels_as_configured() {
    let app = TestApp::spawn_with_env(&[("CHAT_MAX_CHANNELS", "3")]).await;
    let mut alice = app.user("alice").await;
    for name in ["c1", "c2", "c3"] {
        assert_eq!(alice.create_channel(name).await.0, 201);
    }
    let mut a = alice.ws().await;
    for name in ["general", "c1", "c2"] {
        a.join(name).await;
    }
    a.send(json!({"type": "join", "channel": "c3"})).await;
    let refused = a.expect_error("too_many_channels").await;
    assert!(
        refused["message"].as_str().unwrap().contains('3'),
        "{refused}"
    );
    a.send(json!({"type": "leave", "channel": "c1"})).await;
    a.join("c3").await;
    a.say("c3", "room for one more").await;
}

#[actix_rt::test]
async fn a_user_may_hold_at_most_20_connections() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let mut open = Vec::new();
    for _ in 0..20 {
        open.push(alice.ws().await);
    }
    assert_eq!(
        alice.try_ws(None).await.err(),
        Some(429),
        "the 21st is refused"
    );
    open.pop();
    let deadline = Instant::now() + Duration::from_secs(5);
    let again = loop {
        match alice.try_ws(None).await {
            Ok(ws) => break ws,
            Err(_) if Instant::now() < deadline => {
                actix_rt::time::sleep(Duration::from_millis(50)).await
            }
            Err(status) => panic!("a freed slot was not reusable: {status}"),
        }
    };
    drop(again);
    let mut bob = app.user("bob").await.ws().await;
    bob.join("general").await;
}

#[actix_rt::test]
async fn a_silent_peer_is_dropped_and_its_presence_cleared() {
    let env = [
        ("CHAT_HEARTBEAT_SECS", "1"),
        ("CHAT_CLIENT_TIMEOUT_SECS", "3"),
    ];
    let app = TestApp::spawn_with_env(&env).await;
    let mut silent = app.user("alice").await.ws().await;
    silent.join("general").await;
    let mut b = app.user("bob").await.ws().await;
    b.join("general").await;
    // alice neither reads nor writes from here on; bob keeps answering pings.
    let left = b
        .expect_within(Duration::from_secs(10), "alice dropped", |f| {
            tells_presence(f, "alice", "leave")
        })
        .await;
    assert_eq!(left["channel"], "general");
    let frames = b.drain(Duration::from_secs(4)).await;
    assert!(
        frames.iter().all(|f| !tells_presence(f, "bob", "leave")
            && f["leaves"].as_array().is_none_or(|l| l.is_empty())),
        "bob answers pings and stays: {frames:?}"
    );
    assert!(silent.expect_close().await.is_some_and(|code| code == 1001));
}

#[actix_rt::test]
async fn the_session_cookie_is_secure_behind_tls() {
    let app = TestApp::spawn_with_env(&[("CHAT_BEHIND_TLS", "true")]).await;
    let response = awc::Client::default()
        .post(app.url("/api/register"))
        .send_json(&json!({"username": "alice", "password": PASSWORD}))
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for flag in ["Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
}

#[actix_rt::test]
async fn behind_tls_only_the_https_page_of_the_same_host_is_the_servers_own_origin() {
    let app = TestApp::spawn_with_env(&[("CHAT_BEHIND_TLS", "true")]).await;
    let alice = app.user("alice").await;
    let plain = format!("http://{}", app.addr);
    assert_eq!(
        alice.try_ws(Some(&plain)).await.err(),
        Some(403),
        "a plain-http page on the same host is another origin"
    );
    let tls = format!("https://{}", app.addr);
    let mut ws = alice.try_ws(Some(&tls)).await.expect("the https page may");
    ws.join("general").await;
    let mut bob = app.anonymous();
    let refused = bob
        .request_with(
            "POST",
            "/api/register",
            Some(json!({"username": "bob", "password": PASSWORD})),
            &[("Origin", &plain)],
        )
        .await;
    assert_eq!(refused.0, 403, "{refused:?}");
}

/// Sends `bytes` on a fresh connection, then reads until the server answers
/// and closes; returns what it said and how long that took.
fn trickle(addr: &str, bytes: &[u8]) -> (String, Duration) {
    use std::io::{Read, Write};
    let started = Instant::now();
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    tcp.write_all(bytes).unwrap();
    let mut said = Vec::new();
    let _ = tcp.read_to_end(&mut said);
    (
        String::from_utf8_lossy(&said).into_owned(),
        started.elapsed(),
    )
}

#[actix_rt::test]
async fn a_request_whose_head_or_body_trickles_in_is_cut_off_at_the_deadline() {
    let app = TestApp::spawn_with_env(&[("CHAT_REQUEST_TIMEOUT_SECS", "2")]).await;
    let addr = app.addr.clone();
    let (said, took) = actix_rt::task::spawn_blocking(move || {
        trickle(&addr, b"GET /api/me HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    })
    .await
    .unwrap();
    assert!(
        took < Duration::from_secs(4),
        "an unfinished head is cut off after 2 s, not {took:?}: {said:?}"
    );

    let addr = app.addr.clone();
    let head = "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Content-Length: 200\r\n\r\n{\"username\":";
    let (said, took) = actix_rt::task::spawn_blocking(move || trickle(&addr, head.as_bytes()))
        .await
        .unwrap();
    assert!(
        said.starts_with("HTTP/1.1 408"),
        "an unfinished body gets 408: {said:?}"
    );
    assert!(said.contains("request_timeout"), "{said}");
    assert!(
        took < Duration::from_secs(4),
        "cut off after 2 s, not {took:?}"
    );
    let mut alice = app.anonymous();
    assert_eq!(
        alice.register("alice", PASSWORD).await.0,
        201,
        "others are served"
    );
}

/// The status and body of `GET url` with extra headers.
async fn get_text(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = awc::Client::default().get(url);
    for (name, value) in headers {
        req = req.insert_header((*name, *value));
    }
    let mut response = req.send().await.unwrap();
    let body = response.body().await.unwrap();
    (
        response.status().as_u16(),
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[actix_rt::test]
async fn metrics_are_only_for_this_machine_a_token_holder_or_their_own_listener() {
    let app = TestApp::spawn().await;
    let (status, body) = get_text(&app.url("/metrics"), &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("chat_connections"), "{body}");
    let forwarded = [("X-Forwarded-For", "203.0.113.9")];
    let (status, _) = get_text(&app.url("/metrics"), &forwarded).await;
    assert_eq!(
        status, 404,
        "a request forwarded by a proxy is not this machine"
    );

    let app = TestApp::spawn_with_env(&[("CHAT_METRICS_TOKEN", "s3cret-token")]).await;
    assert_eq!(get_text(&app.url("/metrics"), &[]).await.0, 404);
    let wrong = [("Authorization", "Bearer guess")];
    assert_eq!(get_text(&app.url("/metrics"), &wrong).await.0, 404);
    let right = [("Authorization", "Bearer s3cret-token")];
    let (status, body) = get_text(&app.url("/metrics"), &right).await;
    assert_eq!(status, 200);
    assert!(body.contains("chat_connections"), "{body}");
    assert!(
        !app.log().contains("s3cret-token"),
        "the token is not logged"
    );

    let own = format!("127.0.0.1:{}", chat_shared::testing::free_port());
    let app = TestApp::spawn_with_env(&[("CHAT_METRICS_BIND", &own)]).await;
    assert_eq!(
        get_text(&app.url("/metrics"), &[]).await.0,
        404,
        "not on the main address"
    );
    let (status, body) = get_text(&format!("http://{own}/metrics"), &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("chat_connections"), "{body}");
    assert_eq!(get_text(&format!("http://{own}/readyz"), &[]).await.0, 200);
    assert_eq!(
        get_text(&format!("http://{own}/api/me"), &[]).await.0,
        404,
        "the metrics listener serves nothing else"
    );
}

#[actix_rt::test]
async fn passwords_longer_than_72_bytes_count_in_full() {
    let app = TestApp::spawn().await;
    let long = format!("{}{}", "p".repeat(72), "-the-real-ending");
    let forged = format!("{}{}", "p".repeat(72), "-another-ending");
    let mut alice = app.anonymous();
    assert_eq!(alice.register("alice", &long).await.0, 201);
    assert_eq!(
        app.anonymous().login("alice", &forged).await.0,
        401,
        "bytes past 72 matter"
    );
    assert_eq!(app.anonymous().login("alice", &long).await.0, 200);
}

#[actix_rt::test]
async fn login_says_the_same_in_about_the_same_time_whether_or_not_the_user_exists() {
    let app = TestApp::spawn().await;
    app.user("alice").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    let mut bodies = std::collections::HashSet::new();
    for i in 0..4 {
        for (name, times) in [("alice", &mut known), ("nobody_here", &mut unknown)] {
            let started = Instant::now();
            let (status, body) = app
                .anonymous()
                .login(name, &format!("wrong password {i}"))
                .await;
            times.push(started.elapsed());
            assert_eq!(status, 401);
            bodies.insert(body.to_string());
        }
    }
    assert_eq!(bodies.len(), 1, "one answer for both: {bodies:?}");
    known.sort();
    unknown.sort();
    let (k, u) = (
        known[known.len() / 2].as_secs_f64(),
        unknown[unknown.len() / 2].as_secs_f64(),
    );
    assert!(
        u > k * 0.5 && u < k * 2.0,
        "median {k:.3}s for a real user vs {u:.3}s for none"
    );
}

#[actix_rt::test]
async fn secrets_never_reach_the_logs() {
    let key = "ab".repeat(64);
    let app = TestApp::spawn_with_env(&[("CHAT_SESSION_KEY", &key)]).await;
    let mut alice = app.anonymous();
    alice.register("alice", "a secret password").await;
    app.anonymous().login("alice", "another secret tried").await;
    alice.post("/api/logout", json!({})).await;
    let log = app.log();
    assert!(log.contains("starting"), "the log is being read: {log}");
    for secret in [key.as_str(), "a secret password", "another secret tried"] {
        assert!(!log.contains(secret), "{secret:?} appears in the log");
    }
}

#[actix_rt::test]
async fn user_supplied_strings_cannot_forge_log_lines_or_send_terminal_escapes() {
    let app = TestApp::spawn().await;
    let forged = "FORGED-LINE level=ERROR all data deleted";
    let name = format!(
        "mallory\n{forged}\r\n{forged}\u{1b}[2J\u{202e}{}",
        "x".repeat(500)
    );
    let mut mallory = app.anonymous();
    assert_eq!(mallory.register(&name, PASSWORD).await.0, 400);
    assert_eq!(mallory.login(&name, PASSWORD).await.0, 401);
    let mut alice = app.user("alice").await;
    let channel = format!("c\n{forged}");
    assert_eq!(alice.create_channel(&channel).await.0, 400);
    let log = app.log();
    assert!(log.contains("mallory"), "the attempts are logged: {log}");
    for line in log.lines() {
        assert!(
            !line.trim_start().starts_with("FORGED-LINE"),
            "a forged line: {line:?}"
        );
        assert!(!line.contains('\u{1b}'), "a terminal escape: {line:?}");
        assert!(!line.contains('\u{202e}'), "a bidi override: {line:?}");
        assert!(line.len() < 1500, "a capped line, not {} bytes", line.len());
    }
    assert!(
        !log.contains(&"x".repeat(200)),
        "long user input is cut short in the log"
    );
}

#[actix_rt::test]
async fn a_new_data_dir_and_its_database_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("fresh");
    let app = TestApp::spawn_with_env(&[("CHAT_DATA_DIR", dir.to_str().unwrap())]).await;
    // A write, so that SQLite has made its WAL and shared-memory files.
    assert_eq!(app.anonymous().register("alice", PASSWORD).await.0, 201);
    let mode = |name: &str| {
        let path = dir.join(name);
        let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        meta.permissions().mode() & 0o777
    };
    assert_eq!(mode(""), 0o700, "the data dir");
    for file in ["chat.db", "chat.db-wal", "chat.db-shm", "session.key"] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
}
