//! The HTTP contract of docs/protocol.md: status codes, the error body
//! `{"error":{"code","message"}}`, limits, and the security headers.

use std::net::IpAddr;
use std::time::Duration;

use awc::http::header::HeaderMap;
use serde_json::{json, Value};

use crate::support::{pluck, Client, TestApp, PASSWORD};

/// Asserts a documented error answer: the status, the code, and a human
/// message. Returns the message.
#[track_caller]
fn assert_error((status, body): &(u16, Value), want_status: u16, code: &str) -> String {
    assert_eq!(*status, want_status, "status; body: {body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.trim().is_empty(), "a human message: {body}");
    let keys: Vec<_> = body["error"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        ["code", "message"],
        "exactly code and message: {body}"
    );
    message.to_owned()
}

/// A response read whole, with its headers.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("a JSON body: {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// The raw `Set-Cookie` header of the session cookie.
    fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("chat_session="))
            .map(str::to_owned)
    }

    fn error(&self) -> (u16, Value) {
        (self.status, self.json())
    }
}

/// A raw HTTP client, optionally connecting from a given loopback address.
fn http_from(local: Option<IpAddr>) -> awc::Client {
    let mut builder = awc::Client::builder().timeout(Duration::from_secs(10));
    if let Some(ip) = local {
        builder = builder.local_address(ip);
    }
    builder.finish()
}

/// Sends `req` with an optional body of `content_type` and reads the whole reply.
async fn fetch(req: awc::ClientRequest, body: Option<(&str, Vec<u8>)>) -> Reply {
    let sent = match body {
        Some((content_type, bytes)) => {
            req.insert_header(("Content-Type", content_type))
                .send_body(bytes)
                .await
        }
        None => req.send().await,
    };
    let mut response = sent.expect("request completes");
    let body = response
        .body()
        .limit(1 << 22)
        .await
        .expect("body reads")
        .to_vec();
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body,
    }
}

/// A login attempt from the loopback address `from` (127.0.0.x).
async fn login_from(app: &TestApp, from: &str, username: &str, password: &str) -> Reply {
    let req = http_from(Some(from.parse().unwrap())).post(app.url("/api/login"));
    let body = json!({"username": username, "password": password})
        .to_string()
        .into_bytes();
    fetch(req, Some(("application/json", body))).await
}

async fn channel_names(client: &mut Client) -> Vec<String> {
    let (status, body) = client.get("/api/channels").await;
    assert_eq!(status, 200, "{body}");
    pluck(&body["channels"], "name")
}

// Accounts

#[actix_rt::test]
async fn register_with_an_invalid_username_is_400() {
    let app = TestApp::spawn().await;
    let mut c = app.anonymous();
    for bad in [
        "ab",
        "has space",
        "dash-ed",
        "émile",
        "",
        &"x".repeat(33),
        "semi;colon",
    ] {
        assert_error(&c.register(bad, PASSWORD).await, 400, "invalid");
    }
    assert_eq!(c.cookie, None, "no session was started");
    assert_eq!(
        c.register(&"x".repeat(32), PASSWORD).await.0,
        201,
        "32 characters is fine"
    );
}

#[actix_rt::test]
async fn register_with_a_password_under_8_characters_is_400() {
    let app = TestApp::spawn().await;
    let mut c = app.anonymous();
    assert_error(&c.register("alice", "1234567").await, 400, "invalid");
    assert_error(&c.register("alice", "").await, 400, "invalid");
    assert_eq!(
        c.register("alice", "12345678").await.0,
        201,
        "8 characters is fine"
    );
}

#[actix_rt::test]
async fn register_with_a_password_over_128_characters_is_400() {
    let app = TestApp::spawn().await;
    let mut c = app.anonymous();
    assert_error(&c.register("alice", &"p".repeat(129)).await, 400, "invalid");
    assert_eq!(
        c.register("alice", &"p".repeat(128)).await.0,
        201,
        "128 characters is fine"
    );
    assert_eq!(
        app.anonymous().login("alice", &"p".repeat(128)).await.0,
        200
    );
}

