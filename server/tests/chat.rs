//! End to end in embedded mode: the real server binary, driven over HTTP and WebSocket.

use std::time::Duration;

use serde_json::json;

use crate::support::{pluck, quotes, tells_presence, TestApp, PASSWORD};

#[actix_rt::test]
async fn two_clients_chat_both_ways() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    a.join("general").await;
    let joined = b.join("general").await;
    assert!(
        joined["members"]
            .as_array()
            .unwrap()
            .contains(&json!("alice")),
        "{joined}"
    );
    a.expect("bob's presence", |f| tells_presence(f, "bob", "join"))
        .await;

    let id = a.say("general", "hi bob").await;
    let m = b.expect_message("general", "hi bob").await;
    assert_eq!(m["id"], id.as_str());
    assert_eq!(m["user"], "alice");
    assert_eq!(m["bot"], false);
    a.expect_message("general", "hi bob").await;

    b.say("general", "hello alice").await;
    let m = a.expect_message("general", "hello alice").await;
    assert_eq!(m["user"], "bob");
    assert!(
        m["id"].as_str().unwrap() > id.as_str(),
        "ids are time-ordered"
    );
}

#[actix_rt::test]
async fn typing_and_leaving_reach_the_others() {
    let app = TestApp::spawn().await;
    let (mut a, mut b) = (
        app.user("alice").await.ws().await,
        app.user("bob").await.ws().await,
    );
    a.join("general").await;
    b.join("general").await;
    // Presence comes in batches: one who came and went within one is not told.
    a.expect("bob arrived", |f| tells_presence(f, "bob", "join"))
        .await;
    b.send(json!({"type": "typing", "channel": "general"}))
        .await;
    a.expect("bob typing", |f| {
        f["type"] == "typing" && f["user"] == "bob" && f["channel"] == "general"
    })
    .await;
    b.send(json!({"type": "leave", "channel": "general"})).await;
    a.expect("bob left", |f| tells_presence(f, "bob", "leave"))
        .await;
    a.say("general", "anyone?").await;
    b.expect_no_message(Duration::from_millis(300), "a member who left gets nothing")
        .await;
}

#[actix_rt::test]
async fn one_connection_carries_many_channels() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    assert_eq!(alice.create_channel("random").await.0, 201);
    let mut a = alice.ws().await;
    let mut b = app.user("bob").await.ws().await;
    a.join("general").await;
    a.join("random").await;
    b.join("random").await;
    b.join("general").await;
    b.say("random", "in random").await;
    b.say("general", "in general").await;
    a.expect_message("random", "in random").await;
    a.expect_message("general", "in general").await;
}

#[actix_rt::test]
async fn several_tabs_of_one_user_all_receive_and_count_once() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let (mut tab1, mut tab2) = (alice.ws().await, alice.ws().await);
    let mut b = app.user("bob").await.ws().await;
    tab1.join("general").await;
    tab2.join("general").await;
    let joined = b.join("general").await;
    let members: Vec<_> = joined["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| *m == "alice")
        .collect();
    assert_eq!(members.len(), 1, "{joined}");
    b.say("general", "both tabs?").await;
    tab1.expect_message("general", "both tabs?").await;
    tab2.expect_message("general", "both tabs?").await;
    drop(tab1);
    b.say("general", "still there?").await;
    tab2.expect_message("general", "still there?").await;
    let frames = b.drain(Duration::from_millis(300)).await;
    assert!(
        frames.iter().all(|f| !tells_presence(f, "alice", "leave")),
        "alice still has a tab open: {frames:?}"
    );
}

#[actix_rt::test]
async fn join_shows_the_last_50_oldest_first_and_http_pages_back() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    let mut a = alice.ws().await;
    a.join("general").await;
    let mut ids = Vec::new();
    for i in 0..60 {
        ids.push(a.say("general", &format!("m{i}")).await);
        if i % 15 == 14 {
            // stay under the per-connection rate limit
            a = alice.ws().await;
            a.join("general").await;
        }
    }
    let mut b = app.user("bob").await.ws().await;
    let joined = b.join("general").await;
    let history = joined["history"].as_array().unwrap();
    assert_eq!(history.len(), 50);
    assert_eq!(history[0]["text"], "m10");
    assert_eq!(history[49]["text"], "m59");
    assert_eq!(pluck(&joined["history"], "id"), ids[10..]);

    let (status, page) = alice
        .get(&format!(
            "/api/channels/general/messages?before={}&limit=5",
            ids[10]
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        pluck(&page["messages"], "text"),
        ["m5", "m6", "m7", "m8", "m9"]
    );
    let (_, first) = alice
        .get(&format!("/api/channels/general/messages?before={}", ids[5]))
        .await;
    assert_eq!(first["messages"].as_array().unwrap().len(), 5);
}

