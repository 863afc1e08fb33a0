DROP TABLE read_markers;
ALTER TABLE messages DROP COLUMN mentions;