#[actix_rt::test]
async fn reserved_names_cannot_be_registered_in_any_case() {
    let app = TestApp::spawn().await;
    for name in [
        "stockbot",
        "StockBot",
        "system",
        "ADMIN",
        "ops",
        "moderator",
    ] {
        let mut c = app.anonymous();
        assert_error(&c.register(name, PASSWORD).await, 409, "username_reserved");
        assert_eq!(c.cookie, None, "{name}: no session");
        assert_eq!(
            app.anonymous().login(name, PASSWORD).await.0,
            401,
            "{name}: no account"
        );
    }
    assert_eq!(
        app.anonymous().register("stockbot_fan", PASSWORD).await.0,
        201
    );
}

#[actix_rt::test]
async fn a_username_taken_in_another_case_is_409() {
    let app = TestApp::spawn().await;
    app.user("alice").await;
    let mut c = app.anonymous();
    assert_error(&c.register("ALICE", PASSWORD).await, 409, "username_taken");
    assert_error(
        &c.register("alice", "another password").await,
        409,
        "username_taken",
    );
    assert_eq!(c.cookie, None);
    assert_eq!(
        app.anonymous().login("alice", PASSWORD).await.0,
        200,
        "the first account is untouched"
    );
}

#[actix_rt::test]
async fn a_wrong_password_and_an_unknown_user_fail_login_identically() {
    let app = TestApp::spawn().await;
    app.user("alice").await;
    let wrong_password = app.anonymous().login("alice", "not the password").await;
    let unknown_user = app.anonymous().login("nobody", PASSWORD).await;
    assert_error(&wrong_password, 401, "bad_credentials");
    assert_error(&unknown_user, 401, "bad_credentials");
    assert_eq!(
        wrong_password.1, unknown_user.1,
        "the same body whether or not the user exists"
    );
    let invalid_name = app.anonymous().login("no such user!", PASSWORD).await;
    assert_eq!(invalid_name, unknown_user);
}

#[actix_rt::test]
async fn me_without_a_session_is_401() {
    let app = TestApp::spawn().await;
    assert_error(
        &app.anonymous().get("/api/me").await,
        401,
        "unauthenticated",
    );
    let mut forged = app.anonymous();
    forged.cookie = Some("chat_session=forged".into());
    assert_error(&forged.get("/api/me").await, 401, "unauthenticated");
}

#[actix_rt::test]
async fn logout_is_204_clears_the_cookie_and_then_me_is_401() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let cookie = alice.cookie.clone().expect("a session cookie");
    let reply = fetch(
        http_from(None)
            .post(app.url("/api/logout"))
            .insert_header(("Cookie", cookie.clone())),
        None,
    )
    .await;
    assert_eq!(reply.status, 204);
    assert!(reply.body.is_empty());
    let cleared = reply.session_cookie().expect("logout sets the cookie");
    assert!(
        cleared.starts_with("chat_session=;"),
        "the cookie is cleared: {cleared}"
    );

    let mut after = alice.clone();
    after.cookie = None;
    assert_error(&after.get("/api/me").await, 401, "unauthenticated");
    let mut replayed = alice.clone();
    assert_eq!(replayed.cookie.as_deref(), Some(cookie.as_str()));
    assert_error(&replayed.get("/api/me").await, 401, "unauthenticated");
}

// Channels

#[actix_rt::test]
async fn listing_channels_without_a_session_is_401() {
    let app = TestApp::spawn().await;
    assert_error(
        &app.anonymous().get("/api/channels").await,
        401,
        "unauthenticated",
    );
    assert_error(
        &app.anonymous().create_channel("sneaky").await,
        401,
        "unauthenticated",
    );
    assert_error(
        &app.anonymous().get("/api/channels/general/messages").await,
        401,
        "unauthenticated",
    );
}

