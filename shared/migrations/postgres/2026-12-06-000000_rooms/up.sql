-- What kind of room a channel is: 'public' (anyone may read it), 'private'
-- (its members only) or 'dm' (a conversation between two people).
ALTER TABLE channels ADD COLUMN kind TEXT NOT NULL DEFAULT 'public';
-- Who holds a role in a channel (usernames lower case): everyone in a
-- private channel or a DM; in a public channel its owner and moderators.
CREATE TABLE channel_members (
    channel TEXT NOT NULL,
    username TEXT NOT NULL,
    role TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (channel, username)
);
CREATE INDEX channel_members_username ON channel_members (username);
-- Who is banned from a public channel, until the ban is lifted.
CREATE TABLE channel_bans (
    channel TEXT NOT NULL,
    username TEXT NOT NULL,
    banned_by TEXT NOT NULL,
    banned_at BIGINT NOT NULL,
    PRIMARY KEY (channel, username)
);
CREATE INDEX channel_bans_username ON channel_bans (username);
-- Each channel created by a person is owned by them.
INSERT INTO channel_members (channel, username, role, added_by, added_at)
SELECT c.name, lower(c.created_by), 'owner', lower(c.created_by), c.created_at
FROM channels c JOIN users u ON lower(u.username) = lower(c.created_by);
