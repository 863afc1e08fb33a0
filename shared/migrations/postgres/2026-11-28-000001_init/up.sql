CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_username_ci ON users (lower(username));

CREATE TABLE channels (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO channels (name, created_by, created_at)
VALUES ('general', 'system', (extract(epoch FROM now()) * 1000)::BIGINT);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    username TEXT NOT NULL,
    text TEXT NOT NULL,
    bot BOOLEAN NOT NULL DEFAULT FALSE,
    ts BIGINT NOT NULL
);
CREATE INDEX messages_channel_id ON messages (channel, id DESC);
