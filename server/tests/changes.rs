//! Edits and deletions in embedded mode: who may make them, what everyone in
//! the channel sees live, what history and search give after, and what is
//! left of a deleted message in the database.

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{pluck, TestApp, Ws};

fn change(kind: &str, channel: &str, id: &str, text: Option<&str>) -> Value {
    let reference = format!("r-{}", chat_shared::message::next_id());
    let mut frame = json!({"type": kind, "channel": channel, "id": id, "ref": reference});
    if let Some(text) = text {
        frame["text"] = json!(text);
    }
    frame
}

async fn expect_change(ws: &mut Ws, kind: &str, id: &str) -> Value {
    ws.expect(&format!("{kind} {id}"), |f| {
        f["type"] == kind && f["id"] == id
    })
    .await
}

/// The stored row of message `id`: (text, edited_at, deleted_at), read
/// with SQLite itself rather than through the server.
fn row(app: &TestApp, id: &str) -> String {
    let script = "import sqlite3, sys\n\
                  c = sqlite3.connect(sys.argv[1])\n\
                  print(repr(c.execute('SELECT text, edited_at IS NOT NULL, deleted_at IS NOT NULL FROM messages WHERE id = ?', (sys.argv[2],)).fetchone()))\n";
    let out = Command::new("python3")
        .args(["-c", script, app.database_path().to_str().unwrap(), id])
        .output()
        .expect("python3 runs");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[actix_rt::test]
async fn an_author_edits_and_deletes_live_for_everyone_and_the_words_are_gone_from_the_database() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let mut bob = app.user("bob").await;
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    a.join("general").await;
    b.join("general").await;
    let id = a.say("general", "meet at the harbour gate").await;
    b.expect_message("general", "meet at the harbour gate")
        .await;

    let ack = a
        .answer(change(
            "edit",
            "general",
            &id,
            Some("meet at the north gate"),
        ))
        .await;
    assert_eq!(
        (ack["type"].as_str(), ack["id"].as_str()),
        (Some("ack"), Some(id.as_str())),
        "{ack}"
    );
    for ws in [&mut a, &mut b] {
        let edited = expect_change(ws, "edited", &id).await;
        assert_eq!(edited["text"], "meet at the north gate");
        assert_eq!(edited["channel"], "general");
        assert!(
            edited["edited_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z')),
            "{edited}"
        );
    }
    let joined = app.user("carol").await.ws().await.join("general").await;
    assert_eq!(joined["history"][0]["text"], "meet at the north gate");
    assert!(joined["history"][0]["edited_at"].is_string(), "{joined}");
    let (_, found) = bob.get("/api/search?q=harbour").await;
    assert_eq!(found["messages"], json!([]), "the old words are not found");
    let (_, found) = bob.get("/api/search?q=north").await;
    assert_eq!(pluck(&found["messages"], "id"), std::slice::from_ref(&id));

    let ack = a.answer(change("delete", "general", &id, None)).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    for ws in [&mut a, &mut b] {
        let deleted = expect_change(ws, "deleted", &id).await;
        assert_eq!(deleted["channel"], "general");
    }
    let joined = app.user("dave").await.ws().await.join("general").await;
    let tombstone = &joined["history"][0];
    assert_eq!(
        (tombstone["deleted"].as_bool(), tombstone["text"].as_str()),
        (Some(true), Some(""))
    );
    assert_eq!(row(&app, &id), "('', 1, 1)", "the row keeps no words");
    let (_, found) = bob.get("/api/search?q=north").await;
    assert_eq!(
        found["messages"],
        json!([]),
        "a deleted message is never found"
    );
    let (status, one) = bob
        .get(&format!("/api/channels/general/messages/{id}"))
        .await;
    assert_eq!((status, &one["message"]["deleted"]), (200, &json!(true)));

    // Gone is gone: no edit, no second deletion.
    let refused = a.answer(change("edit", "general", &id, Some("back"))).await;
    assert_eq!(refused["code"], "no_such_message", "{refused}");
    let refused = a.answer(change("delete", "general", &id, None)).await;
    assert_eq!(refused["code"], "no_such_message", "{refused}");
}

#[actix_rt::test]
async fn someone_elses_message_is_forbidden_unless_one_owns_the_channel_and_bad_changes_get_clear_errors(
) {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    let (status, _) = alice.create_channel("team").await;
    assert_eq!(status, 201);
    let bob = app.user("bob").await;
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    for ws in [&mut a, &mut b] {
        ws.join("general").await;
        ws.join("team").await;
    }
    let alices = a.say("general", "alice's words").await;
    let bobs = b.say("team", "bob's words").await;

    let refused = b
        .answer(change("edit", "general", &alices, Some("mine now")))
        .await;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    let refused = b.answer(change("delete", "general", &alices, None)).await;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    // alice owns #team: she may delete bob's message there, not edit it.
    let refused = a
        .answer(change("edit", "team", &bobs, Some("hers now")))
        .await;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    let ack = a.answer(change("delete", "team", &bobs, None)).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    expect_change(&mut b, "deleted", &bobs).await;

    let unknown = chat_shared::message::next_id().to_string();
    let cases = [
        (
            change("edit", "general", &unknown, Some("x")),
            "no_such_message",
        ),
        (
            change("delete", "general", &unknown, None),
            "no_such_message",
        ),
        (
            change("edit", "team", &alices, Some("x")),
            "no_such_message",
        ),
        (
            change("edit", "general", "yesterday", Some("x")),
            "invalid_frame",
        ),
        (change("edit", "general", &alices, Some("   ")), "empty"),
        (
            change("edit", "general", &alices, Some(&"x".repeat(2001))),
            "too_long",
        ),
        (change("edit", "random", &alices, Some("x")), "not_joined"),
        (
            change("edit", "Bad Name", &alices, Some("x")),
            "invalid_channel",
        ),
    ];
    for (frame, code) in cases {
        let refused = a.answer(frame.clone()).await;
        assert_eq!(refused["code"], code, "{frame} -> {refused}");
    }
    b.drain(Duration::from_millis(300)).await;
    let frames = b.drain(Duration::from_millis(300)).await;
    assert!(
        frames.iter().all(|f| f["type"] != "edited"),
        "nothing refused was shown: {frames:?}"
    );

    // The connection stays, and nothing else changed.
    a.say("general", "still here").await;
    let joined = app.user("carol").await.ws().await.join("general").await;
    assert_eq!(
        pluck(&joined["history"], "text"),
        ["alice's words", "still here"]
    );
    assert!(joined["history"][0].get("edited_at").is_none(), "{joined}");
}

fn react(id: &str, emoji: &str, on: bool) -> Value {
    let reference = format!("r-{}", chat_shared::message::next_id());
    json!({"type": "react", "channel": "general", "id": id, "emoji": emoji, "on": on, "ref": reference})
}

#[actix_rt::test]
async fn reactions_from_the_list_toggle_live_and_history_counts_who_reacted() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    let (status, list) = alice.get("/api/emoji").await;
    let emoji = list["emoji"].as_array().unwrap();
    assert_eq!((status, emoji.len()), (200, 16), "{list}");
    assert!(emoji.contains(&json!("👍")) && emoji.contains(&json!("🎉")));
    let bob = app.user("bob").await;
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    a.join("general").await;
    b.join("general").await;
    let id = a.say("general", "shipped!").await;

    let ack = b.answer(react(&id, "👍", true)).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    for emoji in ["👍", "🎉"] {
        let ack = a.answer(react(&id, emoji, true)).await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
    let seen = a
        .expect("alice's 🎉", |f| {
            f["type"] == "reaction" && f["emoji"] == "🎉"
        })
        .await;
    assert_eq!(
        (
            seen["user"].as_str(),
            seen["on"].as_bool(),
            seen["id"].as_str()
        ),
        (Some("alice"), Some(true), Some(id.as_str()))
    );
    let joined = app.user("carol").await.ws().await.join("general").await;
    assert_eq!(
        joined["history"][0]["reactions"],
        json!({"👍": ["bob", "alice"], "🎉": ["alice"]})
    );

    let ack = b.answer(react(&id, "👍", false)).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let off = a
        .expect("bob's 👍 taken back", |f| {
            f["type"] == "reaction" && f["user"] == "bob" && f["on"] == false
        })
        .await;
    assert_eq!(off["emoji"], "👍");
    // Taking back twice changes nothing more.
    b.answer(react(&id, "👍", false)).await;
    let (_, one) = alice
        .get(&format!("/api/channels/general/messages/{id}"))
        .await;
    assert_eq!(
        one["message"]["reactions"],
        json!({"👍": ["alice"], "🎉": ["alice"]})
    );

    let unknown = chat_shared::message::next_id().to_string();
    for (frame, code) in [
        (react(&id, "💩", true), "unknown_emoji"),
        (react(&id, "thumbsup", true), "unknown_emoji"),
        (react(&unknown, "👍", true), "no_such_message"),
        (
            json!({"type": "react", "channel": "random", "id": id, "emoji": "👍", "on": true, "ref": "r-not-joined-1"}),
            "not_joined",
        ),
    ] {
        let refused = b.answer(frame.clone()).await;
        assert_eq!(refused["code"], code, "{frame} -> {refused}");
    }
    // Without `on` the frame is not valid (and has no ref to answer).
    b.send(json!({"type": "react", "channel": "general", "id": id, "emoji": "👍"}))
        .await;
    b.expect_error("invalid_frame").await;
    // A deleted message takes its reactions with it and takes no more.
    a.answer(change("delete", "general", &id, None)).await;
    let refused = b.answer(react(&id, "👍", true)).await;
    assert_eq!(refused["code"], "no_such_message", "{refused}");
    let joined = app.user("dave").await.ws().await.join("general").await;
    assert!(joined["history"][0].get("reactions").is_none(), "{joined}");
    b.say("general", "the connection stays").await;
}

#[actix_rt::test]
async fn an_edit_that_names_someone_new_tells_them_once_and_the_counts_follow_the_text() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let mut bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let (mut a, mut b, mut c) = (alice.ws().await, bob.ws().await, carol.ws().await);
    a.join("general").await;
    b.join("general").await;
    // carol has joined nothing: she hears of mentions all the same.
    let first = a.say("general", "morning").await;
    b.send(json!({"type": "read", "channel": "general", "id": first}))
        .await;
    let id = a.say("general", "can someone look at this?").await;
    b.expect_message("general", "can someone look at this?")
        .await;

    let text = "@Bob can you look? cc @carol @nobody";
    let ack = a.answer(change("edit", "general", &id, Some(text))).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let edited = expect_change(&mut b, "edited", &id).await;
    assert_eq!(edited["mentions"], json!(["bob", "carol"]), "{edited}");
    for (who, ws) in [("bob", &mut b), ("carol", &mut c)] {
        let told = ws
            .expect(&format!("{who}'s mention"), |f| f["type"] == "mention")
            .await;
        let m = &told["message"];
        assert_eq!(
            (m["id"].as_str(), m["text"].as_str()),
            (Some(id.as_str()), Some(text))
        );
        assert!(m["edited_at"].is_string(), "as edited: {told}");
    }
    let counts = |list: &Value| {
        let general = &list["channels"][0];
        (general["unread"].as_u64(), general["mentions"].as_u64())
    };
    let (_, list) = bob.get("/api/channels").await;
    assert_eq!(counts(&list), (Some(1), Some(1)), "{list}");

    // Still naming them: nobody is told again.
    let again = "@bob can you look? cc @carol, thanks";
    a.answer(change("edit", "general", &id, Some(again))).await;
    expect_change(&mut b, "edited", &id).await;
    for ws in [&mut b, &mut c] {
        let frames = ws.drain(Duration::from_millis(400)).await;
        assert!(
            frames.iter().all(|f| f["type"] != "mention"),
            "told twice: {frames:?}"
        );
    }

    // Naming no one: the counts and the history follow the text.
    a.answer(change("edit", "general", &id, Some("can you look?")))
        .await;
    let edited = expect_change(&mut b, "edited", &id).await;
    assert_eq!(edited["mentions"], json!([]), "{edited}");
    let (_, list) = bob.get("/api/channels").await;
    assert_eq!(counts(&list), (Some(1), Some(0)), "{list}");
    let joined = app.user("dave").await.ws().await.join("general").await;
    let last = &joined["history"][1];
    assert_eq!(last["text"], "can you look?", "{joined}");
    assert!(
        last["mentions"].is_null(),
        "a message naming no one has no mentions: {last}"
    );
}