#[actix_rt::test]
async fn history_accounts_channels_and_cookies_survive_a_restart() {
    let mut app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    assert_eq!(alice.create_channel("keep").await.0, 201);
    let mut a = alice.ws().await;
    a.join("keep").await;
    let id = a.say("keep", "remember me").await;
    drop(a);

    app.restart().await;

    let (status, me) = alice.get("/api/me").await;
    assert_eq!(
        (status, me["username"].as_str()),
        (200, Some("alice")),
        "the old cookie still works"
    );
    let (_, channels) = alice.get("/api/channels").await;
    assert!(channels["channels"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "keep"));
    let mut again = app.anonymous();
    assert_eq!(
        again.login("ALICE", PASSWORD).await.0,
        200,
        "case-insensitive login after restart"
    );
    let mut a = alice.ws().await;
    let joined = a.join("keep").await;
    assert_eq!(joined["history"][0]["id"], id.as_str());
    assert_eq!(joined["history"][0]["text"], "remember me");
}

#[actix_rt::test]
async fn stock_command_is_answered_by_the_bot() {
    let quotes = quotes::start();
    let app = TestApp::spawn_with(&quotes, &[]).await;
    let mut a = app.user("alice").await.ws().await;
    let mut b = app.user("bob").await.ws().await;
    a.join("general").await;
    b.join("general").await;
    a.say("general", "/stock=aapl.us").await;
    b.expect_message("general", "/stock=aapl.us").await;
    let reply = b
        .expect_message("general", "AAPL.US quote is $93.42 per share")
        .await;
    assert_eq!(reply["user"], "stockbot");
    assert_eq!(reply["bot"], true);
    a.say("general", "/stock=zzzz.us").await;
    a.expect_message("general", "I couldn't find a quote for ZZZZ.US.")
        .await;
    a.say("general", "/stock=aapl.us,msft.us").await;
    b.expect_message(
        "general",
        "AAPL.US quote is $93.42 per share\nMSFT.US quote is $412.5 per share",
    )
    .await;
    a.say("general", "/foo").await;
    let unknown = b
        .expect("the unknown command's reply", |f| {
            f["type"] == "message"
                && f["message"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("I don't know /foo. I know: /stock=CODE, /chart=CODE,DAYS,")
        })
        .await;
    assert!(unknown["message"]["text"]
        .as_str()
        .unwrap()
        .ends_with(", /help."));
    a.say("general", "/stock").await;
    let usage = b
        .expect("usage", |f| {
            f["type"] == "message"
                && f["message"]["bot"] == true
                && f["message"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("Usage: /stock=CODE")
        })
        .await;
    assert_eq!(usage["message"]["user"], "stockbot");

    let mut c = app.user("carol").await.ws().await;
    let joined = c.join("general").await;
    let texts = pluck(&joined["history"], "text");
    assert!(
        texts
            .iter()
            .any(|t| t == "AAPL.US quote is $93.42 per share"),
        "bot replies are archived: {texts:?}"
    );
    assert!(
        texts.iter().any(|t| t == "/stock=aapl.us"),
        "commands are archived: {texts:?}"
    );
}

#[actix_rt::test]
async fn a_new_channel_appears_live_for_every_connected_client() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    let mut b = app.user("bob").await.ws().await;
    let mut a = alice.ws().await;
    a.join("general").await;
    b.join("general").await;
    let (status, created) = alice.create_channel("announcements").await;
    assert_eq!(status, 201);
    assert_eq!(created["name"], "announcements");
    for ws in [&mut a, &mut b] {
        let f = ws
            .expect("channel_created", |f| f["type"] == "channel_created")
            .await;
        assert_eq!(f["channel"]["name"], "announcements");
        assert_eq!(f["channel"]["created_at"], created["created_at"]);
    }
}

#[actix_rt::test]
async fn logging_out_revokes_the_session_and_closes_its_sockets() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    let replayed = alice.clone();
    let mut open = alice.ws().await;
    open.join("general").await;
    let mut other_login = app.anonymous();
    assert_eq!(other_login.login("alice", PASSWORD).await.0, 200);

    assert_eq!(alice.post("/api/logout", json!({})).await.0, 204);
    let mut replay = replayed.clone();
    assert_eq!(
        replay.get("/api/me").await.0,
        401,
        "a logged-out cookie replayed is refused"
    );
    assert_eq!(replayed.try_ws(None).await.err(), Some(401));
    assert_eq!(
        open.expect_close().await,
        Some(1008),
        "its open socket is closed"
    );
    assert_eq!(
        other_login.get("/api/me").await.0,
        200,
        "other sessions of the user live on"
    );
}

