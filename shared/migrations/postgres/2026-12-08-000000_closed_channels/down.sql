ALTER TABLE channels DROP COLUMN closed_at;
