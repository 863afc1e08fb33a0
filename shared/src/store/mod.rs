//! Persistent state behind one trait: accounts, channels and the message archive.

pub mod pg;
pub mod rows;
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::frames::ChannelInfo;
use crate::message::Message;
use crate::names::{ChannelName, Username};

pub use pg::PgStore;
pub use sqlite::SqliteStore;

/// An account as stored.
#[derive(Debug, Clone)]
pub struct User {
    /// The name as registered (its original case).
    pub username: Username,
    pub password_hash: String,
}

/// A channel as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub name: ChannelName,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl Channel {
    pub fn info(&self) -> ChannelInfo {
        ChannelInfo {
            name: self.name.clone(),
            created_at: self.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        }
    }
}

/// Which slice of a channel's history to read. Results are always oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Only messages with an id below this one (paging back).
    pub before: Option<String>,
    /// Only messages with an id above this one (catching up); the oldest
    /// `limit` of them rather than the newest.
    pub since: Option<String>,
    pub limit: u32,
}

impl HistoryQuery {
    pub fn latest(limit: u32) -> Self {
        Self {
            limit,
            ..Self::default()
        }
    }
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique name is already taken.
    #[error("already exists")]
    Conflict,
    /// The database can't be reached right now.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or corrupt data.
    #[error("database error: {0}")]
    Internal(String),
}

/// Accounts, channels and messages.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Registers a user; `Conflict` if the name is taken in any case.
    async fn create_user(&self, username: &Username, password_hash: &str)
        -> Result<(), StoreError>;

    /// Finds a user by name, case-insensitively.
    async fn user(&self, username: &Username) -> Result<Option<User>, StoreError>;

    /// All channels, by name.
    async fn channels(&self) -> Result<Vec<Channel>, StoreError>;

    async fn channel(&self, name: &ChannelName) -> Result<Option<Channel>, StoreError>;

    /// Creates a channel; `Conflict` if it exists.
    async fn create_channel(
        &self,
        name: &ChannelName,
        created_by: &str,
    ) -> Result<Channel, StoreError>;

    /// Stores messages, skipping ids already stored; returns how many were new.
    async fn insert_messages(&self, messages: &[Message]) -> Result<usize, StoreError>;

    /// A slice of a channel's history, oldest first.
    async fn messages(
        &self,
        channel: &ChannelName,
        query: &HistoryQuery,
    ) -> Result<Vec<Message>, StoreError>;

    /// Records that a session (by its id) was ended and must be refused
    /// until `expires_at_ms`, when its cookie would have expired anyway.
    async fn revoke_session(&self, sid: &str, expires_at_ms: i64) -> Result<(), StoreError>;

    /// Whether a session was ended.
    async fn is_revoked(&self, sid: &str) -> Result<bool, StoreError>;

    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
}

pub(crate) fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}
