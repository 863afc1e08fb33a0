//! Rows as diesel reads and writes them, and their conversion to domain types.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::rooms::{self, Role};
use super::{Channel, StoreError, User};
use crate::change::Change;
use crate::message::{Kind, Message};
use crate::names::{ChannelName, MessageText, Username};
use crate::schema::{channel_members, channels, messages, reactions, users};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub username: String,
    pub password_hash: String,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub created_at: i64,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = channels)]
pub struct ChannelRow {
    pub name: String,
    pub created_by: String,
    pub created_at: i64,
    pub kind: String,
    /// When an operator closed it (`None`: open).
    pub closed_at: Option<i64>,
}

impl ChannelRow {
    /// A channel of `kind` created now by `created_by`.
    pub fn new(name: &ChannelName, created_by: &str, kind: rooms::Kind) -> Self {
        Self {
            name: name.to_string(),
            created_by: created_by.to_owned(),
            created_at: super::now_millis(),
            kind: kind.as_str().to_owned(),
            closed_at: None,
        }
    }

    /// The row naming `user` (lower case) as having `role` there from now.
    pub fn member(&self, user: &str, role: Role, by: &str) -> MemberInsert {
        MemberInsert {
            channel: self.name.clone(),
            username: user.to_owned(),
            role: role.as_str().to_owned(),
            added_by: by.to_owned(),
            added_at: self.created_at,
        }
    }
}

/// A role in a channel, as inserted.
#[derive(Insertable)]
#[diesel(table_name = channel_members)]
pub struct MemberInsert {
    pub channel: String,
    pub username: String,
    pub role: String,
    pub added_by: String,
    pub added_at: i64,
}

#[derive(Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    pub id: String,
    pub channel: String,
    pub username: String,
    pub text: String,
    pub bot: bool,
    pub ts: i64,
    pub kind: Option<String>,
    pub reply_to: Option<String>,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub mentions: Option<String>,
    /// Ever reacted to: only then are its reactions read.
    pub reacted: bool,
    /// The bot's card, as JSON.
    pub card: Option<String>,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("stored {what} is invalid: {e}"))
}

fn time(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt("time", ms))
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            username: Username::parse(&r.username).map_err(|e| corrupt("username", e))?,
            password_hash: r.password_hash,
        })
    }
}

impl TryFrom<ChannelRow> for Channel {
    type Error = StoreError;
    fn try_from(r: ChannelRow) -> Result<Self, StoreError> {
        Ok(Channel {
            name: ChannelName::parse(&r.name).map_err(|e| corrupt("channel name", e))?,
            created_by: r.created_by,
            created_at: time(r.created_at)?,
            kind: rooms::Kind::parse(&r.kind)?,
            closed: r.closed_at.is_some(),
        })
    }
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> Result<Self, StoreError> {
        Ok(Message {
            id: r.id,
            channel: ChannelName::parse(&r.channel).map_err(|e| corrupt("channel name", e))?,
            user: r.username,
            text: if r.deleted_at.is_some() {
                MessageText::erased()
            } else {
                MessageText::parse(&r.text).map_err(|e| corrupt("message text", e))?
            },
            ts: time(r.ts)?,
            bot: r.bot,
            kind: r
                .kind
                .map(|k| Kind::parse(&k).ok_or_else(|| corrupt("message kind", k)))
                .transpose()?,
            reply_to: r.reply_to,
            edited_at: r.edited_at.map(time).transpose()?,
            deleted: r.deleted_at.is_some(),
            reactions: Default::default(),
            mentions: mentions_of(r.mentions),
            card: r
                .card
                .map(|c| serde_json::from_str(&c).map_err(|e| corrupt("card", e)))
                .transpose()?,
        })
    }
}

impl From<&Message> for MessageRow {
    fn from(m: &Message) -> Self {
        MessageRow {
            id: m.id.clone(),
            channel: m.channel.to_string(),
            username: m.user.clone(),
            text: m.text.to_string(),
            bot: m.bot,
            ts: m.ts_millis(),
            kind: m.kind.map(|k| k.as_str().to_owned()),
            reply_to: m.reply_to.clone(),
            edited_at: m.edited_at.map(|t| t.timestamp_millis()),
            deleted_at: m.deleted.then(|| m.ts_millis()),
            mentions: mentions_column(&m.mentions),
            reacted: !m.reactions.is_empty(),
            card: m
                .card
                .as_ref()
                .map(|c| serde_json::to_string(c).expect("a card is plain data")),
        }
    }
}

