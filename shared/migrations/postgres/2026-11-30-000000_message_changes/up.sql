-- An edited message keeps when it was last edited; a deleted one when and
-- by whom it was deleted (its text is then empty: the words are erased, not
-- hidden).
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted_by TEXT;
-- What changed since a time, for a client catching up.
CREATE INDEX messages_edited ON messages (channel, edited_at) WHERE edited_at IS NOT NULL;
CREATE INDEX messages_deleted ON messages (channel, deleted_at) WHERE deleted_at IS NOT NULL;
