-- Operator and system posts are marked (NULL for people and the bot).
ALTER TABLE messages ADD COLUMN kind TEXT;
