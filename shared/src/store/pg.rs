//! The distributed store: PostgreSQL through diesel-async (no libpq) with a
//! bb8 pool; migrations run through `AsyncConnectionWrapper` at start.

use std::time::Duration;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Text};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::bb8::{Pool, PooledConnection};
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::market::{self, AlertRow, ClaimRow, CodeRow};
use super::rooms::{self, AccessRow, BanRow, MemberRow, NameRow};
use super::rows::{
    attach_reactions, into_changes, into_messages, mentions_column, reaction_upsert, read_upsert,
    ChangedRow, ChannelRow, MessageRow, NewUser, ReactionChangeRow, ReactionRow, UserRow,
};
use super::sqlite::map_err;
use super::{
    now_millis, Access, Alert, Among, Ban, Channel, Claim, HistoryQuery, Kind, Listed,
    LoginSession, Member, NewAlert, ReadState, Role, SearchQuery, Store, StoreError, User,
};
use crate::change::Change;
use crate::message::Message;
use crate::names::{ChannelName, Username};
use crate::schema::{
    channel_bans, channel_members, channels, lower, messages, reactions, read_markers, sessions,
    users,
};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Advisory lock key held while migrating.
const MIGRATION_LOCK: i64 = 0x63686174; // "chat"

/// Rows per INSERT statement (PostgreSQL allows 65,535 parameters).
const INSERT_CHUNK: usize = 1000;

/// PostgreSQL behind a connection pool.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool<AsyncPgConnection>,
}

impl PgStore {
    /// Runs `sql` with the channel (`$1`) and user (`$2`, lower-cased);
    /// whether it touched a row.
    async fn by_name_and_user(
        &self,
        sql: &str,
        name: &ChannelName,
        user: &str,
    ) -> Result<bool, StoreError> {
        let n = diesel::sql_query(sql)
            .bind::<Text, _>(name.as_str())
            .bind::<Text, _>(user.to_ascii_lowercase())
            .execute(&mut self.conn().await?)
            .await
            .map_err(map_err)?;
        Ok(n > 0)
    }

    /// Connects, applies pending migrations, and opens the pool.
    pub async fn connect(url: &str, pool_size: u32) -> Result<Self, StoreError> {
        let migrate_url = url.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&migrate_url)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            // Servers and archivers may start together: one migrates at a time.
            diesel::RunQueryDsl::execute(
                diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")),
                &mut conn,
            )
            .map_err(map_err)?;
            let migrated = conn
                .run_pending_migrations(MIGRATIONS)
                .map(drop)
                .map_err(|e| StoreError::Internal(format!("migrations failed: {e}")));
            diesel::RunQueryDsl::execute(
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")),
                &mut conn,
            )
            .map_err(map_err)?;
            migrated
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))??;
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
        let pool = Pool::builder()
            .max_size(pool_size)
            .connection_timeout(Duration::from_secs(3))
            .build(manager)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self { pool })
    }

    async fn conn(&self) -> Result<PooledConnection<'_, AsyncPgConnection>, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

#[async_trait]
impl Store for PgStore {
    async fn create_user(
        &self,
        username: &Username,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        let row = NewUser {
            username: username.as_str(),
            password_hash,
            created_at: now_millis(),
        };
        diesel::insert_into(users::table)
            .values(row)
            .execute(&mut self.conn().await?)
            .await
            .map(drop)
            .map_err(map_err)
    }

    async fn user(&self, username: &Username) -> Result<Option<User>, StoreError> {
        users::table
            .filter(lower(users::username).eq(username.key()))
            .select(UserRow::as_select())
            .first(&mut self.conn().await?)
            .await
            .optional()
            .map_err(map_err)?
            .map(User::try_from)
            .transpose()
    }

    async fn channels(
        &self,
        reader: &str,
        after: Option<&ChannelName>,
        limit: u32,
    ) -> Result<Vec<Listed>, StoreError> {
        let rows: Vec<AccessRow> = diesel::sql_query(rooms::LISTED)
            .bind::<Text, _>(reader.to_ascii_lowercase())
            .bind::<Text, _>(after.map_or("", ChannelName::as_str))
            .bind::<BigInt, _>(i64::from(limit))
            .load(&mut self.conn().await?)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(rooms::listed).collect()
    }

