//! One behaviour suite, run against both stores: SQLite and PostgreSQL.

// Tests may unwrap (clippy.toml); that setting covers test functions only,
// and here their helpers unwrap too.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chat_shared::change::Change;
use chat_shared::message::{Kind, Message};
use chat_shared::names::{ChannelName, MessageText, Username};
use chat_shared::store::{
    HistoryQuery, Kind as RoomKind, LoginSession, PgStore, Role, SearchQuery, SqliteStore, Store,
    StoreError,
};

fn name(s: &str) -> Username {
    Username::parse(s).unwrap()
}

fn channel(s: &str) -> ChannelName {
    ChannelName::parse(s).unwrap()
}

fn msg(ch: &str, text: &str) -> Message {
    Message::new(
        channel(ch),
        "alice",
        MessageText::parse(text).unwrap(),
        false,
    )
}

async fn suite(store: Arc<dyn Store>) {
    let store = &*store;
    accounts(store).await;
    channels(store).await;
    let batch = message_batches(store).await;
    history_pages(store, &batch).await;
    text_survives_byte_for_byte(store).await;
    operator_and_system_posts_keep_their_kind(store).await;
    replies_keep_their_original_and_one_message_is_found_by_id(store).await;
    an_edit_replaces_the_mentions_with_its_own(store).await;
    search_finds_whole_words_in_any_order_newest_first(store).await;
    login_sessions(store).await;
    retried_sends_are_stored_once(store).await;
    private_channels_show_only_to_their_members(store).await;
    a_direct_conversation_is_one_from_either_side(store).await;
    bans_hold_until_lifted_and_the_picker_matches_prefixes(store).await;
    store.ping().await.unwrap();
}

async fn accounts(store: &dyn Store) {
    store.create_user(&name("Alice"), "hash-a").await.unwrap();
    assert!(matches!(
        store.create_user(&name("aLiCe"), "hash-b").await,
        Err(StoreError::Conflict)
    ));
    let found = store.user(&name("ALICE")).await.unwrap().unwrap();
    assert_eq!(
        (found.username.as_str(), found.password_hash.as_str()),
        ("Alice", "hash-a")
    );
    assert!(store.user(&name("nobody")).await.unwrap().is_none());
}

/// The names of a page of channels.
async fn channel_page(store: &dyn Store, after: Option<&str>, limit: u32) -> Vec<String> {
    let after = after.map(channel);
    store
        .channels("alice", after.as_ref(), limit)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.channel.name.to_string())
        .collect()
}