#[actix_rt::test]
async fn creating_a_channel_with_a_bad_name_is_400_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    let before = channel_names(&mut alice).await;
    assert_eq!(before, ["general"]);
    for bad in [
        "A",
        "has space",
        "UPPER",
        "x",
        &"a".repeat(51),
        "-lead",
        "_lead",
        "dot.ted",
        "star*",
        "",
    ] {
        assert_error(&alice.create_channel(bad).await, 400, "invalid");
    }
    assert_eq!(
        channel_names(&mut alice).await,
        before,
        "nothing was created"
    );
    let (status, created) = alice.create_channel(&"a".repeat(50)).await;
    assert_eq!(
        (status, created["name"].as_str()),
        (201, Some("a".repeat(50).as_str())),
        "50 characters is fine"
    );
}

#[actix_rt::test]
async fn creating_a_channel_that_exists_is_409() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    assert_eq!(alice.create_channel("random").await.0, 201);
    assert_error(&alice.create_channel("random").await, 409, "channel_exists");
    assert_error(
        &app.user("bob").await.create_channel("general").await,
        409,
        "channel_exists",
    );
    assert_eq!(
        channel_names(&mut alice)
            .await
            .iter()
            .filter(|n| *n == "random")
            .count(),
        1
    );
}

#[actix_rt::test]
async fn the_channel_list_comes_in_pages_each_naming_the_next() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    for name in ["c1", "c2", "c3", "c4"] {
        assert_eq!(alice.create_channel(name).await.0, 201);
    }
    let mut seen = Vec::new();
    let mut path = "/api/channels?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = alice.get(&path).await;
        assert_eq!(status, 200, "{page}");
        let names = pluck(&page["channels"], "name");
        assert!(names.len() <= 2, "{page}");
        seen.extend(names);
        pages += 1;
        match page["next"].as_str() {
            Some(next) => path = format!("/api/channels?limit=2&after={next}"),
            None => {
                assert!(
                    page["next"].is_null(),
                    "next is null on the last page: {page}"
                );
                break;
            }
        }
    }
    assert_eq!(seen, ["c1", "c2", "c3", "c4", "general"]);
    assert_eq!(pages, 3);

    let (status, all) = alice.get("/api/channels").await;
    assert_eq!(status, 200);
    assert_eq!(
        pluck(&all["channels"], "name").len(),
        5,
        "one page by default"
    );
    assert!(all["next"].is_null(), "{all}");
    assert_eq!(alice.get("/api/channels?limit=500").await.0, 200);
    for bad in ["limit=0", "limit=501", "limit=x", "after=Not%20a%20name"] {
        assert_error(
            &alice.get(&format!("/api/channels?{bad}")).await,
            400,
            "invalid",
        );
    }
}

#[actix_rt::test]
async fn messages_of_a_missing_channel_are_404() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    assert_error(
        &alice.get("/api/channels/nowhere/messages").await,
        404,
        "no_such_channel",
    );
}

#[actix_rt::test]
async fn a_message_page_limit_outside_1_to_100_is_400() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    assert_error(
        &alice.get("/api/channels/general/messages?limit=0").await,
        400,
        "invalid",
    );
    assert_error(
        &alice.get("/api/channels/general/messages?limit=101").await,
        400,
        "invalid",
    );
    assert_error(
        &alice.get("/api/channels/general/messages?limit=-1").await,
        400,
        "invalid",
    );
    assert_error(
        &alice.get("/api/channels/general/messages?limit=ten").await,
        400,
        "invalid",
    );
    assert_eq!(
        alice.get("/api/channels/general/messages?limit=1").await.0,
        200
    );
    assert_eq!(
        alice
            .get("/api/channels/general/messages?limit=100")
            .await
            .0,
        200
    );
}

