//! Big rooms, embedded: presence told in batches, a join that names only the
//! first members with their count, and the member list paged over HTTP.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{tells_presence, TestApp, Ws, PASSWORD};

/// The names in the JSON list `list`.
fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect()
}

/// Every page of `GET /api/channels/general/members`, `limit` at a time:
/// each page's `(user, role, online)` entries, and the last `online` count.
async fn all_members(
    client: &mut crate::support::Client,
    limit: usize,
) -> (Vec<Vec<(String, String, bool)>>, u64) {
    let mut pages = Vec::new();
    let mut after = String::new();
    loop {
        let (status, body) = client
            .get(&format!(
                "/api/channels/general/members?limit={limit}&after={after}"
            ))
            .await;
        assert_eq!(status, 200, "{body}");
        let page: Vec<_> = body["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["user"].as_str().unwrap().to_owned(),
                    m["role"].as_str().unwrap().to_owned(),
                    m["online"].as_bool().unwrap(),
                )
            })
            .collect();
        assert!(page.len() <= limit, "{body}");
        pages.push(page);
        match body["next"].as_str() {
            Some(next) => after = next.to_owned(),
            None => return (pages, body["online"].as_u64().unwrap()),
        }
    }
}

#[actix_rt::test]
async fn presence_comes_in_batches_and_a_join_names_the_first_members_with_their_count() {
    let env = [
        ("CHAT_JOINED_MEMBERS", "3"),
        ("CHAT_PRESENCE_INTERVAL_MS", "1000"),
    ];
    let app = TestApp::spawn_with_env(&env).await;
    let mut watcher = app.user("watcher").await.ws().await;
    watcher.join("general").await;
    let first = watcher
        .expect("its own arrival", |f| tells_presence(f, "watcher", "join"))
        .await;
    assert_eq!(first["count"], 1, "{first}");

    // Six connect first, then join as fast as they can: within a second.
    let people = ["frank", "Erin", "dave", "carol", "Bob", "alice"];
    let mut sockets: Vec<Ws> = Vec::new();
    for name in people {
        sockets.push(app.user(name).await.ws().await);
    }
    for ws in &mut sockets {
        ws.send(json!({"type": "join", "channel": "general"})).await;
    }
    let mut joined = Vec::new();
    for ws in &mut sockets {
        joined.push(ws.expect("joined", |f| f["type"] == "joined").await);
    }
    // The join the channel took last saw all seven.
    let last = joined
        .iter()
        .max_by_key(|j| j["member_count"].as_u64())
        .unwrap();
    assert_eq!(last["member_count"], 7, "{last}");
    assert_eq!(
        names(&last["members"]),
        vec!["alice", "Bob", "carol"],
        "the first three, by name"
    );
    for j in &joined {
        assert!(j["members"].as_array().unwrap().len() <= 3, "{j}");
    }

    // The watcher hears of all six in one or two frames (a second's batch
    // may straddle the joins), each list cut at three names.
    let mut frames = Vec::new();
    while frames.last().is_none_or(|f: &Value| f["count"] != 7) {
        frames.push(
            watcher
                .expect_within(Duration::from_secs(5), "a presence batch", |f| {
                    f["type"] == "presence"
                })
                .await,
        );
    }
    assert!(
        frames.len() <= 2,
        "six arrivals in at most two frames: {frames:?}"
    );
    let big = frames.iter().find(|f| f["more"] == true);
    let big = big.unwrap_or_else(|| panic!("a batch of over three is cut: {frames:?}"));
    assert_eq!(names(&big["joins"]).len(), 3, "{big}");
    assert!(big.get("user").is_none(), "no single user: {big}");

    // The list, three at a time: everyone once, in name order, online.
    let mut client = app.anonymous();
    assert_eq!(client.login("watcher", PASSWORD).await.0, 200);
    let (pages, online) = all_members(&mut client, 3).await;
    let everyone: Vec<_> = pages.iter().flatten().map(|(u, _, _)| u.clone()).collect();
    assert_eq!(
        everyone,
        vec!["alice", "Bob", "carol", "dave", "Erin", "frank", "watcher"]
    );
    assert!(pages
        .iter()
        .flatten()
        .all(|(_, role, on)| role == "member" && *on));
    assert_eq!(online, 7);

    // One leaves: one frame with that alone, and the list no longer has them.
    drop(sockets.remove(0));
    let gone = watcher
        .expect_within(Duration::from_secs(5), "frank leaves", |f| {
            tells_presence(f, "frank", "leave")
        })
        .await;
    assert_eq!(
        (&gone["user"], &gone["event"], &gone["count"]),
        (&json!("frank"), &json!("leave"), &json!(6)),
        "{gone}"
    );
    let (pages, online) = all_members(&mut client, 100).await;
    assert_eq!(online, 6);
    assert!(!pages[0].iter().any(|(u, _, _)| u == "frank"));
}

#[actix_rt::test]
async fn the_member_list_marks_who_of_a_private_channels_members_is_here() {
    let app = TestApp::spawn().await;
    let mut owner = app.user("olive").await;
    let (status, _) = owner
        .post("/api/channels", json!({"name": "board", "private": true}))
        .await;
    assert_eq!(status, 201);
    app.user("pat").await;
    let (status, body) = owner
        .post("/api/channels/board/members", json!({"user": "pat"}))
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let mut ws = owner.ws().await;
    ws.join("board").await;
    let (status, body) = owner.get("/api/channels/board/members").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"members": [
            {"user": "olive", "role": "owner", "online": true},
            {"user": "pat", "role": "member", "online": false}
        ], "next": null, "online": 1})
    );
}
