-- When an operator closed a channel (ms since the epoch): members still join
-- and read it, but nobody posts there until it is reopened (NULL).
ALTER TABLE channels ADD COLUMN closed_at BIGINT;