#[actix_rt::test]
async fn a_reply_names_its_original_in_the_same_channel_and_anything_else_is_refused() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    let (status, _) = alice.create_channel("elsewhere").await;
    assert_eq!(status, 201);
    let mut a = alice.ws().await;
    a.join("general").await;
    a.join("elsewhere").await;
    let mut b = app.user("bob").await.ws().await;
    b.join("general").await;
    let original = a.say("general", "lunch at noon?").await;
    let in_elsewhere = a.say("elsewhere", "not here").await;

    let send = |reply_to: &str, text: &str| {
        let reference = format!("r-{}", chat_shared::message::next_id());
        json!({"type": "send", "channel": "general", "text": text, "ref": reference, "reply_to": reply_to})
    };
    let ack = b.answer(send(&original, "yes")).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let reply = a.expect_message("general", "yes").await;
    assert_eq!(reply["reply_to"], original.as_str());
    assert_eq!(reply["id"], ack["id"]);
    b.drain(Duration::from_millis(300)).await;

    // An id of another channel, an id of no message, and no id at all.
    let refused = b.answer(send(&in_elsewhere, "no")).await;
    assert_eq!(refused["code"], "no_such_message", "{refused}");
    let unknown = chat_shared::message::next_id().to_string();
    let refused = b.answer(send(&unknown, "no")).await;
    assert_eq!(refused["code"], "no_such_message", "{refused}");
    let refused = b.answer(send("yesterday", "no")).await;
    assert_eq!(refused["code"], "invalid_frame", "{refused}");
    b.expect_no_message(Duration::from_millis(300), "nothing refused was shown")
        .await;

    // The connection goes on, and history and the message route keep the link.
    b.say("general", "still here").await;
    let joined = app.user("carol").await.ws().await.join("general").await;
    let texts = pluck(&joined["history"], "text");
    assert_eq!(texts, ["lunch at noon?", "yes", "still here"]);
    assert_eq!(joined["history"][1]["reply_to"], original.as_str());
    assert!(
        joined["history"][2].get("reply_to").is_none(),
        "absent when empty"
    );
    let (status, one) = alice
        .get(&format!("/api/channels/general/messages/{original}"))
        .await;
    assert_eq!(
        (status, &one["message"]["text"]),
        (200, &json!("lunch at noon?"))
    );
    let (status, none) = alice
        .get(&format!("/api/channels/general/messages/{in_elsewhere}"))
        .await;
    assert_eq!(
        (status, &none["error"]["code"]),
        (404, &json!("no_such_message"))
    );
}

#[actix_rt::test]
async fn search_finds_whole_words_in_any_order_by_channel_and_page_and_refuses_bad_queries() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    let (status, _) = alice.create_channel("random").await;
    assert_eq!(status, 201);
    let mut a = alice.ws().await;
    a.join("general").await;
    a.join("random").await;
    let first = a.say("general", "Quarterly REPORT is ready").await;
    a.say("general", "reporting quarterly numbers").await;
    a.say("random", "the report, quarterly as always").await;
    let texts = |v: &serde_json::Value| pluck(&v["messages"], "text");

    let (status, all) = alice.get("/api/search?q=report%20QUARTERLY").await;
    assert_eq!(status, 200, "{all}");
    let newest_first = [
        "the report, quarterly as always",
        "Quarterly REPORT is ready",
    ];
    assert_eq!(texts(&all), newest_first);
    assert_eq!(all["messages"][1]["id"], first.as_str());
    let (_, general) = alice
        .get("/api/search?q=quarterly+report&channel=general")
        .await;
    assert_eq!(texts(&general), newest_first[1..]);
    let newest = all["messages"][0]["id"].as_str().unwrap();
    let (_, older) = alice
        .get(&format!(
            "/api/search?q=quarterly+report&before={newest}&limit=1"
        ))
        .await;
    assert_eq!(texts(&older), newest_first[1..]);

    for (path, status, code) in [
        ("/api/search?q=", 400, "invalid"),
        ("/api/search?q=%3F%21", 400, "invalid"),
        ("/api/search?q=report&before=yesterday", 400, "invalid"),
        ("/api/search?q=report&limit=0", 400, "invalid"),
        (
            "/api/search?q=report&channel=nowhere",
            404,
            "no_such_channel",
        ),
    ] {
        let (got, body) = alice.get(path).await;
        assert_eq!(
            (got, &body["error"]["code"]),
            (status, &json!(code)),
            "{path}"
        );
    }
    let (status, _) = app.anonymous().get("/api/search?q=report").await;
    assert_eq!(status, 401);
}
