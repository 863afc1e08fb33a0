//! Persistent state behind one trait: accounts, channels and the message archive.

pub mod market;
pub mod pg;
pub mod rooms;
pub mod rows;
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::change::Change;
use crate::frames::ChannelInfo;
use crate::message::Message;
use crate::names::{ChannelName, Username};
use crate::payloads::HistoryRequest;

pub use market::{Alert, Claim, NewAlert};
pub use pg::PgStore;
pub use rooms::{Access, Among, Ban, Kind, Listed, Member, Role};
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
    pub kind: Kind,
    /// Closed by an operator: read-only until reopened.
    pub closed: bool,
}

impl Channel {
    pub fn info(&self) -> ChannelInfo {
        ChannelInfo {
            name: self.name.clone(),
            created_at: self.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            kind: self.kind,
            closed: self.closed,
        }
    }
}

/// A login session as the server records it. A cookie naming a session that
/// is not recorded, or whose time is up, is refused whatever else it says.
#[derive(
    Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Selectable, diesel::Insertable,
)]
#[diesel(table_name = crate::schema::sessions)]
pub struct LoginSession {
    #[diesel(column_name = sid)]
    pub session_id: String,
    /// The user's name as registered.
    pub username: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds; past it the session is refused.
    pub expires_at: i64,
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
    /// Messages a join starts with, and a page's length when none is asked for.
    pub const DEFAULT_PAGE: u32 = 50;
    /// Most messages one page returns (paging back).
    pub const MAX_PAGE: u32 = 100;
    /// Most messages a catch-up (`since`) returns at once.
    pub const MAX_CATCH_UP: u32 = 1000;

    pub fn latest(limit: u32) -> Self {
        Self {
            limit,
            ..Self::default()
        }
    }

    /// What a join starts with: the last page, or what came after `since`.
    pub fn for_join(since: Option<String>) -> Self {
        let limit = match since {
            Some(_) => Self::MAX_CATCH_UP,
            None => Self::DEFAULT_PAGE,
        };
        Self {
            before: None,
            since,
            limit,
        }
    }

    /// A request from the bus, its limit brought within what its kind allows.
    pub fn from_request(request: HistoryRequest) -> Self {
        let max = match request.since {
            Some(_) => Self::MAX_CATCH_UP,
            None => Self::MAX_PAGE,
        };
        Self {
            limit: request.limit.unwrap_or(Self::DEFAULT_PAGE).clamp(1, max),
            before: request.before,
            since: request.since,
        }
    }

    /// The same query as a request to an archiver.
    pub fn to_request(&self) -> HistoryRequest {
        HistoryRequest {
            before: self.before.clone(),
            since: self.since.clone(),
            limit: Some(self.limit),
        }
    }
}

/// A full-text search: messages whose text holds every word (whole words,
/// in any order, case-insensitive), newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Lower-case runs of letters and digits (`SearchQuery::words`).
    pub words: Vec<String>,
    /// Only in these channels (those the caller may read); `None`: all.
    pub channels: Option<Vec<ChannelName>>,
    /// Only messages with an id below this one (the next page).
    pub before: Option<String>,
    pub limit: u32,
    /// Who searches (lower case): only channels they may read are searched.
    pub reader: String,
}

impl SearchQuery {
    pub const DEFAULT_PAGE: u32 = 20;
    pub const MAX_PAGE: u32 = 100;
    /// Words of a query taken, at most.
    pub const MAX_WORDS: usize = 16;

    /// The words of `q`: its runs of letters and digits, lower-cased, each
    /// once, at most `MAX_WORDS`.
    pub fn words(q: &str) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        for w in q.split(|c: char| !c.is_alphanumeric()) {
            let w = w.to_lowercase();
            if !w.is_empty() && !words.contains(&w) && words.len() < Self::MAX_WORDS {
                words.push(w);
            }
        }
        words
    }

    /// The channels as one bind parameter: a comma-separated list (channel
    /// names have no commas), or `None` for all.
    fn channel_list(&self) -> Option<String> {
        self.channels.as_ref().map(|cs| {
            cs.iter()
                .map(ChannelName::as_str)
                .collect::<Vec<_>>()
                .join(",")
        })
    }
}

/// Why a store call failed.
/// How far one person has read one channel, and what is unread after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadState {
    pub channel: String,
    pub last_read: String,
    pub unread: u32,
    pub mentions: u32,
}

impl ReadState {
    /// Unread messages counted, at most (a client shows "999+").
    pub const MAX_COUNT: i64 = 1000;