    async fn channel(&self, name: &ChannelName) -> Result<Option<Channel>, StoreError> {
        channels::table
            .filter(channels::name.eq(name.as_str()))
            .select(ChannelRow::as_select())
            .first(&mut self.conn().await?)
            .await
            .optional()
            .map_err(map_err)?
            .map(Channel::try_from)
            .transpose()
    }

    async fn create_channel(
        &self,
        name: &ChannelName,
        created_by: &str,
        kind: Kind,
    ) -> Result<Channel, StoreError> {
        let row = ChannelRow::new(name, created_by, kind);
        // One statement: the channel never exists without its owner.
        diesel::sql_query(rooms::PG_CREATE)
            .bind::<Text, _>(&row.name)
            .bind::<Text, _>(&row.created_by)
            .bind::<BigInt, _>(row.created_at)
            .bind::<Text, _>(&row.kind)
            .bind::<Text, _>(created_by.to_ascii_lowercase())
            .execute(&mut self.conn().await?)
            .await
            .map_err(map_err)?;
        Channel::try_from(row)
    }

    async fn set_closed(
        &self,
        name: &ChannelName,
        closed: bool,
    ) -> Result<Option<Channel>, StoreError> {
        let closed_at = closed.then(now_millis);
        diesel::update(channels::table.filter(channels::name.eq(name.as_str())))
            .set(channels::closed_at.eq(closed_at))
            .returning(ChannelRow::as_returning())
            .get_result(&mut self.conn().await?)
            .await
            .optional()
            .map_err(map_err)?
            .map(Channel::try_from)
            .transpose()
    }

    async fn open_dm(
        &self,
        name: &ChannelName,
        a: &str,
        b: &str,
    ) -> Result<(Channel, bool), StoreError> {
        let row = ChannelRow::new(name, a, Kind::Dm);
        let mut conn = self.conn().await?;
        let opened = diesel::sql_query(rooms::PG_OPEN_DM)
            .bind::<Text, _>(&row.name)
            .bind::<Text, _>(&row.created_by)
            .bind::<BigInt, _>(row.created_at)
            .bind::<Text, _>(b)
            .execute(&mut conn)
            .await
            .map_err(map_err)?;
        let channel = channels::table
            .filter(channels::name.eq(name.as_str()))
            .select(ChannelRow::as_select())
            .first(&mut conn)
            .await
            .map_err(map_err)?;
        Ok((Channel::try_from(channel)?, opened > 0))
    }

    async fn access(&self, name: &ChannelName, user: &str) -> Result<Option<Access>, StoreError> {
        let user = user.to_ascii_lowercase();
        let row: Option<rooms::AccessParts> = crate::access_query!(name.as_str(), &user)
            .first(&mut self.conn().await?)
            .await
            .optional()
            .map_err(map_err)?;
        row.map(Access::from_parts).transpose()
    }

