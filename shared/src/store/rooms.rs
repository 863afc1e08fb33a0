//! Who may read a channel and what they may do there: kinds of channel,
//! roles, bans, and the SQL both stores run for them (`$n` placeholders,
//! `?n` for SQLite through [`for_sqlite`]).

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel::QueryableByName;
use serde::{Deserialize, Serialize};

use super::{Channel, StoreError};

/// What kind of room a channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Anyone may see, join and read it, but those banned from it.
    #[default]
    Public,
    /// Only its members see it.
    Private,
    /// The conversation of two people.
    Dm,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Public => "public",
            Kind::Private => "private",
            Kind::Dm => "dm",
        }
    }

    pub fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "public" => Ok(Kind::Public),
            "private" => Ok(Kind::Private),
            "dm" => Ok(Kind::Dm),
            other => Err(StoreError::Internal(format!(
                "unknown channel kind {other:?}"
            ))),
        }
    }
}

/// One's standing in a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Moderator,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Moderator => "moderator",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "owner" => Ok(Role::Owner),
            "moderator" => Ok(Role::Moderator),
            "member" => Ok(Role::Member),
            other => Err(StoreError::Internal(format!("unknown role {other:?}"))),
        }
    }

    /// Whether this role runs the channel (deletes others' messages,
    /// invites, removes, makes moderators).
    pub fn manages(self) -> bool {
        matches!(self, Role::Owner | Role::Moderator)
    }
}

/// One person's standing in one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub channel: Channel,
    pub role: Option<Role>,
    pub banned: bool,
}

impl Access {
    /// Whether they may see and read it at all.
    pub fn may_read(&self) -> bool {
        match self.channel.kind {
            Kind::Public => !self.banned,
            Kind::Private | Kind::Dm => self.role.is_some(),
        }
    }

    /// Whether they run it (never anyone in a DM).
    pub fn manages(&self) -> bool {
        self.may_read() && self.channel.kind != Kind::Dm && self.role.is_some_and(Role::manages)
    }
}

/// A channel as one person's list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub channel: Channel,
    pub role: Option<Role>,
}

/// Someone with a role in a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// As registered.
    pub user: String,
    pub role: Role,
}

/// Someone banned from a public channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ban {
    pub user: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Of some people, who holds a role in a channel and who is banned from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Among {
    pub members: Vec<String>,
    pub banned: Vec<String>,
}

impl Among {
    /// Of `names`, those who may read a channel of `kind`.
    pub fn readers(&self, kind: Kind, names: &[String]) -> Vec<String> {
        names
            .iter()
            .filter(|n| match kind {
                Kind::Public => !self.banned.contains(n),
                Kind::Private | Kind::Dm => self.members.contains(n),
            })
            .cloned()
            .collect()
    }
}

/// The same SQL with SQLite's `?n` placeholders.
pub fn for_sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}

/// The query for one channel (`$name`, a `&str`) and the standing in it of
/// one user (`$user`, lower case): its row, their role, whether they are
/// banned. Written with diesel's query builder, so that each connection
/// prepares it once (a join runs it every time).
#[macro_export]
macro_rules! access_query {
    ($name:expr, $user:expr) => {{
        use $crate::schema::{channel_bans, channel_members, channels};
        channels::table
            .left_join(
                channel_members::table.on(channel_members::channel
                    .eq(channels::name)
                    .and(channel_members::username.eq($user))),
            )
            .filter(channels::name.eq($name))
            .select((
                $crate::store::rows::ChannelRow::as_select(),
                channel_members::role.nullable(),
                diesel::dsl::exists(
                    channel_bans::table
                        .filter(channel_bans::channel.eq($name))
                        .filter(channel_bans::username.eq($user)),
                ),
            ))
    }};
}

/// A row of [`access_query`].
pub type AccessParts = (super::rows::ChannelRow, Option<String>, bool);

impl Access {
    pub fn from_parts((channel, role, banned): AccessParts) -> Result<Self, StoreError> {
        Ok(Access {
            channel: Channel::try_from(channel)?,
            role: role.as_deref().map(Role::parse).transpose()?,
            banned,
        })
    }
}

/// The channels user `$1` may read, by name, after `$2`, at most `$3`.
pub const LISTED: &str = "SELECT c.name, c.created_by, c.created_at, c.kind, c.closed_at, m.role, \
     FALSE AS banned \
     FROM channels c LEFT JOIN channel_members m ON m.channel = c.name AND m.username = $1 \
     WHERE c.name > $2 AND (m.role IS NOT NULL OR (c.kind = 'public' AND NOT EXISTS \
     (SELECT 1 FROM channel_bans b WHERE b.channel = c.name AND b.username = $1))) \
     ORDER BY c.name LIMIT $3";

/// The condition "the channel in `column` may be read by the user in
/// placeholder `param`", for queries over messages (search).
pub fn readable_by(column: &str, param: &str) -> String {
    format!(
        "{column} IN (SELECT c.name FROM channels c WHERE (c.kind = 'public' AND NOT EXISTS \
         (SELECT 1 FROM channel_bans b WHERE b.channel = c.name AND b.username = {param})) \
         OR EXISTS (SELECT 1 FROM channel_members m WHERE m.channel = c.name AND m.username = {param}))"
    )
}

/// Those with a role in channel `$1`, by lower-case name after `$2`, at most `$3`.
pub const MEMBERS: &str = "SELECT COALESCE(u.username, m.username) AS username, m.role \
     FROM channel_members m LEFT JOIN users u ON lower(u.username) = m.username \
     WHERE m.channel = $1 AND m.username > $2 ORDER BY m.username LIMIT $3";

