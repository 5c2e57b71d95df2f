-- Blocks between users (docs/moderation.md#one-on-one-chats-and-blocking):
-- blocker blocks blocked since created_at (unix nanoseconds). A personal
-- safety setting, not moderation: nothing about it goes to the audit log.
-- The index on blocked answers "who blocks this user", read when a
-- session starts. (0011 to 0013 are left to changes made at the same
-- time; versions apply as a set.)
CREATE TABLE blocks (
    blocker    text NOT NULL,
    blocked    text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (blocker, blocked)
);
CREATE INDEX blocks_blocked ON blocks (blocked);
