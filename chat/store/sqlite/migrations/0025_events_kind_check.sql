-- events.kind is checked by comparisons instead of an IN list. SQLite
-- evaluates an IN list of more than two constants through a temporary
-- b-tree: for every inserted event it opened one with a page cache of its
-- own, filled it with the four kinds, probed it and freed it again: one of
-- the two page-cache truncations on the committer (BENCHMARKS.md, "The
-- page-cache truncation explained"). The kinds allowed are the same.
--
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt
-- as in 0011, with the same columns, keys and indexes, and the trigger of
-- 0024 (dropped with the old table) is created again. Nothing references
-- events.
CREATE TABLE events_0025 (
    conv_id    TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL CHECK (seq > 0),
    kind       TEXT NOT NULL CHECK (kind = 'message' OR kind = 'edit' OR kind = 'delete' OR kind = 'hide'),
    sender_id  TEXT NOT NULL,
    client_id  TEXT,
    body       TEXT NOT NULL DEFAULT '',
    target_seq INTEGER,
    created_at INTEGER NOT NULL,
    edited_at  INTEGER,
    deleted    INTEGER NOT NULL DEFAULT 0,
    hidden     INTEGER NOT NULL DEFAULT 0,
    key_id     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (conv_id, seq),
    CHECK ((kind = 'message') = (target_seq IS NULL))
) WITHOUT ROWID;
INSERT INTO events_0025
    (conv_id, seq, kind, sender_id, client_id, body, target_seq, created_at, edited_at, deleted, hidden, key_id)
    SELECT conv_id, seq, kind, sender_id, client_id, body, target_seq, created_at, edited_at, deleted, hidden, key_id
    FROM events;
DROP TABLE events;
ALTER TABLE events_0025 RENAME TO events;
CREATE UNIQUE INDEX events_client_id ON events (conv_id, sender_id, client_id)
    WHERE kind = 'message' AND client_id IS NOT NULL;
CREATE INDEX events_target ON events (conv_id, target_seq)
    WHERE target_seq IS NOT NULL;
CREATE TRIGGER events_sender_pair AFTER INSERT ON events WHEN NEW.sender_id <> ''
BEGIN
    INSERT OR IGNORE INTO event_senders (user_id, conv_id) VALUES (NEW.sender_id, NEW.conv_id);
END;
