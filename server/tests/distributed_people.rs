//! People and rooms across servers (real processes: two chat servers, NATS,
//! an archiver, PostgreSQL): a stranger learns nothing of a private channel
//! or a DM on either server, a removal takes every socket of the removed
//! person out at once on both, and what is addressed to a person (a DM
//! opened, a mention) reaches them on whichever server they are.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::cluster::{Cluster, Shape};
use crate::support::rooms::stranger_learns_nothing;
use crate::support::Client;

async fn cluster() -> Option<Cluster> {
    Cluster::start(Shape {
        nats_nodes: 1,
        servers: 2,
        archivers: 1,
        ..Shape::default()
    })
    .await
}

/// Waits until `client`'s search for `word` finds something (so the
/// message is archived, and a search that does not show it hides it).
async fn archived(client: &mut Client, word: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, found) = client.get(&format!("/api/search?q={word}")).await;
        if found["messages"].as_array().is_some_and(|m| !m.is_empty()) {
            return;
        }
        assert!(Instant::now() < deadline, "{word} was never archived");
        actix_rt::time::sleep(Duration::from_millis(200)).await;
    }
}

#[actix_rt::test]
async fn a_stranger_on_either_server_learns_nothing_of_a_private_channel_or_a_dm() {
    let Some(cluster) = cluster().await else {
        return;
    };
    let mut alice = cluster.user(0, "alice").await;
    let bob = cluster.user(1, "bob").await;
    let carol = cluster.user(1, "carol").await;
    let mut a = alice.ws().await;
    let mut b = bob.ws().await;

    let (status, _) = alice
        .post("/api/channels", json!({"name": "board", "private": true}))
        .await;
    assert_eq!(status, 201);
    let (status, dm) = alice.post("/api/dms", json!({"user": "bob"})).await;
    assert_eq!(status, 201, "{dm}");
    let told = b
        .expect("dm on another server", |f| f["type"] == "dm")
        .await;
    assert_eq!(told["channel"]["peer"], "alice");

    a.join("board").await;
    a.join("dm~alice~bob").await;
    let in_board = a.say("board", "merger with pelican corp").await;
    let in_dm = a.say("dm~alice~bob", "the walrus code is 7").await;
    archived(&mut alice, "pelican").await;
    archived(&mut alice, "walrus").await;

    for server in 0..2 {
        let mut stranger = carol.on(&cluster.servers[server].addr);
        let mut ws = stranger.ws().await;
        stranger_learns_nothing(&mut stranger, &mut ws, "board", &in_board, "pelican").await;
        stranger_learns_nothing(&mut stranger, &mut ws, "dm~alice~bob", &in_dm, "walrus").await;
    }
    // Nor does naming her in the private channel tell her anything.
    let mut c = carol.ws().await;
    a.say("board", "@carol must not know").await;
    let heard = c.drain(Duration::from_millis(800)).await;
    assert!(
        !heard.iter().any(|f| f.to_string().contains("board")),
        "{heard:?}"
    );
}

#[actix_rt::test]
async fn a_removed_users_sockets_on_both_servers_stop_receiving_within_a_second() {
    let Some(cluster) = cluster().await else {
        return;
    };
    let mut alice = cluster.user(0, "alice").await;
    let carol = cluster.user(1, "carol").await;
    let mut a = alice.ws().await;
    let mut here = carol.on(&cluster.servers[0].addr).ws().await;
    let mut there = carol.ws().await;

    for (name, private) in [("den", true), ("agora", false)] {
        let (status, _) = alice
            .post("/api/channels", json!({"name": name, "private": private}))
            .await;
        assert_eq!(status, 201);
        if private {
            let (status, _) = alice
                .post(
                    &format!("/api/channels/{name}/members"),
                    json!({"user": "carol"}),
                )
                .await;
            assert_eq!(status, 201);
        }
        a.join(name).await;
        for ws in [&mut here, &mut there] {
            ws.join(name).await;
        }
        a.say(name, "before").await;
        for ws in [&mut here, &mut there] {
            ws.expect_message(name, "before").await;
        }

        let removed = Instant::now();
        let path = format!("/api/channels/{name}/members/carol");
        let (status, body) = alice.request("DELETE", &path, None).await;
        assert_eq!(status, 204, "{body}");
        for ws in [&mut here, &mut there] {
            let kicked = ws
                .expect_within(Duration::from_secs(1), "kicked within 1 s", |f| {
                    f["type"] == "kicked" && f["channel"] == name
                })
                .await;
            assert_eq!(kicked["banned"], !private);
        }
        assert!(removed.elapsed() < Duration::from_secs(1));
        a.say(name, "after").await;
        for ws in [&mut here, &mut there] {
            ws.expect_no_message(Duration::from_millis(800), "a removed user still hears")
                .await;
            let refused = ws
                .answer(json!({"type": "send", "channel": name, "text": "hi", "ref": "r-after"}))
                .await;
            let code = if private {
                "no_such_channel"
            } else {
                "forbidden"
            };
            assert_eq!(refused["code"], code, "{refused}");
        }
    }
}

#[actix_rt::test]
async fn a_mention_reaches_the_mentioned_on_another_server_joined_or_not() {
    let Some(cluster) = cluster().await else {
        return;
    };
    let alice = cluster.user(0, "alice").await;
    let bob = cluster.user(1, "bob").await;
    let mut a = alice.ws().await;
    let mut b = bob.ws().await;
    b.join("general").await;
    let id = b.say("general", "@alice the build is green").await;
    let m = a
        .expect("a mention from another server", |f| f["type"] == "mention")
        .await;
    assert_eq!(
        (&m["message"]["id"], &m["message"]["user"]),
        (&json!(id), &json!("bob"))
    );
}
