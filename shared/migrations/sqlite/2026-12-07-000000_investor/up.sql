-- A bot's structured reply (quote, chart, watchlist) as JSON; NULL for most.
ALTER TABLE messages ADD COLUMN card TEXT;

-- Price alerts: pending until fired_at is set. A bot claims one before it
-- posts (claimed_at, and the message it will post, fixed at the first claim),
-- so that however many bots check, each alert is posted once: a claim left
-- by a bot that died is taken over after a lease and the same message (same
-- id) is posted again, which the stream and the archive keep once.
CREATE TABLE price_alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    channel TEXT NOT NULL,
    code TEXT NOT NULL,
    above BOOLEAN NOT NULL,
    price DOUBLE NOT NULL,
    created_at BIGINT NOT NULL,
    claimed_at BIGINT,
    message_id TEXT,
    message TEXT,
    fired_at BIGINT
);
CREATE INDEX price_alerts_pending ON price_alerts (code) WHERE fired_at IS NULL;
CREATE INDEX price_alerts_owner ON price_alerts (username, channel) WHERE fired_at IS NULL;

-- Each channel's watchlist (at most 10 codes).
CREATE TABLE watchlists (
    channel TEXT NOT NULL,
    code TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (channel, code)
);
