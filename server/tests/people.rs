//! People and rooms in embedded mode: direct conversations, private
//! channels, roles, removals and bans, mentions, the people picker, and
//! the clear errors for what may not be done.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::rooms::stranger_learns_nothing;
use crate::support::{pluck, Client, TestApp, Ws};

/// The entry of `name` in `client`'s channel list, if it is there.
async fn listed(client: &mut Client, name: &str) -> Option<Value> {
    let (status, list) = client.get("/api/channels?limit=500").await;
    assert_eq!(status, 200, "{list}");
    list["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
}

async fn expect_frame(ws: &mut Ws, kind: &str) -> Value {
    ws.expect(kind, |f| f["type"] == kind).await
}

#[actix_rt::test]
async fn a_direct_conversation_is_for_its_two_people_and_nobody_else_learns_of_it() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("Alice").await;
    let mut bob = app.user("bob").await;
    let mut carol = app.user("carol").await;
    let (mut a, mut b, mut c) = (alice.ws().await, bob.ws().await, carol.ws().await);
    let mut b2 = bob.ws().await;

    let (status, dm) = alice.post("/api/dms", json!({"user": "BOB"})).await;
    assert_eq!(status, 201, "{dm}");
    assert_eq!(
        (&dm["name"], &dm["kind"], &dm["peer"]),
        (&json!("dm~alice~bob"), &json!("dm"), &json!("bob"))
    );
    // Bob is told on every connection, with Alice as the peer.
    for ws in [&mut b, &mut b2] {
        let told = expect_frame(ws, "dm").await;
        assert_eq!(told["channel"]["name"], "dm~alice~bob");
        assert_eq!(told["channel"]["peer"], "alice");
    }
    let (status, again) = bob.post("/api/dms", json!({"user": "alice"})).await;
    assert_eq!(
        (status, &again["name"]),
        (200, &dm["name"]),
        "one conversation"
    );
    let entry = listed(&mut bob, "dm~alice~bob")
        .await
        .expect("bob lists it");
    assert_eq!(
        (&entry["kind"], &entry["peer"]),
        (&json!("dm"), &json!("alice"))
    );

    a.join("dm~alice~bob").await;
    b.join("dm~alice~bob").await;
    let id = a
        .say("dm~alice~bob", "the quokka password is tangerine")
        .await;
    b.expect_message("dm~alice~bob", "the quokka password is tangerine")
        .await;
    b.say("dm~alice~bob", "got it").await;
    a.expect_message("dm~alice~bob", "got it").await;

    stranger_learns_nothing(&mut carol, &mut c, "dm~alice~bob", &id, "quokka").await;
    // Nobody runs a conversation: no invitations into it, no removals.
    let (status, body) = alice
        .post(
            "/api/channels/dm~alice~bob/members",
            json!({"user": "carol"}),
        )
        .await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));
    let (status, found) = bob.get("/api/search?q=quokka").await;
    assert_eq!((status, pluck(&found["messages"], "id")), (200, vec![id]));
}

