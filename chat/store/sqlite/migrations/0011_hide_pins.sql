-- Moderators hide messages and pin them (docs/moderation.md#hiding-messages).
--
-- events gets the kind 'hide' (a moderator's removal of a message: target_seq
-- is the message, sender_id is empty, body is empty) and the column hidden:
-- on a message row, the seq of the hide event that hid it, 0 while it is not
-- hidden. A hidden message is also deleted (body erased, deleted = 1), and
-- the edits of it are blanked, as for a delete.
--
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt
-- with the same columns, keys and indexes (nothing references it).
CREATE TABLE events_0011 (
    conv_id    TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL CHECK (seq > 0),
    kind       TEXT NOT NULL CHECK (kind IN ('message', 'edit', 'delete', 'hide')),
    sender_id  TEXT NOT NULL,
    client_id  TEXT,
    body       TEXT NOT NULL DEFAULT '',
    target_seq INTEGER,
    created_at INTEGER NOT NULL,
    edited_at  INTEGER,
    deleted    INTEGER NOT NULL DEFAULT 0,
    hidden     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conv_id, seq),
    CHECK ((kind = 'message') = (target_seq IS NULL))
) WITHOUT ROWID;
INSERT INTO events_0011
    (conv_id, seq, kind, sender_id, client_id, body, target_seq, created_at, edited_at, deleted)
    SELECT conv_id, seq, kind, sender_id, client_id, body, target_seq, created_at, edited_at, deleted
    FROM events;
DROP TABLE events;
ALTER TABLE events_0011 RENAME TO events;
CREATE UNIQUE INDEX events_client_id ON events (conv_id, sender_id, client_id)
    WHERE kind = 'message' AND client_id IS NOT NULL;
CREATE INDEX events_target ON events (conv_id, target_seq)
    WHERE target_seq IS NOT NULL;

-- A room's pinned messages: at most 50 per room (the server checks), gone
-- when the message is deleted or hidden. pinned_at is unix nanoseconds.
CREATE TABLE pins (
    conv_id   TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    pinned_by TEXT NOT NULL,
    pinned_at INTEGER NOT NULL,
    PRIMARY KEY (conv_id, seq)
) WITHOUT ROWID;
