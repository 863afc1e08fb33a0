DROP INDEX messages_dedupe_key;
ALTER TABLE messages DROP COLUMN dedupe_key;
