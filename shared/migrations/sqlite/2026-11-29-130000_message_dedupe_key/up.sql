-- A client's retry of a send is stored once: the key names the sender and
-- the send's client id (`ref`), and a message with a key already stored is
-- the earlier one.
ALTER TABLE messages ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX messages_dedupe_key ON messages (dedupe_key);
