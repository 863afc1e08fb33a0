ALTER TABLE messages DROP COLUMN reacted;
DROP TABLE reactions;