    /// Counts what `user` (lower case) has not read from the `mentions`
    /// column of the unread messages.
    pub fn count(
        channel: String,
        last_read: String,
        user: &str,
        unread: &[Option<String>],
    ) -> Self {
        let me = format!(",{user},");
        let mentions = unread
            .iter()
            .filter(|m| m.as_deref().is_some_and(|m| m.contains(&me)))
            .count();
        ReadState {
            channel,
            last_read,
            unread: u32::try_from(unread.len()).unwrap_or(u32::MAX),
            mentions: u32::try_from(mentions).unwrap_or(u32::MAX),
        }
    }
}

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

    /// The channels `reader` (lower case) may read, by name: the first
    /// `limit` of those after `after` (all from the first when `None`),
    /// with the reader's role in each.
    async fn channels(
        &self,
        reader: &str,
        after: Option<&ChannelName>,
        limit: u32,
    ) -> Result<Vec<Listed>, StoreError>;

    async fn channel(&self, name: &ChannelName) -> Result<Option<Channel>, StoreError>;

    /// Creates a channel of `kind` (public or private), owned by its
    /// creator when that is a user; `Conflict` if it exists.
    async fn create_channel(
        &self,
        name: &ChannelName,
        created_by: &str,
        kind: Kind,
    ) -> Result<Channel, StoreError>;

    /// Closes channel `name` to posts (`closed`) or reopens it; the channel
    /// as it is now, or `None` when there is no such channel.
    async fn set_closed(
        &self,
        name: &ChannelName,
        closed: bool,
    ) -> Result<Option<Channel>, StoreError>;

    /// The direct conversation `name` between `a` and `b` (lower case),
    /// opened by `a` unless it exists; whether it was opened now.
    async fn open_dm(
        &self,
        name: &ChannelName,
        a: &str,
        b: &str,
    ) -> Result<(Channel, bool), StoreError>;

    /// Channel `name` and the standing of `user` (lower case) in it;
    /// `None` when there is no such channel.
    async fn access(&self, name: &ChannelName, user: &str) -> Result<Option<Access>, StoreError>;

    /// Those with a role in `name`, by lower-case name after `after`.
    async fn members(
        &self,
        name: &ChannelName,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Member>, StoreError>;

    /// Of `names` (lower case), who has a role in `name` and who is banned.
    async fn among(&self, name: &ChannelName, names: &[String]) -> Result<Among, StoreError>;

    /// Gives `user` (lower case) `role` in `name` (an owner's stays).
    async fn set_role(
        &self,
        name: &ChannelName,
        user: &str,
        role: Role,
        by: &str,
    ) -> Result<(), StoreError>;

    /// Takes `user`'s role or membership in `name` (not an owner's);
    /// whether they had one.
    async fn remove_member(&self, name: &ChannelName, user: &str) -> Result<bool, StoreError>;

    /// Bans `user` from `name` (and takes any role they had there).
    async fn ban(&self, name: &ChannelName, user: &str, by: &str) -> Result<(), StoreError>;

    /// Lifts `user`'s ban from `name`; whether there was one.
    async fn unban(&self, name: &ChannelName, user: &str) -> Result<bool, StoreError>;

    async fn bans(&self, name: &ChannelName) -> Result<Vec<Ban>, StoreError>;

    /// Usernames (as registered) starting with `prefix` in any case, but
    /// `except` (lower case), by name, at most `limit`.
    async fn users_with_prefix(
        &self,
        prefix: &str,
        except: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreError>;

    /// Stores messages, skipping ids already stored; returns how many were new.
    async fn insert_messages(&self, messages: &[Message]) -> Result<usize, StoreError>;

    /// Stores each message with its de-duplication key, in one transaction:
    /// for each, `None` if it was stored now, or the message stored earlier
    /// under the same key (or id), which it repeats.
    async fn insert_deduped(
        &self,
        batch: &[(Message, String)],
    ) -> Result<Vec<Option<Message>>, StoreError>;

    /// Applies changes to archived messages, in order (see
    /// `Change::apply`: the later edit wins, a deleted message stays
    /// deleted and its text is erased); for each, whether its message is
    /// archived (if not, nothing changed: it may still be on its way).
    async fn apply_changes(&self, changes: &[Change]) -> Result<Vec<bool>, StoreError>;

    /// What changed at or after `from_ms` in the messages of `channel` up
    /// to id `upto`: each deleted message's deletion, each edited one's
    /// current text, each person's current reaction (on or off) changed
    /// since; at most `limit` of each kind.
    async fn changes_since(
        &self,
        channel: &ChannelName,
        upto: &str,
        from_ms: i64,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError>;

    /// Which of `names` (lower case) are users.
    async fn existing_users(&self, names: &[String]) -> Result<Vec<String>, StoreError>;

    /// Records that `user` has read `channel` up to message `id`; whether
    /// that moved their marker forward (it never moves back).
    async fn mark_read(
        &self,
        user: &str,
        channel: &ChannelName,
        id: &str,
    ) -> Result<bool, StoreError>;

    /// Where `user` has read to in each channel they have read, with how
    /// many messages from others came after (up to [`ReadState::MAX_COUNT`])
    /// and how many of those mention them.
    async fn read_state(&self, user: &str) -> Result<Vec<ReadState>, StoreError>;

    /// A slice of a channel's history, oldest first.
    async fn messages(
        &self,
        channel: &ChannelName,
        query: &HistoryQuery,
    ) -> Result<Vec<Message>, StoreError>;

    /// The message `id` of `channel`, if it is stored.
    async fn message(&self, channel: &ChannelName, id: &str)
        -> Result<Option<Message>, StoreError>;

    /// Messages matching `query`, newest first.
    async fn search(&self, query: &SearchQuery) -> Result<Vec<Message>, StoreError>;

    /// Records a new login session (and sweeps expired ones).
    async fn create_session(&self, session: &LoginSession) -> Result<(), StoreError>;

    /// The login session with this id if it is live: recorded, not ended,
    /// not expired.
    async fn live_session(&self, session_id: &str) -> Result<Option<LoginSession>, StoreError>;

    /// Ends one login session; its id is never honoured again.
    async fn end_session(&self, session_id: &str) -> Result<(), StoreError>;

    /// Ends every login session of `username` (any case) but `keep`;
    /// returns the ids it ended.
    async fn end_sessions_of(
        &self,
        username: &Username,
        keep: Option<&str>,
    ) -> Result<Vec<String>, StoreError>;

    /// Whether the database answers.
    /// Stores a price alert unless its owner has `market::MAX_ALERTS`
    /// pending: whether it was stored.
    async fn add_alert(&self, alert: &NewAlert) -> Result<bool, StoreError>;

    /// `user`'s pending alerts in `channel`, oldest first.
    async fn alerts_of(&self, user: &str, channel: &ChannelName) -> Result<Vec<Alert>, StoreError>;

    /// Every pending alert, oldest first.
    async fn pending_alerts(&self) -> Result<Vec<Alert>, StoreError>;

    /// Takes back `user`'s alert `id` unless it is firing: whether it was.
    async fn cancel_alert(&self, id: i64, user: &str) -> Result<bool, StoreError>;

    /// Claims alert `id` for firing, unless someone claimed it at or after
    /// `stale_before` (epoch ms) or it has fired: the message to post, which
    /// is `message_id` and `text` unless an earlier claim fixed another.
    async fn claim_alert(
        &self,
        id: i64,
        message_id: &str,
        text: &str,
        stale_before: i64,
    ) -> Result<Option<Claim>, StoreError>;

    /// Alert `id` has been posted.
    async fn alert_fired(&self, id: i64) -> Result<(), StoreError>;

    /// `channel`'s watchlist, in the order the codes were added.
    async fn watchlist(&self, channel: &ChannelName) -> Result<Vec<String>, StoreError>;

    /// Adds `code` to `channel`'s watchlist unless it has
    /// `market::MAX_WATCHED` codes (or has it already).
    async fn watch(&self, channel: &ChannelName, code: &str) -> Result<(), StoreError>;

    /// Takes `code` off `channel`'s watchlist: whether it was on it.
    async fn unwatch(&self, channel: &ChannelName, code: &str) -> Result<bool, StoreError>;

    async fn ping(&self) -> Result<(), StoreError>;
}

pub(crate) fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_clamped_to_what_their_kind_allows() {
        let page = |limit| {
            HistoryQuery::from_request(HistoryRequest {
                limit,
                ..Default::default()
            })
        };
        assert_eq!(page(None).limit, HistoryQuery::DEFAULT_PAGE);
        assert_eq!(page(Some(0)).limit, 1);
        assert_eq!(page(Some(5000)).limit, HistoryQuery::MAX_PAGE);
        let since = Some("01J00000000000000000000000".to_owned());
        let catch_up = HistoryQuery::from_request(HistoryRequest {
            since: since.clone(),
            limit: Some(5000),
            before: None,
        });
        assert_eq!(catch_up.limit, HistoryQuery::MAX_CATCH_UP);
        assert_eq!(
            HistoryQuery::for_join(since).limit,
            HistoryQuery::MAX_CATCH_UP
        );
        assert_eq!(
            HistoryQuery::for_join(None).to_request().limit,
            Some(HistoryQuery::DEFAULT_PAGE)
        );
    }
}