/// Gives user `$2` role `$3` in channel `$1` (`$4` by, `$5` when); never
/// changes an owner's.
pub const SET_ROLE: &str =
    "INSERT INTO channel_members (channel, username, role, added_by, added_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel, username) DO UPDATE \
     SET role = excluded.role WHERE channel_members.role <> 'owner'";

/// Takes user `$2`'s role (or membership) in channel `$1`, unless they own it.
pub const REMOVE: &str =
    "DELETE FROM channel_members WHERE channel = $1 AND username = $2 AND role <> 'owner'";

/// Bans user `$2` from channel `$1` (`$3` by, `$4` when).
pub const BAN: &str = "INSERT INTO channel_bans (channel, username, banned_by, banned_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (channel, username) DO NOTHING";

pub const UNBAN: &str = "DELETE FROM channel_bans WHERE channel = $1 AND username = $2";

/// Who is banned from channel `$1`, by name.
pub const BANS: &str =
    "SELECT COALESCE(u.username, b.username) AS username, b.banned_by, b.banned_at \
     FROM channel_bans b LEFT JOIN users u ON lower(u.username) = b.username \
     WHERE b.channel = $1 ORDER BY b.username LIMIT 1000";

/// Usernames (as registered) whose lower case starts with the LIKE pattern
/// `$1`, but `$2`, at most `$3`.
pub const USERS_WITH_PREFIX: &str = "SELECT username FROM users \
     WHERE lower(username) LIKE $1 ESCAPE '\\' AND lower(username) <> $2 \
     ORDER BY lower(username) LIMIT $3";

/// A LIKE pattern for names starting with `prefix` (lower case; `_` is a
/// wildcard in LIKE and a letter of usernames).
pub fn prefix_pattern(prefix: &str) -> String {
    format!("{}%", prefix.to_ascii_lowercase().replace('_', "\\_"))
}

/// A channel with someone's standing in it, as `LISTED` reads it.
#[derive(QueryableByName)]
pub struct AccessRow {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub created_by: String,
    #[diesel(sql_type = BigInt)]
    pub created_at: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub closed_at: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub role: Option<String>,
    #[diesel(sql_type = Bool)]
    pub banned: bool,
}

impl TryFrom<AccessRow> for Access {
    type Error = StoreError;
    fn try_from(r: AccessRow) -> Result<Self, StoreError> {
        let channel = super::rows::ChannelRow {
            name: r.name,
            created_by: r.created_by,
            created_at: r.created_at,
            kind: r.kind,
            closed_at: r.closed_at,
        };
        Access::from_parts((channel, r.role, r.banned))
    }
}

#[derive(QueryableByName)]
pub struct MemberRow {
    #[diesel(sql_type = Text)]
    pub username: String,
    #[diesel(sql_type = Text)]
    pub role: String,
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<Self, StoreError> {
        Ok(Member {
            user: r.username,
            role: Role::parse(&r.role)?,
        })
    }
}

#[derive(QueryableByName)]
pub struct BanRow {
    #[diesel(sql_type = Text)]
    pub username: String,
    #[diesel(sql_type = Text)]
    pub banned_by: String,
    #[diesel(sql_type = BigInt)]
    pub banned_at: i64,
}

impl TryFrom<BanRow> for Ban {
    type Error = StoreError;
    fn try_from(r: BanRow) -> Result<Self, StoreError> {
        Ok(Ban {
            user: r.username,
            by: r.banned_by,
            at: DateTime::from_timestamp_millis(r.banned_at)
                .ok_or_else(|| StoreError::Internal("a ban's time is invalid".into()))?,
        })
    }
}

#[derive(QueryableByName)]
pub struct NameRow {
    #[diesel(sql_type = Text)]
    pub username: String,
}

/// Creates a channel (`$1` name, `$2` created by, `$3` when, `$4` kind)
/// with its creator (`$5`, lower case) as owner when that is a user, in one
/// statement (PostgreSQL).
pub const PG_CREATE: &str = "WITH c AS (INSERT INTO channels (name, created_by, created_at, kind) \
     VALUES ($1, $2, $3, $4) RETURNING name) \
     INSERT INTO channel_members (channel, username, role, added_by, added_at) \
     SELECT c.name, u.key, 'owner', u.key, $3 FROM c \
     JOIN (SELECT lower(username) AS key FROM users WHERE lower(username) = $5) u ON TRUE";

/// Opens the DM `$1` of `$2` (who opens it) and `$4` (`$3` when) unless it
/// exists, with both as members, in one statement (PostgreSQL).
pub const PG_OPEN_DM: &str =
    "WITH c AS (INSERT INTO channels (name, created_by, created_at, kind) \
     VALUES ($1, $2, $3, 'dm') ON CONFLICT (name) DO NOTHING RETURNING name) \
     INSERT INTO channel_members (channel, username, role, added_by, added_at) \
     SELECT c.name, p.who, 'member', $2, $3 FROM c, (VALUES ($2), ($4)) AS p(who)";

/// Bans user `$2` from channel `$1` (`$3` by, `$4` when) and takes any role
/// they had there but an owner's, in one statement (PostgreSQL).
pub const PG_BAN: &str = "WITH gone AS (DELETE FROM channel_members \
     WHERE channel = $1 AND username = $2 AND role <> 'owner') \
     INSERT INTO channel_bans (channel, username, banned_by, banned_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (channel, username) DO NOTHING";

/// A channel of someone's list, from its row.
pub fn listed(r: AccessRow) -> Result<Listed, StoreError> {
    let access = Access::try_from(r)?;
    Ok(Listed {
        channel: access.channel,
        role: access.role,
    })
}