#[actix_rt::test]
async fn a_client_catching_up_sees_every_change_it_missed_as_a_fresh_join_does() {
    let app = TestApp::spawn().await;
    let mut a = app.user("alice").await.ws().await;
    a.join("general").await;
    let (bob, dave) = (app.user("bob").await, app.user("dave").await);
    crate::support::view::catch_up_equals_fresh_join(&mut a, &bob, &dave, "general").await;
}

#[actix_rt::test]
async fn read_markers_count_unread_and_mentions_and_reach_the_readers_other_connections() {
    let app = TestApp::spawn().await;
    let mut bob = app.user("bob").await;
    let alice = app.user("alice").await;
    let (mut a, mut laptop, mut phone) = (alice.ws().await, bob.ws().await, bob.ws().await);
    for ws in [&mut a, &mut laptop, &mut phone] {
        ws.join("general").await;
    }
    let first = a.say("general", "morning all").await;
    let (_, list) = bob.get("/api/channels").await;
    let general = &list["channels"][0];
    assert_eq!(
        (general["unread"].as_u64(), general["last_read"].is_null()),
        (Some(0), true),
        "nothing tracked before a first read: {list}"
    );

    laptop
        .send(json!({"type": "read", "channel": "general", "id": first}))
        .await;
    let told = phone
        .expect("the read marker", |f| f["type"] == "read")
        .await;
    assert_eq!(
        (told["channel"].as_str(), told["id"].as_str()),
        (Some("general"), Some(first.as_str()))
    );
    let frames = laptop.drain(Duration::from_millis(300)).await;
    assert!(
        frames.iter().all(|f| f["type"] != "read"),
        "not echoed to the reader: {frames:?}"
    );

    let mention = a.say("general", "@Bob can you look? cc @nobody").await;
    let m = laptop
        .expect_message("general", "@Bob can you look? cc @nobody")
        .await;
    assert_eq!(
        m["mentions"],
        json!(["bob"]),
        "only existing users, lower case"
    );
    a.say("general", "thanks").await;
    let bobs = laptop.say("general", "my own words are never unread").await;
    let (_, list) = bob.get("/api/channels").await;
    let general = &list["channels"][0];
    assert_eq!(
        (general["unread"].as_u64(), general["mentions"].as_u64()),
        (Some(2), Some(1)),
        "{list}"
    );
    assert_eq!(general["last_read"], first.as_str());

    // Reading never goes back, and reading to the end clears both counts.
    laptop
        .send(json!({"type": "read", "channel": "general", "id": bobs}))
        .await;
    phone
        .expect("the second read marker", |f| {
            f["type"] == "read" && f["id"] == bobs.as_str()
        })
        .await;
    phone
        .send(json!({"type": "read", "channel": "general", "id": mention}))
        .await;
    let frames = laptop.drain(Duration::from_millis(300)).await;
    assert!(
        frames.iter().all(|f| f["type"] != "read"),
        "an older marker changes nothing: {frames:?}"
    );
    let (_, list) = bob.get("/api/channels").await;
    let general = &list["channels"][0];
    assert_eq!(
        (general["unread"].as_u64(), general["mentions"].as_u64()),
        (Some(0), Some(0)),
        "{list}"
    );
    assert_eq!(general["last_read"], bobs.as_str());

    for (frame, code) in [
        (
            json!({"type": "read", "channel": "random", "id": first}),
            "not_joined",
        ),
        (
            json!({"type": "read", "channel": "general", "id": "latest"}),
            "invalid_frame",
        ),
    ] {
        laptop.send(frame).await;
        laptop.expect_error(code).await;
    }
    laptop.say("general", "still connected").await;
}