    async fn members(
        &self,
        name: &ChannelName,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Member>, StoreError> {
        let rows: Vec<MemberRow> = diesel::sql_query(rooms::MEMBERS)
            .bind::<Text, _>(name.as_str())
            .bind::<Text, _>(after.to_ascii_lowercase())
            .bind::<BigInt, _>(i64::from(limit))
            .load(&mut self.conn().await?)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(Member::try_from).collect()
    }

    async fn among(&self, name: &ChannelName, names: &[String]) -> Result<Among, StoreError> {
        let mut conn = self.conn().await?;
        let members = channel_members::table
            .filter(channel_members::channel.eq(name.as_str()))
            .filter(channel_members::username.eq_any(names))
            .select(channel_members::username)
            .load(&mut conn)
            .await
            .map_err(map_err)?;
        let banned = channel_bans::table
            .filter(channel_bans::channel.eq(name.as_str()))
            .filter(channel_bans::username.eq_any(names))
            .select(channel_bans::username)
            .load(&mut conn)
            .await
            .map_err(map_err)?;
        Ok(Among { members, banned })
    }

    async fn set_role(
        &self,
        name: &ChannelName,
        user: &str,
        role: Role,
        by: &str,
    ) -> Result<(), StoreError> {
        diesel::sql_query(rooms::SET_ROLE)
            .bind::<Text, _>(name.as_str())
            .bind::<Text, _>(user.to_ascii_lowercase())
            .bind::<Text, _>(role.as_str())
            .bind::<Text, _>(by.to_ascii_lowercase())
            .bind::<BigInt, _>(now_millis())
            .execute(&mut self.conn().await?)
            .await
            .map(drop)
            .map_err(map_err)
    }

    async fn remove_member(&self, name: &ChannelName, user: &str) -> Result<bool, StoreError> {
        self.by_name_and_user(rooms::REMOVE, name, user).await
    }

    async fn ban(&self, name: &ChannelName, user: &str, by: &str) -> Result<(), StoreError> {
        diesel::sql_query(rooms::PG_BAN)
            .bind::<Text, _>(name.as_str())
            .bind::<Text, _>(user.to_ascii_lowercase())
            .bind::<Text, _>(by.to_ascii_lowercase())
            .bind::<BigInt, _>(now_millis())
            .execute(&mut self.conn().await?)
            .await
            .map(drop)
            .map_err(map_err)
    }

    async fn unban(&self, name: &ChannelName, user: &str) -> Result<bool, StoreError> {
        self.by_name_and_user(rooms::UNBAN, name, user).await
    }

    async fn bans(&self, name: &ChannelName) -> Result<Vec<Ban>, StoreError> {
        let rows: Vec<BanRow> = diesel::sql_query(rooms::BANS)
            .bind::<Text, _>(name.as_str())
            .load(&mut self.conn().await?)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(Ban::try_from).collect()
    }

    async fn users_with_prefix(
        &self,
        prefix: &str,
        except: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<NameRow> = diesel::sql_query(rooms::USERS_WITH_PREFIX)
            .bind::<Text, _>(rooms::prefix_pattern(prefix))
            .bind::<Text, _>(except.to_ascii_lowercase())
            .bind::<BigInt, _>(i64::from(limit))
            .load(&mut self.conn().await?)
            .await
            .map_err(map_err)?;
        Ok(rows.into_iter().map(|r| r.username).collect())
    }

    async fn insert_messages(&self, batch: &[Message]) -> Result<usize, StoreError> {
        let rows: Vec<MessageRow> = batch.iter().map(MessageRow::from).collect();
        let mut conn = self.conn().await?;
        let mut inserted = 0;
        for chunk in rows.chunks(INSERT_CHUNK) {
            inserted += diesel::insert_into(messages::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(&mut conn)
                .await
                .map_err(map_err)?;
        }
        Ok(inserted)
    }

    async fn insert_deduped(
        &self,
        batch: &[(Message, String)],
    ) -> Result<Vec<Option<Message>>, StoreError> {
        // Each insert is atomic and the unique index decides: no transaction
        // is needed for a key to be stored once.
        let mut conn = self.conn().await?;
        let mut found = Vec::with_capacity(batch.len());
        for (message, key) in batch {
            let row = MessageRow::from(message);
            let stored = diesel::insert_into(messages::table)
                .values((&row, messages::dedupe_key.eq(key)))
                .on_conflict_do_nothing()
                .execute(&mut conn)
                .await
                .map_err(map_err)?;
            let earlier = match stored {
                1 => None,
                _ => messages::table
                    .filter(messages::dedupe_key.eq(key).or(messages::id.eq(&row.id)))
                    .select(MessageRow::as_select())
                    .first(&mut conn)
                    .await
                    .optional()
                    .map_err(map_err)?,
            };
            found.push(earlier.map(Message::try_from).transpose()?);
        }
        Ok(found)
    }

    async fn messages(
        &self,
        channel: &ChannelName,
        q: &HistoryQuery,
    ) -> Result<Vec<Message>, StoreError> {
        let mut query = messages::table
            .filter(messages::channel.eq(channel.as_str()))
            .select(MessageRow::as_select())
            .limit(i64::from(q.limit))
            .into_boxed();
        if let Some(before) = &q.before {
            query = query.filter(messages::id.lt(before.as_str()));
        }
        query = match &q.since {
            Some(since) => query
                .filter(messages::id.gt(since.as_str()))
                .order(messages::id.asc()),
            None => query.order(messages::id.desc()),
        };
        let mut conn = self.conn().await?;
        let rows: Vec<MessageRow> = query.load(&mut conn).await.map_err(map_err)?;
        let reacted = rows.iter().any(|r| r.reacted);
        let mut page = into_messages(rows, q.since.is_none())?;
        if reacted {
            with_reactions(&mut conn, &mut page).await?;
        }
        Ok(page)
    }

    async fn changes_since(
        &self,
        channel: &ChannelName,
        upto: &str,
        from_ms: i64,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError> {
        let mut conn = self.conn().await?;
        let changed = messages::table
            .filter(messages::channel.eq(channel.as_str()))
            .filter(messages::id.le(upto))
            .filter(
                messages::edited_at
                    .ge(from_ms)
                    .or(messages::deleted_at.ge(from_ms)),
            )
            .order(messages::id)
            .limit(i64::from(limit))
            .select(ChangedRow::as_select())
            .load(&mut conn)
            .await
            .map_err(map_err)?;
        let reacted = reactions::table
            .filter(reactions::channel.eq(channel.as_str()))
            .filter(reactions::changed_at.ge(from_ms))
            .filter(reactions::message_id.le(upto))
            .order(reactions::changed_at)
            .limit(i64::from(limit))
            .select(ReactionChangeRow::as_select())
            .load(&mut conn)
            .await
            .map_err(map_err)?;
        into_changes(channel, changed, reacted)
    }

    async fn existing_users(&self, names: &[String]) -> Result<Vec<String>, StoreError> {
        users::table
            .filter(lower(users::username).eq_any(names))
            .select(lower(users::username))
            .load(&mut self.conn().await?)
            .await
            .map_err(map_err)
    }

    async fn mark_read(
        &self,
        user: &str,
        channel: &ChannelName,
        id: &str,
    ) -> Result<bool, StoreError> {
        diesel::sql_query(read_upsert(false))
            .bind::<Text, _>(user.to_ascii_lowercase())
            .bind::<Text, _>(channel.as_str())
            .bind::<Text, _>(id)
            .bind::<BigInt, _>(now_millis())
            .execute(&mut self.conn().await?)
            .await
            .map(|n| n > 0)
            .map_err(map_err)
    }

    async fn read_state(&self, user: &str) -> Result<Vec<ReadState>, StoreError> {
        let user = user.to_ascii_lowercase();
        let mut conn = self.conn().await?;
        let markers: Vec<(String, String)> = read_markers::table
            .filter(read_markers::username.eq(&user))
            .select((read_markers::channel, read_markers::last_read))
            .load(&mut conn)
            .await
            .map_err(map_err)?;
        let mut out = Vec::with_capacity(markers.len());
        for (channel, last_read) in markers {
            let unread: Vec<Option<String>> = messages::table
                .filter(messages::channel.eq(&channel))
                .filter(messages::id.gt(&last_read))
                .filter(lower(messages::username).ne(&user))
                .filter(messages::deleted_at.is_null())
                .order(messages::id)
                .limit(ReadState::MAX_COUNT)
                .select(messages::mentions)
                .load(&mut conn)
                .await
                .map_err(map_err)?;
            out.push(ReadState::count(channel, last_read, &user, &unread));
        }
        Ok(out)
    }

    async fn apply_changes(&self, changes: &[Change]) -> Result<Vec<bool>, StoreError> {
        let mut conn = self.conn().await?;
        let mut archived = Vec::with_capacity(changes.len());
        for change in changes {
            archived.push(apply_change(&mut conn, change).await?);
        }
        Ok(archived)
    }

    async fn message(
        &self,
        channel: &ChannelName,
        id: &str,
    ) -> Result<Option<Message>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<MessageRow> = messages::table
            .filter(messages::channel.eq(channel.as_str()))
            .filter(messages::id.eq(id))
            .select(MessageRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(map_err)?;
        let reacted = row.as_ref().is_some_and(|r| r.reacted);
        let mut found: Vec<Message> = row
            .map(Message::try_from)
            .transpose()?
            .into_iter()
            .collect();
        if reacted {
            with_reactions(&mut conn, &mut found).await?;
        }
        Ok(found.pop())
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Message>, StoreError> {
        if query.words.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<MessageRow> = diesel::sql_query(format!(
            "SELECT id, channel, username, text, bot, ts, kind, reply_to, edited_at, deleted_at, mentions, reacted, card FROM messages \
             WHERE search @@ plainto_tsquery('simple', $1) \
             AND ($2::text IS NULL OR channel = ANY(string_to_array($2, ','))) \
             AND ($3::text IS NULL OR id < $3) AND {} \
             ORDER BY id DESC LIMIT $4",
            rooms::readable_by("channel", "$5")
        ))
        .bind::<Text, _>(query.words.join(" "))
        .bind::<Nullable<Text>, _>(query.channel_list())
        .bind::<Nullable<Text>, _>(query.before.clone())
        .bind::<BigInt, _>(i64::from(query.limit))
        .bind::<Text, _>(&query.reader)
        .load(&mut self.conn().await?)
        .await
        .map_err(map_err)?;
        into_messages(rows, false)
    }

    async fn create_session(&self, session: &LoginSession) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::delete(sessions::table.filter(sessions::expires_at.lt(now_millis())))
            .execute(&mut conn)
            .await
            .map_err(map_err)?;
        diesel::insert_into(sessions::table)
            .values(session)
            .execute(&mut conn)
            .await
            .map(drop)
            .map_err(map_err)
    }

    async fn live_session(&self, session_id: &str) -> Result<Option<LoginSession>, StoreError> {
        sessions::table
            .filter(sessions::sid.eq(session_id))
            .filter(sessions::expires_at.gt(now_millis()))
            .select(LoginSession::as_select())
            .first(&mut self.conn().await?)
            .await
            .optional()
            .map_err(map_err)
    }

    async fn end_session(&self, session_id: &str) -> Result<(), StoreError> {
        diesel::delete(sessions::table.filter(sessions::sid.eq(session_id)))
            .execute(&mut self.conn().await?)
            .await
            .map(drop)
            .map_err(map_err)
    }

    async fn end_sessions_of(
        &self,
        username: &Username,
        keep: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        diesel::delete(
            sessions::table
                .filter(sessions::username.eq(username.as_str()))
                .filter(sessions::sid.ne(keep.unwrap_or_default())),
        )
        .returning(sessions::sid)
        .get_results(&mut self.conn().await?)
        .await
        .map_err(map_err)
    }

    async fn add_alert(&self, a: &NewAlert) -> Result<bool, StoreError> {
        let n = diesel::sql_query(market::ADD_ALERT)
            .bind::<Text, _>(a.user.to_ascii_lowercase())
            .bind::<Text, _>(a.channel.as_str())
            .bind::<Text, _>(&a.code)
            .bind::<Bool, _>(a.above)
            .bind::<Double, _>(a.price)
            .bind::<BigInt, _>(now_millis())
            .bind::<BigInt, _>(market::MAX_ALERTS)
            .execute(&mut self.conn().await?)
            .await
            .map_err(map_err)?;
        Ok(n == 1)
    }

    async fn alerts_of(&self, user: &str, channel: &ChannelName) -> Result<Vec<Alert>, StoreError> {
        let rows: Vec<AlertRow> = diesel::sql_query(market::alerts_of())
            .bind::<Text, _>(user.to_ascii_lowercase())
            .bind::<Text, _>(channel.as_str())
            .load(&mut self.conn().await?)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(Alert::try_from).collect()
    }

    async fn pending_alerts(&self) -> Result<Vec<Alert>, StoreError> {
        let rows: Vec<AlertRow> = diesel::sql_query(market::pending())
            .load(&mut self.conn().await?)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(Alert::try_from).collect()
    }

    async fn cancel_alert(&self, id: i64, user: &str) -> Result<bool, StoreError> {
        let n = diesel::sql_query(market::CANCEL_ALERT)
            .bind::<BigInt, _>(id)
            .bind::<Text, _>(user.to_ascii_lowercase())
            .execute(&mut self.conn().await?)
            .await
            .map_err(map_err)?;
        Ok(n > 0)
    }

    async fn claim_alert(
        &self,
        id: i64,
        message_id: &str,
        text: &str,
        stale_before: i64,
    ) -> Result<Option<Claim>, StoreError> {
        let now = now_millis();
        let row: Option<ClaimRow> = diesel::sql_query(market::CLAIM_ALERT)
            .bind::<BigInt, _>(id)
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(stale_before)
            .bind::<Text, _>(message_id)
            .bind::<Text, _>(text)
            .get_result(&mut self.conn().await?)
            .await
            .optional()
            .map_err(map_err)?;
        Ok(row.map(|r| r.into_claim(now)))
    }

    async fn alert_fired(&self, id: i64) -> Result<(), StoreError> {
        diesel::sql_query(market::FIRED)
            .bind::<BigInt, _>(id)
            .bind::<BigInt, _>(now_millis())
            .execute(&mut self.conn().await?)
            .await
            .map(drop)
            .map_err(map_err)
    }

    async fn watchlist(&self, channel: &ChannelName) -> Result<Vec<String>, StoreError> {
        let rows: Vec<CodeRow> = diesel::sql_query(market::WATCHLIST)
            .bind::<Text, _>(channel.as_str())
            .load(&mut self.conn().await?)
            .await
            .map_err(map_err)?;
        Ok(rows.into_iter().map(|r| r.code).collect())
    }

    async fn watch(&self, channel: &ChannelName, code: &str) -> Result<(), StoreError> {
        diesel::sql_query(market::WATCH)
            .bind::<Text, _>(channel.as_str())
            .bind::<Text, _>(code)
            .bind::<BigInt, _>(now_millis())
            .bind::<BigInt, _>(market::MAX_WATCHED)
            .execute(&mut self.conn().await?)
            .await
            .map(drop)
            .map_err(map_err)
    }

    async fn unwatch(&self, channel: &ChannelName, code: &str) -> Result<bool, StoreError> {
        self.by_name_and_user(market::UNWATCH, channel, code).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        diesel::sql_query("SELECT 1")
            .execute(&mut self.conn().await?)
            .await
            .map(drop)
            .map_err(map_err)
    }
}

/// One change to an archived message (each update atomic, and conditional
/// as `Change::apply` is); whether the message is archived.
async fn apply_change(conn: &mut AsyncPgConnection, change: &Change) -> Result<bool, StoreError> {
    let target = messages::table
        .filter(messages::channel.eq(change.channel().as_str()))
        .filter(messages::id.eq(change.id()));
    let changed = match change {
        Change::Edited {
            text,
            edited_at,
            mentions,
            ..
        } => {
            let at = edited_at.timestamp_millis();
            diesel::update(target)
                .filter(messages::deleted_at.is_null())
                .filter(messages::edited_at.is_null().or(messages::edited_at.le(at)))
                .set((
                    messages::text.eq(text.as_str()),
                    messages::edited_at.eq(at),
                    messages::mentions.eq(mentions_column(mentions)),
                ))
                .execute(conn)
                .await
        }
        Change::Deleted { by, .. } => {
            diesel::update(target)
                .filter(messages::deleted_at.is_null())
                .set((
                    messages::text.eq(""),
                    messages::card.eq(None::<String>),
                    messages::deleted_at.eq(now_millis()),
                    messages::deleted_by.eq(by.as_str()),
                ))
                .execute(conn)
                .await
        }
        Change::Reaction { .. } => return react(conn, change).await,
    }
    .map_err(map_err)?;
    if changed > 0 {
        return Ok(true);
    }
    let n = target
        .count()
        .get_result::<i64>(conn)
        .await
        .map_err(map_err)?;
    Ok(n > 0)
}

/// A reaction to an archived message that is not deleted; whether the
/// message is archived.
async fn react(conn: &mut AsyncPgConnection, change: &Change) -> Result<bool, StoreError> {
    let Change::Reaction {
        channel,
        id,
        emoji,
        user,
        on,
        at,
    } = change
    else {
        return Ok(false);
    };
    let target = messages::table
        .filter(messages::channel.eq(channel.as_str()))
        .filter(messages::id.eq(id));
    let deleted_at = target
        .select(messages::deleted_at)
        .first::<Option<i64>>(conn)
        .await
        .optional()
        .map_err(map_err)?;
    if deleted_at == Some(None) {
        diesel::update(target)
            .set(messages::reacted.eq(true))
            .execute(conn)
            .await
            .map_err(map_err)?;
        diesel::sql_query(reaction_upsert(false))
            .bind::<Text, _>(id)
            .bind::<Text, _>(channel.as_str())
            .bind::<Text, _>(emoji)
            .bind::<Text, _>(user)
            .bind::<Bool, _>(*on)
            .bind::<BigInt, _>(at.timestamp_millis())
            .execute(conn)
            .await
            .map_err(map_err)?;
    }
    Ok(deleted_at.is_some())
}

/// Puts their active reactions on `messages`.
async fn with_reactions(
    conn: &mut AsyncPgConnection,
    messages: &mut [Message],
) -> Result<(), StoreError> {
    if messages.is_empty() {
        return Ok(());
    }
    let rows = reactions::table
        .filter(reactions::message_id.eq_any(messages.iter().map(|m| m.id.as_str())))
        .filter(reactions::active)
        .order((reactions::changed_at, reactions::username))
        .select(ReactionRow::as_select())
        .load(conn)
        .await
        .map_err(map_err)?;
    attach_reactions(messages, rows);
    Ok(())
}
