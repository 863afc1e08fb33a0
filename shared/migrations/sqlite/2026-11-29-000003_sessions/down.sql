DROP TABLE sessions;
CREATE TABLE revoked_sessions (
    sid TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_sessions_expires ON revoked_sessions (expires_at);
