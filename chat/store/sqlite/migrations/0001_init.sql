-- Initial schema. All times are unix nanoseconds (UTC) in INTEGER columns:
-- they sort and compare as numbers and round-trip time.Time exactly.

-- Users are identities seen in tokens. Nothing else references this table
-- with a foreign key: a DM may be opened with, or a message attributed to, a
-- user who has not connected to this server yet.
CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    role       TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);

-- A conversation is a room or a DM. last_seq is the newest sequence number of
-- its event log; Append reads and bumps it inside the write transaction, which
-- is what keeps the numbering gap-free. dm_key ("<a>\x00<b>", IDs sorted) is
-- set only for DMs and is unique, so the pair has exactly one conversation
-- however many OpenDM calls race.
CREATE TABLE conversations (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('room', 'dm')),
    name       TEXT NOT NULL DEFAULT '',
    topic      TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    dm_key     TEXT UNIQUE,
    CHECK ((kind = 'dm') = (dm_key IS NOT NULL))
);
CREATE INDEX conversations_kind_created ON conversations (kind, created_at);

CREATE TABLE members (
    conv_id   TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (conv_id, user_id)
);
-- UserConversations and the room-limit count look members up by user.
CREATE INDEX members_user ON members (user_id);

-- The event log. WITHOUT ROWID clusters rows by (conv_id, seq), so History
-- and EventsAfter are range scans over adjacent pages.
--
-- A message row holds the message's current state (body after the latest
-- edit, edited_at, deleted); edit and delete rows point at it via target_seq
-- and carry their own body. client_id is NULL when the sender gave none, so
-- such messages are never mistaken for duplicates of each other.
CREATE TABLE events (
    conv_id    TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL CHECK (seq > 0),
    kind       TEXT NOT NULL CHECK (kind IN ('message', 'edit', 'delete')),
    sender_id  TEXT NOT NULL,
    client_id  TEXT,
    body       TEXT NOT NULL DEFAULT '',
    target_seq INTEGER,
    created_at INTEGER NOT NULL,
    edited_at  INTEGER,
    deleted    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conv_id, seq),
    CHECK ((kind = 'message') = (target_seq IS NULL))
) WITHOUT ROWID;

-- Idempotent sends: one message per (conversation, sender, client id).
CREATE UNIQUE INDEX events_client_id ON events (conv_id, sender_id, client_id)
    WHERE kind = 'message' AND client_id IS NOT NULL;

-- Deleting a message also blanks the edits that targeted it.
CREATE INDEX events_target ON events (conv_id, target_seq)
    WHERE target_seq IS NOT NULL;
