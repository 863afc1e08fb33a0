-- The people a message mentions (`@name` of existing users), lower case,
-- as ",alice,bob," so that one LIKE finds a person; NULL when none.
ALTER TABLE messages ADD COLUMN mentions TEXT;
-- How far each person has read each channel: the id of the last message read.
CREATE TABLE read_markers (
    username TEXT NOT NULL,
    channel TEXT NOT NULL,
    last_read TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (username, channel)
);
