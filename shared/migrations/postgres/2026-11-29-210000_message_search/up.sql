-- Full-text search over message text: whole words, case-insensitive (the
-- 'simple' configuration: no stemming, no stop words), kept current by
-- PostgreSQL itself (a generated column) and indexed with GIN.
ALTER TABLE messages
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