#[actix_rt::test]
async fn a_private_channel_is_seen_by_its_members_whom_its_owner_and_moderators_invite() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    let mut bob = app.user("bob").await;
    let mut carol = app.user("carol").await;
    let mut dave = app.user("dave").await;
    let (mut a, mut b, mut c) = (alice.ws().await, bob.ws().await, carol.ws().await);
    let (mut d, mut a2) = (dave.ws().await, alice.ws().await);

    let (status, made) = alice
        .post("/api/channels", json!({"name": "vault", "private": true}))
        .await;
    assert_eq!(status, 201, "{made}");
    // The creator's other devices learn of it; nobody else does.
    let told = expect_frame(&mut a2, "invited").await;
    assert_eq!(
        (&told["channel"]["name"], &told["by"]),
        (&json!("vault"), &json!("alice"))
    );
    assert_eq!(
        (&made["kind"], &made["role"]),
        (&json!("private"), &json!("owner"))
    );
    let announced = b.drain(Duration::from_millis(500)).await;
    assert!(
        !announced.iter().any(|f| f.to_string().contains("vault")),
        "a private channel is announced to others: {announced:?}"
    );
    a.join("vault").await;
    let id = a.say("vault", "the marmot plan").await;
    stranger_learns_nothing(&mut dave, &mut d, "vault", &id, "marmot").await;

    let (status, invited) = alice
        .post("/api/channels/vault/members", json!({"user": "bob"}))
        .await;
    assert_eq!(
        (status, &invited["role"]),
        (201, &json!("member")),
        "{invited}"
    );
    let told = expect_frame(&mut b, "invited").await;
    assert_eq!(
        (
            &told["channel"]["name"],
            &told["channel"]["kind"],
            &told["by"]
        ),
        (&json!("vault"), &json!("private"), &json!("alice"))
    );
    assert_eq!(listed(&mut bob, "vault").await.unwrap()["role"], "member");
    let (status, _) = alice
        .post("/api/channels/vault/members", json!({"user": "bob"}))
        .await;
    assert_eq!(status, 200, "inviting a member again changes nothing");
    let news = b.drain(Duration::from_millis(300)).await;
    assert!(!news.iter().any(|f| f["type"] == "role"), "{news:?}");
    let joined = b.join("vault").await;
    assert_eq!(pluck(&joined["history"], "text"), ["the marmot plan"]);

    // A plain member runs nothing.
    let (status, body) = bob
        .post("/api/channels/vault/members", json!({"user": "carol"}))
        .await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));
    let (status, _) = bob
        .request("DELETE", "/api/channels/vault/members/alice", None)
        .await;
    assert_eq!(status, 403);
    assert!(
        listed(&mut carol, "vault").await.is_none(),
        "nothing changed"
    );

    // A moderator invites; the owner stays out of reach.
    let (status, _) = alice
        .post(
            "/api/channels/vault/members",
            json!({"user": "bob", "role": "moderator"}),
        )
        .await;
    assert_eq!(status, 200);
    let role = expect_frame(&mut b, "role").await;
    assert_eq!(
        (&role["channel"], &role["role"]),
        (&json!("vault"), &json!("moderator"))
    );
    let (status, _) = bob
        .post("/api/channels/vault/members", json!({"user": "carol"}))
        .await;
    assert_eq!(status, 201);
    expect_frame(&mut c, "invited").await;
    let (status, body) = bob
        .request("DELETE", "/api/channels/vault/members/alice", None)
        .await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));
    let (status, body) = bob
        .post(
            "/api/channels/vault/members",
            json!({"user": "alice", "role": "member"}),
        )
        .await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));
    let (_, members) = carol.get("/api/channels/vault/members").await;
    let roles: Vec<(String, String)> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user"].as_str().unwrap().into(),
                m["role"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("alice".into(), "owner".into()),
            ("bob".into(), "moderator".into()),
            ("carol".into(), "member".into())
        ]
    );
    // A moderator deletes anyone's message; a plain member cannot.
    c.join("vault").await;
    let carols = c.say("vault", "oops, wrong room").await;
    let r = json!("r-del-1");
    let refused = a
        .answer(json!({"type": "delete", "channel": "vault", "id": id, "ref": "r-del-0"}))
        .await;
    assert_eq!(
        refused["type"], "ack",
        "the owner deletes her own: {refused}"
    );
    let deleted = b
        .answer(json!({"type": "delete", "channel": "vault", "id": carols, "ref": r}))
        .await;
    assert_eq!(
        deleted["type"], "ack",
        "a moderator deletes anyone's: {deleted}"
    );
    let bobs = b.say("vault", "tidy now").await;
    let refused = c
        .answer(json!({"type": "delete", "channel": "vault", "id": bobs, "ref": "r-del-2"}))
        .await;
    assert_eq!(refused["code"], "forbidden", "{refused}");
}

#[actix_rt::test]
async fn a_removed_member_leaves_at_once_everywhere_and_a_public_ban_holds_until_lifted() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    let mut carol = app.user("carol").await;
    let mut a = alice.ws().await;
    let (mut c1, mut c2) = (carol.ws().await, carol.ws().await);

    alice
        .post("/api/channels", json!({"name": "den", "private": true}))
        .await;
    alice
        .post("/api/channels/den/members", json!({"user": "carol"}))
        .await;
    a.join("den").await;
    for ws in [&mut c1, &mut c2] {
        ws.join("den").await;
    }
    let (status, _) = alice
        .request("DELETE", "/api/channels/den/members/carol", None)
        .await;
    assert_eq!(status, 204);
    for ws in [&mut c1, &mut c2] {
        let kicked = ws
            .expect_within(Duration::from_secs(1), "kicked", |f| f["type"] == "kicked")
            .await;
        assert_eq!(
            (&kicked["channel"], &kicked["by"]),
            (&json!("den"), &json!("alice"))
        );
    }
    a.say("den", "now that she is gone").await;
    c1.expect_no_message(Duration::from_millis(500), "a removed member still hears")
        .await;
    let refused = c1
        .answer(json!({"type": "send", "channel": "den", "text": "hello?", "ref": "r-gone"}))
        .await;
    assert_eq!(refused["code"], "no_such_channel", "{refused}");
    c2.send(json!({"type": "join", "channel": "den"})).await;
    c2.expect_error("no_such_channel").await;
    assert!(listed(&mut carol, "den").await.is_none());
    let (status, body) = alice
        .request("DELETE", "/api/channels/den/members/carol", None)
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("not_a_member"))
    );

    // In a public channel a removal is a ban.
    alice.create_channel("plaza").await;
    a.join("plaza").await;
    c1.join("plaza").await;
    let (status, _) = alice
        .request("DELETE", "/api/channels/plaza/members/carol", None)
        .await;
    assert_eq!(status, 204);
    let kicked = c1.expect("kicked", |f| f["type"] == "kicked").await;
    assert_eq!(kicked["banned"], true);
    let refused = c1
        .answer(json!({"type": "send", "channel": "plaza", "text": "hey", "ref": "r-ban"}))
        .await;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    c1.send(json!({"type": "join", "channel": "plaza"})).await;
    c1.expect_error("forbidden").await;
    assert!(listed(&mut carol, "plaza").await.is_none());
    let (_, bans) = alice.get("/api/channels/plaza/bans").await;
    assert_eq!(pluck(&bans["bans"], "user"), ["carol"]);
    let (status, _) = alice
        .request("DELETE", "/api/channels/plaza/bans/carol", None)
        .await;
    assert_eq!(status, 204);
    c1.join("plaza").await;
    a.say("plaza", "welcome back").await;
    c1.expect_message("plaza", "welcome back").await;
}

