//! The diesel schema, shared by the SQLite and PostgreSQL stores.
//! Times are milliseconds since the Unix epoch in both.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    channels (id) {
        id -> BigInt,
        name -> Text,
        created_by -> Text,
        created_at -> BigInt,
        kind -> Text,
        closed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        channel -> Text,
        username -> Text,
        text -> Text,
        bot -> Bool,
        ts -> BigInt,
        kind -> Nullable<Text>,
        dedupe_key -> Nullable<Text>,
        reply_to -> Nullable<Text>,
        edited_at -> Nullable<BigInt>,
        deleted_at -> Nullable<BigInt>,
        deleted_by -> Nullable<Text>,
        mentions -> Nullable<Text>,
        reacted -> Bool,
        card -> Nullable<Text>,
    }
}

diesel::table! {
    reactions (message_id, emoji, username) {
        message_id -> Text,
        channel -> Text,
        emoji -> Text,
        username -> Text,
        active -> Bool,
        changed_at -> BigInt,
    }
}

diesel::table! {
    read_markers (username, channel) {
        username -> Text,
        channel -> Text,
        last_read -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    channel_members (channel, username) {
        channel -> Text,
        username -> Text,
        role -> Text,
        added_by -> Text,
        added_at -> BigInt,
    }
}

diesel::table! {
    channel_bans (channel, username) {
        channel -> Text,
        username -> Text,
        banned_by -> Text,
        banned_at -> BigInt,
    }
}

diesel::table! {
    sessions (sid) {
        sid -> Text,
        username -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    users,
    channels,
    messages,
    sessions,
    channel_members,
    channel_bans
);

diesel::define_sql_function! {
    /// SQL `lower()`, for case-insensitive usernames.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}