#[actix_rt::test]
async fn a_message_page_before_something_that_is_not_a_message_id_is_400() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    assert_error(
        &alice
            .get("/api/channels/general/messages?before=not-an-id")
            .await,
        400,
        "invalid",
    );
    assert_error(
        &alice.get("/api/channels/general/messages?before=").await,
        400,
        "invalid",
    );
    let id = chat_shared::message::next_id().to_string();
    let (status, page) = alice
        .get(&format!("/api/channels/general/messages?before={id}"))
        .await;
    assert_eq!(
        (status, page["messages"].clone()),
        (200, json!([])),
        "a real id is fine"
    );
}

// Bodies

#[actix_rt::test]
async fn a_json_body_over_64_kib_is_413_with_the_error_body() {
    let app = TestApp::spawn().await;
    let body = json!({"username": "bigbody", "password": "p".repeat(64 * 1024)})
        .to_string()
        .into_bytes();
    assert!(body.len() > 64 * 1024);
    let reply = fetch(
        http_from(None).post(app.url("/api/register")),
        Some(("application/json", body)),
    )
    .await;
    assert_error(&reply.error(), 413, "payload_too_large");
    assert_error(
        &app.anonymous().login("bigbody", PASSWORD).await,
        401,
        "bad_credentials",
    );
}

#[actix_rt::test]
async fn a_body_that_is_not_json_is_400() {
    let app = TestApp::spawn().await;
    let url = app.url("/api/register");
    let not_json = fetch(
        http_from(None).post(&url),
        Some(("application/json", b"username=alice".to_vec())),
    )
    .await;
    assert_error(&not_json.error(), 400, "invalid");
    let wrong_shape = fetch(
        http_from(None).post(&url),
        Some(("application/json", br#"{"username":"alice"}"#.to_vec())),
    )
    .await;
    assert_error(&wrong_shape.error(), 400, "invalid");
    let form = fetch(
        http_from(None).post(&url),
        Some((
            "application/x-www-form-urlencoded",
            format!("username=alice&password={PASSWORD}").into_bytes(),
        )),
    )
    .await;
    assert_error(&form.error(), 400, "invalid");
    let text = json!({"username": "alice", "password": PASSWORD})
        .to_string()
        .into_bytes();
    let text_plain = fetch(http_from(None).post(&url), Some(("text/plain", text))).await;
    assert_error(&text_plain.error(), 400, "invalid");
}

#[actix_rt::test]
async fn an_unknown_api_path_is_404_with_the_error_body() {
    let app = TestApp::spawn().await;
    assert_error(
        &app.anonymous().get("/api/nothing-here").await,
        404,
        "not_found",
    );
}

// WebSocket upgrade

#[actix_rt::test]
async fn ws_without_a_session_is_401() {
    let app = TestApp::spawn().await;
    assert_eq!(app.anonymous().try_ws(None).await.err(), Some(401));
    let plain = fetch(http_from(None).get(app.url("/ws")), None).await;
    assert_error(&plain.error(), 401, "unauthenticated");
}

#[actix_rt::test]
async fn ws_from_a_foreign_origin_is_403() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    assert_eq!(
        alice.try_ws(Some("https://evil.example")).await.err(),
        Some(403)
    );
    let req = http_from(None)
        .get(app.url("/ws"))
        .insert_header(("Cookie", alice.cookie.clone().unwrap()))
        .insert_header(("Origin", "https://evil.example"));
    assert_error(&fetch(req, None).await.error(), 403, "forbidden_origin");
}

#[actix_rt::test]
async fn state_changing_requests_from_another_site_are_refused() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    let evil = [("Origin", "https://evil.example")];
    let (status, body) = alice.request_with("POST", "/api/logout", None, &evil).await;
    assert_error(&(status, body), 403, "forbidden_origin");
    assert_eq!(alice.get("/api/me").await.0, 200, "still logged in");
    let channel = Some(json!({"name": "phished"}));
    let refused = alice
        .request_with("POST", "/api/channels", channel.clone(), &evil)
        .await;
    assert_error(&refused, 403, "forbidden_origin");
    let cross_site = [("Sec-Fetch-Site", "cross-site")];
    let refused = alice
        .request_with("POST", "/api/channels", channel.clone(), &cross_site)
        .await;
    assert_error(&refused, 403, "forbidden_origin");
    let (_, listed) = alice.get("/api/channels").await;
    assert!(!pluck(&listed["channels"], "name").contains(&"phished".to_owned()));

    let own = format!("http://{}", app.addr);
    let own = [("Origin", own.as_str()), ("Sec-Fetch-Site", "same-origin")];
    let created = alice
        .request_with("POST", "/api/channels", channel, &own)
        .await;
    assert_eq!(created.0, 201, "the server's own page may: {created:?}");
    let out = alice.request_with("POST", "/api/logout", None, &own).await;
    assert_eq!(out.0, 204);
}

