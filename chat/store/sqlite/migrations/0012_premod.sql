-- Pre-moderation (docs/moderation.md#pre-moderation). premod_messages: how
-- many of a plain member's first messages wait for a moderator (0: off);
-- a membership's approved_messages counts those approved (a new
-- membership starts at 0). pending_messages holds the messages waiting:
-- one per send (conversation, sender, client id); state is pending,
-- approving (claimed by an approval, being appended), approved or
-- rejected, and a decided row keeps no body. Times are unix nanoseconds.
-- (0011 and 0013 are left to changes made at the same time; versions
-- apply as a set.)
ALTER TABLE conversations ADD COLUMN premod_messages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN approved_messages INTEGER NOT NULL DEFAULT 0;
CREATE TABLE pending_messages (
    id         TEXT PRIMARY KEY,
    conv_id    TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    sender_id  TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    client_id  TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'approving', 'approved', 'rejected')),
    decided_at INTEGER NOT NULL DEFAULT 0,
    UNIQUE (conv_id, sender_id, client_id)
);
-- The moderators' queue: a room's undecided messages, oldest first.
CREATE INDEX pending_messages_queue ON pending_messages (conv_id, created_at)
    WHERE state IN ('pending', 'approving');
