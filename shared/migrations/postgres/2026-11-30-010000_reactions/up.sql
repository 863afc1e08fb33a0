-- Reactions: one row per message, emoji and person; `active` false once taken
-- back. `changed_at` orders one person's changes to one emoji: the later wins.
CREATE TABLE reactions (
    message_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    emoji TEXT NOT NULL,
    username TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, emoji, username)
);
CREATE INDEX reactions_changed ON reactions (channel, changed_at);
-- Whether a message was ever reacted to: a history page reads reactions only
-- when one of its messages was.
ALTER TABLE messages ADD COLUMN reacted BOOLEAN NOT NULL DEFAULT FALSE;
