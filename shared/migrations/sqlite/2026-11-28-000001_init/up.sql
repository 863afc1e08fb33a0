CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_username_ci ON users (lower(username));

CREATE TABLE channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO channels (name, created_by, created_at)
VALUES ('general', 'system', CAST(strftime('%s', 'now') AS BIGINT) * 1000);

CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    channel TEXT NOT NULL,
    username TEXT NOT NULL,
    text TEXT NOT NULL,
    bot BOOLEAN NOT NULL DEFAULT FALSE,
    ts BIGINT NOT NULL
);
CREATE INDEX messages_channel_id ON messages (channel, id DESC);