/// Converts rows read newest first (or oldest first) into messages, oldest first.
pub fn into_messages(
    rows: Vec<MessageRow>,
    newest_first: bool,
) -> Result<Vec<Message>, StoreError> {
    let mut out = rows
        .into_iter()
        .map(Message::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    if newest_first {
        out.reverse();
    }
    Ok(out)
}

/// A person's reaction to a message, as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = reactions)]
pub struct ReactionRow {
    pub message_id: String,
    pub emoji: String,
    pub username: String,
}

/// Puts each active reaction read (oldest first) on its message.
pub fn attach_reactions(messages: &mut [Message], rows: Vec<ReactionRow>) {
    for r in rows {
        if let Some(m) = messages.iter_mut().find(|m| m.id == r.message_id) {
            m.react(&r.emoji, &r.username, true);
        }
    }
}

/// Stores one person's reaction unless a later change of theirs to the
/// same emoji is stored already; `$n` are the placeholders (PostgreSQL),
/// `?n` for SQLite with `sqlite`.
pub fn reaction_upsert(sqlite: bool) -> String {
    let sql = "INSERT INTO reactions (message_id, channel, emoji, username, active, changed_at) \
               VALUES ($1, $2, $3, $4, $5, $6) \
               ON CONFLICT (message_id, emoji, username) DO UPDATE \
               SET active = excluded.active, changed_at = excluded.changed_at \
               WHERE excluded.changed_at >= reactions.changed_at";
    if sqlite {
        sql.replace('$', "?")
    } else {
        sql.to_owned()
    }
}

/// A message changed lately, as far as a catch-up needs it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = messages)]
pub struct ChangedRow {
    pub id: String,
    pub username: String,
    pub text: String,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub deleted_by: Option<String>,
    pub mentions: Option<String>,
}

/// The `mentions` column of names: `,alice,bob,` (so that `,bob,` finds a
/// name whole: `ReadState::count`), or NULL for none.
pub fn mentions_column(names: &[String]) -> Option<String> {
    (!names.is_empty()).then(|| format!(",{},", names.join(",")))
}

/// The names a `mentions` column holds, in order.
pub fn mentions_of(column: Option<String>) -> Vec<String> {
    column
        .map(|m| {
            m.split(',')
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A person's latest change of one reaction, as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = reactions)]
pub struct ReactionChangeRow {
    pub message_id: String,
    pub emoji: String,
    pub username: String,
    pub active: bool,
    pub changed_at: i64,
}

/// The changes that bring a message of `channel` to what is stored: its
/// deletion, or its current text; then each reaction's current state.
pub fn into_changes(
    channel: &ChannelName,
    messages: Vec<ChangedRow>,
    reactions: Vec<ReactionChangeRow>,
) -> Result<Vec<Change>, StoreError> {
    let mut out = Vec::with_capacity(messages.len() + reactions.len());
    for m in messages {
        let (channel, id) = (channel.clone(), m.id);
        out.push(match (m.deleted_at, m.edited_at) {
            (Some(_), _) => Change::Deleted {
                channel,
                id,
                by: m.deleted_by.unwrap_or(m.username),
            },
            (None, Some(at)) => Change::Edited {
                channel,
                id,
                text: MessageText::parse(&m.text).map_err(|e| corrupt("message text", e))?,
                edited_at: time(at)?,
                by: m.username,
                mentions: mentions_of(m.mentions),
            },
            (None, None) => continue,
        });
    }
    for r in reactions {
        out.push(Change::Reaction {
            channel: channel.clone(),
            id: r.message_id,
            emoji: r.emoji,
            user: r.username,
            on: r.active,
            at: time(r.changed_at)?,
        });
    }
    Ok(out)
}

/// Moves a read marker forward, never back; `$n` placeholders (PostgreSQL),
/// `?n` for SQLite with `sqlite`.
pub fn read_upsert(sqlite: bool) -> String {
    let sql = "INSERT INTO read_markers (username, channel, last_read, updated_at) \
               VALUES ($1, $2, $3, $4) \
               ON CONFLICT (username, channel) DO UPDATE \
               SET last_read = excluded.last_read, updated_at = excluded.updated_at \
               WHERE excluded.last_read > read_markers.last_read";
    if sqlite {
        sql.replace('$', "?")
    } else {
        sql.to_owned()
    }
}
