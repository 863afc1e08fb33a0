//! One behaviour suite, run against both stores: SQLite and PostgreSQL.

// Tests may unwrap (clippy.toml); that setting covers test functions only,
// and here their helpers unwrap too.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chat_shared::message::Message;
use chat_shared::names::{ChannelName, MessageText, Username};
use chat_shared::store::{HistoryQuery, PgStore, SqliteStore, Store, StoreError};

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
    revoked_sessions(store).await;
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
        .channels(after.as_ref(), limit)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name.to_string())
        .collect()
}

async fn channels(store: &dyn Store) {
    assert_eq!(
        channel_page(store, None, 100).await,
        vec!["general"],
        "general always exists"
    );
    let created = store
        .create_channel(&channel("random"), "Alice")
        .await
        .unwrap();
    assert_eq!(created.created_by, "Alice");
    assert!(matches!(
        store.create_channel(&channel("random"), "x").await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.channel(&channel("random")).await.unwrap(),
        Some(created)
    );
    assert!(store.channel(&channel("missing")).await.unwrap().is_none());
    for name in ["alpha", "zeta"] {
        store.create_channel(&channel(name), "Alice").await.unwrap();
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

async fn revoked_sessions(store: &dyn Store) {
    assert!(!store.is_revoked("sid-1").await.unwrap());
    let later = chrono::Utc::now().timestamp_millis() + 60_000;
    store.revoke_session("sid-1", later).await.unwrap();
    store.revoke_session("sid-1", later).await.unwrap();
    assert!(store.is_revoked("sid-1").await.unwrap());
    store.revoke_session("sid-old", 1).await.unwrap();
    store.revoke_session("sid-2", later).await.unwrap();
    assert!(
        !store.is_revoked("sid-old").await.unwrap(),
        "expired entries are swept"
    );
    assert!(!store.is_revoked("sid-3").await.unwrap());
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
    assert_eq!(reopened.channels(None, 100).await.unwrap().len(), 1);
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
    assert_eq!(again.channels(None, 100).await.unwrap().len(), 4);
}

#[tokio::test]
async fn postgres_migrations_are_safe_when_processes_start_together() {
    let Some(url) = chat_shared::testing::fresh_pg_database("chat_migrate").await else {
        return;
    };
    let starts = (0..4).map(|_| PgStore::connect(&url, 1));
    for result in futures::future::join_all(starts).await {
        let store = result.expect("every process starts");
        assert_eq!(store.channels(None, 100).await.unwrap().len(), 1);
    }
}
