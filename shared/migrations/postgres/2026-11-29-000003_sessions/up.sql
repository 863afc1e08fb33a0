-- Login sessions live on the server: a cookie is honoured only while its
-- session row exists and has not expired. Logout deletes the row, so a
-- logged-out cookie can never work again.
DROP TABLE revoked_sessions;
CREATE TABLE sessions (
    sid TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_username ON sessions (username);
CREATE INDEX sessions_expires ON sessions (expires_at);
