-- A reply names the message it answers (in the same channel); NULL otherwise.
ALTER TABLE messages ADD COLUMN reply_to TEXT;