async fn channels(store: &dyn Store) {
    assert_eq!(
        channel_page(store, None, 100).await,
        vec!["general"],
        "general always exists"
    );
    let created = store
        .create_channel(&channel("random"), "Alice", RoomKind::Public)
        .await
        .unwrap();
    assert_eq!(created.created_by, "Alice");
    assert!(matches!(
        store
            .create_channel(&channel("random"), "x", RoomKind::Public)
            .await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.channel(&channel("random")).await.unwrap(),
        Some(created)
    );
    assert!(store.channel(&channel("missing")).await.unwrap().is_none());
    for name in ["alpha", "zeta"] {
        store
            .create_channel(&channel(name), "Alice", RoomKind::Public)
            .await
            .unwrap();
    }
    assert_eq!(channel_page(store, None, 2).await, ["alpha", "general"]);
    assert_eq!(
        channel_page(store, Some("general"), 2).await,
        ["random", "zeta"]
    );
    assert!(channel_page(store, Some("zeta"), 2).await.is_empty());
}

/// Stores 120 messages in #general, in overlapping batches, and one in
/// #random; returns the 120.
async fn message_batches(store: &dyn Store) -> Vec<Message> {
    let batch: Vec<Message> = (0..120).map(|i| msg("general", &format!("m{i}"))).collect();
    assert_eq!(store.insert_messages(&batch[..70]).await.unwrap(), 70);
    assert_eq!(
        store.insert_messages(&batch[60..]).await.unwrap(),
        50,
        "already stored ids are skipped"
    );
    assert_eq!(store.insert_messages(&batch).await.unwrap(), 0);
    store
        .insert_messages(&[msg("random", "elsewhere")])
        .await
        .unwrap();
    batch
}

/// Pages through `batch`, the messages of #general, oldest first.
async fn history_pages(store: &dyn Store, batch: &[Message]) {
    let latest = store
        .messages(&channel("general"), &HistoryQuery::latest(50))
        .await
        .unwrap();
    assert_eq!(
        latest,
        batch[70..].to_vec(),
        "the last 50, oldest first, exactly as sent"
    );
    let before = HistoryQuery {
        before: Some(batch[70].id.clone()),
        since: None,
        limit: 5,
    };
    assert_eq!(
        store.messages(&channel("general"), &before).await.unwrap(),
        batch[65..70].to_vec()
    );
    let since = HistoryQuery {
        before: None,
        since: Some(batch[100].id.clone()),
        limit: 1000,
    };
    assert_eq!(
        store.messages(&channel("general"), &since).await.unwrap(),
        batch[101..].to_vec()
    );
    let since_page = HistoryQuery {
        before: None,
        since: Some(batch[0].id.clone()),
        limit: 3,
    };
    assert_eq!(
        store
            .messages(&channel("general"), &since_page)
            .await
            .unwrap(),
        batch[1..4].to_vec(),
        "since pages forward"
    );
    other_channels(store).await;
}

async fn other_channels(store: &dyn Store) {
    let other = store
        .messages(&channel("random"), &HistoryQuery::latest(50))
        .await
        .unwrap();
    assert_eq!(other.len(), 1);
    assert!(store
        .messages(&channel("missing"), &HistoryQuery::latest(50))
        .await
        .unwrap()
        .is_empty());
}

async fn text_survives_byte_for_byte(store: &dyn Store) {
    let odd = msg(
        "general",
        "<img src=x onerror=alert(1)> 'quotes' \"dq\" ü 🚀\nline two",
    );
    store
        .insert_messages(std::slice::from_ref(&odd))
        .await
        .unwrap();
    let back = store
        .messages(&channel("general"), &HistoryQuery::latest(1))
        .await
        .unwrap();
    assert_eq!(back, vec![odd]);
}

async fn operator_and_system_posts_keep_their_kind(store: &dyn Store) {
    let marked: Vec<Message> = [Some(Kind::Operator), Some(Kind::System), None]
        .into_iter()
        .map(|kind| Message {
            bot: true,
            kind,
            ..msg("general", "not a person")
        })
        .collect();
    store.insert_messages(&marked).await.unwrap();
    let back = store
        .messages(&channel("general"), &HistoryQuery::latest(3))
        .await
        .unwrap();
    assert_eq!(back, marked);
}

async fn replies_keep_their_original_and_one_message_is_found_by_id(store: &dyn Store) {
    let original = msg("general", "lunch at noon?");
    let reply = Message {
        reply_to: Some(original.id.clone()),
        ..msg("general", "yes")
    };
    store
        .insert_messages(&[original.clone(), reply.clone()])
        .await
        .unwrap();
    let back = store
        .messages(&channel("general"), &HistoryQuery::latest(2))
        .await
        .unwrap();
    assert_eq!(back, [original.clone(), reply.clone()]);
    let found = store.message(&channel("general"), &reply.id).await.unwrap();
    assert_eq!(found, Some(reply));
    let elsewhere = store.message(&channel("random"), &original.id).await;
    assert_eq!(elsewhere.unwrap(), None, "only in its own channel");
}

async fn an_edit_replaces_the_mentions_with_its_own(store: &dyn Store) {
    let original = Message {
        mentions: vec!["bob".into()],
        ..msg("mentions", "@bob lunch?")
    };
    store
        .insert_messages(std::slice::from_ref(&original))
        .await
        .unwrap();
    let edit = |text: &str, mentions: &[&str], ms: i64| Change::Edited {
        channel: channel("mentions"),
        id: original.id.clone(),
        text: MessageText::parse(text).unwrap(),
        edited_at: chrono::DateTime::from_timestamp_millis(original.ts.timestamp_millis() + ms)
            .unwrap(),
        by: "alice".into(),
        mentions: mentions.iter().map(|m| (*m).to_owned()).collect(),
    };
    let stored = || async {
        let m = store.message(&channel("mentions"), &original.id).await;
        m.unwrap().expect("still stored").mentions
    };
    let later = edit("@carol @dave lunch?", &["carol", "dave"], 2_000);
    let earlier = edit("@erin lunch?", &["erin"], 1_000);
    assert_eq!(
        store.apply_changes(&[later, earlier]).await.unwrap(),
        [true, true]
    );
    assert_eq!(
        stored().await,
        ["carol", "dave"],
        "the later edit's, whatever the order"
    );
    let changes = store
        .changes_since(&channel("mentions"), &original.id, 0, 10)
        .await
        .unwrap();
    assert!(
        matches!(&changes[..], [Change::Edited { mentions, .. }] if mentions == &["carol", "dave"]),
        "a catch-up's edit names them too: {changes:?}"
    );
    let none = edit("lunch?", &[], 3_000);
    store.apply_changes(&[none]).await.unwrap();
    assert!(
        stored().await.is_empty(),
        "an edit that names no one clears them"
    );
}

async fn search_finds_whole_words_in_any_order_newest_first(store: &dyn Store) {
    let found = |q: &str, channels: Option<&[&str]>, before: Option<&Message>, limit: u32| {
        let query = SearchQuery {
            words: SearchQuery::words(q),
            channels: channels.map(|cs| cs.iter().map(|c| channel(c)).collect()),
            before: before.map(|m| m.id.clone()),
            limit,
            reader: "alice".into(),
        };
        async move {
            let got = store.search(&query).await.unwrap();
            got.into_iter()
                .map(|m| m.text.to_string())
                .collect::<Vec<_>>()
        }
    };
    let ms = [
        msg("general", "Quarterly REPORT is ready"),
        msg("general", "the report, quarterly as always"),
        msg("general", "reporting quarterly numbers"),
        msg("general", "quarterly only"),
        msg("random", "quarterly report from random"),
    ];
    store.insert_messages(&ms).await.unwrap();
    let all = [
        "quarterly report from random",
        "the report, quarterly as always",
        "Quarterly REPORT is ready",
    ];
    assert_eq!(found("quarterly report", None, None, 20).await, all);
    assert_eq!(
        found("REPORT, Quarterly!", None, None, 20).await,
        all,
        "any order and case"
    );
    let general = Some(&["general"][..]);
    assert_eq!(found("quarterly report", general, None, 20).await, all[1..]);
    let both = Some(&["general", "random"][..]);
    assert_eq!(found("quarterly report", both, None, 20).await, all);
    assert_eq!(
        found("quarterly report", None, Some(&ms[1]), 20).await,
        all[2..],
        "paging"
    );
    assert_eq!(found("quarterly report", None, None, 1).await, all[..1]);
    assert!(
        found("quarter", None, None, 20).await.is_empty(),
        "whole words only"
    );
    assert!(
        found("?!", None, None, 20).await.is_empty(),
        "no words, nothing"
    );
}

async fn login_sessions(store: &dyn Store) {
    let now = chrono::Utc::now().timestamp_millis();
    let session = |id: &str, user: &str, expires_at| LoginSession {
        session_id: id.to_owned(),
        username: user.to_owned(),
        created_at: now,
        expires_at,
    };
    assert_eq!(store.live_session("sid-1").await.unwrap(), None);
    let live = session("sid-1", "Alice", now + 60_000);
    store.create_session(&live).await.unwrap();
    store
        .create_session(&session("sid-2", "Alice", now + 60_000))
        .await
        .unwrap();
    store
        .create_session(&session("sid-3", "Alice", now + 60_000))
        .await
        .unwrap();
    store
        .create_session(&session("sid-b", "Bob", now + 60_000))
        .await
        .unwrap();
    store
        .create_session(&session("sid-old", "Alice", now - 1))
        .await
        .unwrap();
    assert_eq!(store.live_session("sid-1").await.unwrap(), Some(live));
    assert_eq!(
        store.live_session("sid-old").await.unwrap(),
        None,
        "an expired session is not live"
    );
    store.end_session("sid-2").await.unwrap();
    assert_eq!(store.live_session("sid-2").await.unwrap(), None);
    let ended = store
        .end_sessions_of(&name("Alice"), Some("sid-1"))
        .await
        .unwrap();
    assert!(ended.contains(&"sid-3".to_owned()) && !ended.contains(&"sid-1".to_owned()));
    assert_eq!(store.live_session("sid-3").await.unwrap(), None);
    assert!(store.live_session("sid-1").await.unwrap().is_some(), "kept");
    assert!(
        store.live_session("sid-b").await.unwrap().is_some(),
        "other users keep theirs"
    );
    let ended = store.end_sessions_of(&name("Alice"), None).await.unwrap();
    assert!(ended.contains(&"sid-1".to_owned()));
    assert_eq!(store.live_session("sid-1").await.unwrap(), None);
}

async fn retried_sends_are_stored_once(store: &dyn Store) {
    let (first, second) = (msg("dedupe", "first"), msg("dedupe", "second"));
    let stored = store
        .insert_deduped(&[
            (first.clone(), "alice/r-1".to_owned()),
            (second.clone(), "alice/r-2".to_owned()),
        ])
        .await
        .unwrap();
    assert_eq!(stored, vec![None, None]);
    let retry = msg("dedupe", "first");
    assert_ne!(
        retry.id, first.id,
        "a retry on another server gets another id"
    );
    let again = store
        .insert_deduped(&[
            (retry, "alice/r-1".to_owned()),
            (first.clone(), "alice/r-3".to_owned()),
        ])
        .await
        .unwrap();
    assert_eq!(
        again,
        vec![Some(first.clone()), Some(first.clone())],
        "a key or an id stored before names the earlier message"
    );
    let history = store
        .messages(&channel("dedupe"), &HistoryQuery::latest(10))
        .await
        .unwrap();
    assert_eq!(history, vec![first, second], "each once");
}

#[tokio::test]
async fn sqlite_store_behaves_as_specified() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("chat.db")).unwrap();
    suite(Arc::new(store)).await;
}

