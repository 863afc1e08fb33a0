-- An edited message keeps when it was last edited; a deleted one when it
-- was deleted (its text is then empty: the words are erased, not hidden).
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
