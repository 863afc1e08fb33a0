DROP TABLE channel_bans;
DROP TABLE channel_members;
ALTER TABLE channels DROP COLUMN kind;