#[actix_rt::test]
async fn mentions_reach_every_connection_of_those_who_may_read_and_no_one_else() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let mut bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let (mut a1, mut a2) = (alice.ws().await, alice.ws().await);
    let (mut b, mut c) = (bob.ws().await, carol.ws().await);
    b.join("general").await;
    // Alice is joined nowhere, on either connection.
    b.say("general", "@alice and @carol: standup in 5, @nobody")
        .await;
    for ws in [&mut a1, &mut a2] {
        let m = expect_frame(ws, "mention").await;
        assert_eq!(
            m["message"]["text"],
            "@alice and @carol: standup in 5, @nobody"
        );
        assert_eq!(m["message"]["mentions"], json!(["alice", "carol"]));
    }
    expect_frame(&mut c, "mention").await;
    b.say("general", "and @bob talks to himself").await;
    let own = b.drain(Duration::from_millis(400)).await;
    assert!(!own.iter().any(|f| f["type"] == "mention"), "{own:?}");

    // In a private channel Carol is not in, naming her tells her nothing.
    bob.post("/api/channels", json!({"name": "hush", "private": true}))
        .await;
    bob.post("/api/channels/hush/members", json!({"user": "alice"}))
        .await;
    b.join("hush").await;
    b.say("hush", "@carol must not hear of this, @alice").await;
    let m = expect_frame(&mut a1, "mention").await;
    assert_eq!(m["message"]["channel"], "hush");
    let heard = c.drain(Duration::from_millis(600)).await;
    assert!(
        !heard.iter().any(|f| f.to_string().contains("hush")),
        "a non-member heard of a private channel: {heard:?}"
    );
}

#[actix_rt::test]
async fn the_people_picker_and_bad_requests_get_clear_answers_and_change_nothing() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    for name in ["Albert", "alfie", "bob", "al_x"] {
        app.user(name).await;
    }
    let (status, found) = alice.get("/api/users?prefix=AL").await;
    assert_eq!(status, 200);
    assert_eq!(
        found["users"],
        json!(["al_x", "Albert", "alfie"]),
        "not the caller"
    );
    let (_, found) = alice.get("/api/users?prefix=al_").await;
    assert_eq!(
        found["users"],
        json!(["al_x"]),
        "_ is a letter, not a wildcard"
    );
    let (_, found) = alice.get("/api/users?prefix=a&limit=1").await;
    assert_eq!(found["users"], json!(["al_x"]));
    let (status, _) = alice.get("/api/users?prefix=a%20b").await;
    assert_eq!(status, 400);

    let (status, body) = alice.post("/api/dms", json!({"user": "alice"})).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("invalid")));
    let (status, body) = alice.post("/api/dms", json!({"user": "ghost"})).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("no_such_user"))
    );
    let (status, body) = alice
        .post("/api/channels", json!({"name": "dm~alice~bob"}))
        .await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("invalid")));

    alice
        .post("/api/channels", json!({"name": "club", "private": true}))
        .await;
    let (status, body) = alice
        .post("/api/channels/club/members", json!({"user": "ghost"}))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("no_such_user"))
    );
    let (status, body) = alice
        .post(
            "/api/channels/club/members",
            json!({"user": "bob", "role": "owner"}),
        )
        .await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("invalid")));
    let (status, body) = alice
        .request("DELETE", "/api/channels/club/members/alice", None)
        .await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("invalid")));
    let (_, members) = alice.get("/api/channels/club/members").await;
    assert_eq!(
        pluck(&members["members"], "user"),
        ["alice"],
        "nothing changed"
    );
}