#[actix_rt::test]
async fn ws_from_the_servers_own_origin_opens() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let mut ws = alice
        .try_ws(Some(&format!("http://{}", app.addr)))
        .await
        .expect("own origin is allowed");
    ws.join("general").await;
    ws.say("general", "from my own page").await;
    ws.expect_message("general", "from my own page").await;
}

// Login limits

#[actix_rt::test]
async fn ten_failed_logins_for_an_account_from_one_address_make_the_eleventh_429_with_retry_after()
{
    let app = TestApp::spawn().await;
    app.user("alice").await;
    for attempt in 1..=10 {
        let reply = login_from(&app, "127.0.0.1", "alice", "wrong password").await;
        assert_eq!(reply.status, 401, "attempt {attempt}: {:?}", reply.json());
    }
    let reply = login_from(&app, "127.0.0.1", "alice", "wrong password").await;
    assert_error(&reply.error(), 429, "too_many_attempts");
    let retry_after: u64 = reply
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .expect("seconds");
    assert!(
        (1..=60).contains(&retry_after),
        "Retry-After: {retry_after}"
    );

    let right = login_from(&app, "127.0.0.1", "alice", PASSWORD).await;
    assert_error(&right.error(), 429, "too_many_attempts");
    assert!(right.session_cookie().is_none(), "no session while blocked");
}

/// Clients behind a proxy at the test's own address, told apart by their
/// `X-Forwarded-For`.
const BEHIND_PROXY: (&str, &str) = ("CHAT_TRUSTED_PROXIES", "127.0.0.1");

async fn login_as(app: &TestApp, forwarded_for: &str, username: &str, password: &str) -> u16 {
    let mut client = app.anonymous().forwarded_for(forwarded_for);
    client.login(username, password).await.0
}

#[actix_rt::test]
async fn a_stranger_failing_logins_for_an_account_does_not_lock_its_owner_out() {
    let app = TestApp::spawn_with_env(&[BEHIND_PROXY]).await;
    app.user("alice").await;
    let stranger = "203.0.113.9";
    for attempt in 1..=10 {
        let status = login_as(&app, stranger, "Alice", "wrong password").await;
        assert_eq!(status, 401, "attempt {attempt}");
    }
    assert_eq!(
        login_as(&app, stranger, "alice", "wrong password").await,
        429,
        "the stranger is stopped"
    );
    assert_eq!(
        login_as(&app, stranger, "alice", PASSWORD).await,
        429,
        "even with the right password, from there"
    );
    assert_eq!(
        login_as(&app, "198.51.100.7", "alice", PASSWORD).await,
        200,
        "alice logs in from her own address"
    );
}

#[actix_rt::test]
async fn a_successful_login_forgets_that_accounts_failures_from_that_address() {
    let app = TestApp::spawn_with_env(&[BEHIND_PROXY]).await;
    app.user("alice").await;
    let home = "198.51.100.7";
    for round in 1..=2 {
        for attempt in 1..=9 {
            let status = login_as(&app, home, "alice", "mistyped").await;
            assert_eq!(status, 401, "round {round}, attempt {attempt}");
        }
        assert_eq!(login_as(&app, home, "alice", PASSWORD).await, 200);
    }
}