#[tokio::test]
async fn sqlite_store_keeps_data_across_reopen_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.db");
    let m = msg("general", "persisted");
    SqliteStore::open(&path)
        .unwrap()
        .insert_messages(std::slice::from_ref(&m))
        .await
        .unwrap();
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(
        reopened
            .messages(&channel("general"), &HistoryQuery::latest(10))
            .await
            .unwrap(),
        vec![m]
    );
    assert_eq!(
        reopened.channels("alice", None, 100).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn postgres_store_behaves_as_specified() {
    let Some(url) = chat_shared::testing::fresh_pg_database("chat_store").await else {
        return;
    };
    let store = PgStore::connect(&url, 4).await.unwrap();
    suite(Arc::new(store)).await;
    // connecting again finds the schema in place
    let again = PgStore::connect(&url, 2).await.unwrap();
    assert_eq!(again.channels("alice", None, 100).await.unwrap().len(), 6);
}

#[tokio::test]
async fn postgres_migrations_are_safe_when_processes_start_together() {
    let Some(url) = chat_shared::testing::fresh_pg_database("chat_migrate").await else {
        return;
    };
    let starts = (0..4).map(|_| PgStore::connect(&url, 1));
    for result in futures::future::join_all(starts).await {
        let store = result.expect("every process starts");
        assert_eq!(store.channels("alice", None, 100).await.unwrap().len(), 1);
    }
}

/// What `reader` lists: each channel's name and their role there.
async fn listed(store: &dyn Store, reader: &str) -> Vec<(String, Option<Role>)> {
    let page = store.channels(reader, None, 100).await.unwrap();
    page.into_iter()
        .map(|l| (l.channel.name.to_string(), l.role))
        .collect()
}

async fn private_channels_show_only_to_their_members(store: &dyn Store) {
    for who in ["bob", "carol", "a_b"] {
        store.create_user(&name(who), "hash").await.unwrap();
    }
    let secret = channel("secret");
    let made = store
        .create_channel(&secret, "Alice", RoomKind::Private)
        .await
        .unwrap();
    assert_eq!(made.kind, RoomKind::Private);
    let alice = store.access(&secret, "alice").await.unwrap().unwrap();
    assert_eq!(
        (alice.role, alice.may_read(), alice.manages()),
        (Some(Role::Owner), true, true)
    );
    let bob = store.access(&secret, "BOB").await.unwrap().unwrap();
    assert!(!bob.may_read(), "a private channel is for its members");
    assert!(listed(store, "alice")
        .await
        .contains(&("secret".into(), Some(Role::Owner))));
    assert!(!listed(store, "bob")
        .await
        .iter()
        .any(|(n, _)| n == "secret"));
    store
        .set_role(&secret, "bob", Role::Member, "alice")
        .await
        .unwrap();
    assert!(store
        .access(&secret, "bob")
        .await
        .unwrap()
        .unwrap()
        .may_read());
    let members = store.members(&secret, "", 10).await.unwrap();
    let members: Vec<_> = members.iter().map(|m| (m.user.as_str(), m.role)).collect();
    assert_eq!(members, [("Alice", Role::Owner), ("bob", Role::Member)]);
    assert_eq!(store.members(&secret, "alice", 10).await.unwrap().len(), 1);
    let among = store
        .among(&secret, &["bob".into(), "carol".into()])
        .await
        .unwrap();
    assert_eq!(
        among.readers(RoomKind::Private, &["bob".into(), "carol".into()]),
        ["bob"]
    );
    the_owner_stays_and_members_can_be_removed(store, &secret).await;
}

async fn the_owner_stays_and_members_can_be_removed(store: &dyn Store, secret: &ChannelName) {
    let secret = secret.clone();
    store
        .set_role(&secret, "alice", Role::Member, "bob")
        .await
        .unwrap();
    assert!(!store.remove_member(&secret, "alice").await.unwrap());
    assert_eq!(
        store.access(&secret, "alice").await.unwrap().unwrap().role,
        Some(Role::Owner)
    );
    assert!(store.remove_member(&secret, "bob").await.unwrap());
    assert!(!store
        .access(&secret, "bob")
        .await
        .unwrap()
        .unwrap()
        .may_read());
}

async fn a_direct_conversation_is_one_from_either_side(store: &dyn Store) {
    let (a, b) = (name("alice"), name("bob"));
    let dm = ChannelName::dm(&a, &b);
    let (opened, new) = store.open_dm(&dm, "alice", "bob").await.unwrap();
    assert!(new);
    assert_eq!(opened.kind, RoomKind::Dm);
    let (again, new) = store.open_dm(&dm, "bob", "alice").await.unwrap();
    assert!(!new, "the same conversation from either side");
    assert_eq!(again, opened);
    assert!(listed(store, "bob")
        .await
        .contains(&(dm.to_string(), Some(Role::Member))));
    assert!(!listed(store, "carol")
        .await
        .iter()
        .any(|(n, _)| *n == dm.to_string()));
    let dm_access = store.access(&dm, "alice").await.unwrap().unwrap();
    assert!(
        dm_access.may_read() && !dm_access.manages(),
        "nobody runs a DM"
    );
}

async fn bans_hold_until_lifted_and_the_picker_matches_prefixes(store: &dyn Store) {
    let random = channel("random");
    assert!(listed(store, "carol")
        .await
        .iter()
        .any(|(n, _)| n == "random"));
    store.ban(&random, "carol", "alice").await.unwrap();
    let carol = store.access(&random, "carol").await.unwrap().unwrap();
    assert!(carol.banned && !carol.may_read());
    assert!(!listed(store, "carol")
        .await
        .iter()
        .any(|(n, _)| n == "random"));
    let bans = store.bans(&random).await.unwrap();
    assert_eq!(
        (bans[0].user.as_str(), bans[0].by.as_str()),
        ("carol", "alice")
    );
    assert!(store.unban(&random, "carol").await.unwrap());
    assert!(!store.unban(&random, "carol").await.unwrap());
    assert!(store
        .access(&random, "carol")
        .await
        .unwrap()
        .unwrap()
        .may_read());

    assert_eq!(
        store.users_with_prefix("AL", "bob", 10).await.unwrap(),
        ["Alice"]
    );
    assert_eq!(
        store.users_with_prefix("a_", "bob", 10).await.unwrap(),
        ["a_b"]
    );
    assert_eq!(
        store.users_with_prefix("", "alice", 2).await.unwrap(),
        ["a_b", "bob"]
    );
}