#[actix_rt::test]
async fn failed_logins_from_one_address_block_that_address_for_every_username() {
    let app = TestApp::spawn_with_env(&[("CHAT_LOGIN_ATTEMPTS_PER_ADDRESS", "10")]).await;
    app.user("bob").await;
    for i in 0..10 {
        assert_eq!(
            login_from(&app, "127.0.0.1", &format!("guess{i}"), "wrong password")
                .await
                .status,
            401
        );
    }
    let blocked = login_from(&app, "127.0.0.1", "bob", PASSWORD).await;
    assert_error(&blocked.error(), 429, "too_many_attempts");
    assert!(blocked.header("retry-after").is_some());
    assert_eq!(
        login_from(&app, "127.0.0.2", "bob", PASSWORD).await.status,
        200,
        "another address is not blocked"
    );
}

#[actix_rt::test]
async fn a_successful_login_does_not_count_against_the_limit() {
    let app = TestApp::spawn().await;
    app.user("alice").await;
    for _ in 0..12 {
        assert_eq!(
            login_from(&app, "127.0.0.1", "alice", PASSWORD)
                .await
                .status,
            200
        );
    }
}

// Headers, cookies and the page

#[actix_rt::test]
async fn the_page_and_the_api_send_the_security_headers() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let cookie = alice.cookie.clone().unwrap();
    let page = fetch(http_from(None).get(app.url("/")), None).await;
    let me = fetch(
        http_from(None)
            .get(app.url("/api/me"))
            .insert_header(("Cookie", cookie)),
        None,
    )
    .await;
    let me_anonymous = fetch(http_from(None).get(app.url("/api/me")), None).await;
    assert_eq!(
        (page.status, me.status, me_anonymous.status),
        (200, 200, 401)
    );
    for (what, reply) in [
        ("/", &page),
        ("/api/me", &me),
        ("/api/me without a session", &me_anonymous),
    ] {
        let csp = reply
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{what}: a CSP"));
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert!(
            reply
                .header("referrer-policy")
                .is_some_and(|v| !v.is_empty()),
            "{what}: a Referrer-Policy"
        );
    }
    for (what, reply) in [
        ("/api/me", &me),
        ("/api/me without a session", &me_anonymous),
    ] {
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{what}");
    }
}

#[actix_rt::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let app = TestApp::spawn().await;
    let body = json!({"username": "alice", "password": PASSWORD})
        .to_string()
        .into_bytes();
    let registered = fetch(
        http_from(None).post(app.url("/api/register")),
        Some(("application/json", body)),
    )
    .await;
    assert_eq!(registered.status, 201);
    let logged_in = login_from(&app, "127.0.0.1", "alice", PASSWORD).await;
    assert_eq!(logged_in.status, 200);
    for reply in [&registered, &logged_in] {
        let cookie = reply.session_cookie().expect("a session cookie");
        let attributes: Vec<String> = cookie
            .split(';')
            .skip(1)
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        assert!(attributes.iter().any(|a| a == "httponly"), "{cookie}");
        assert!(attributes.iter().any(|a| a == "samesite=lax"), "{cookie}");
        assert!(
            !attributes.iter().any(|a| a == "secure"),
            "not Secure over plain HTTP: {cookie}"
        );
        assert!(attributes.iter().any(|a| a == "path=/"), "{cookie}");
    }
}

#[actix_rt::test]
async fn the_root_serves_the_html_page() {
    let app = TestApp::spawn().await;
    let page = fetch(http_from(None).get(app.url("/")), None).await;
    assert_eq!(page.status, 200);
    let content_type = page.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = String::from_utf8_lossy(&page.body).to_ascii_lowercase();
    assert!(html.starts_with("<!doctype html>"), "{html:.80}");
    assert!(html.contains("<script type=\"module\" src=\"/js/main.js\">"));
}
