-- Members' reports of a message or a person in a room, queued for the
-- room's moderators. A report points at the message (conv_id, seq; 0 for
-- a report about a person) and never copies its text. reason is the
-- reporter's words (moderators read it; the audit log does not copy it).
-- status is 'open' until a moderator resolves it, once, with an outcome
-- and a note. Times are unix nanoseconds; resolved_at is 0 while open.
CREATE TABLE reports (
    id          TEXT PRIMARY KEY,
    conv_id     TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL DEFAULT 0,
    reported    TEXT NOT NULL,
    reporter    TEXT NOT NULL,
    category    TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'open',
    outcome     TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    resolved_by TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    resolved_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reports_conv ON reports (conv_id, status, created_at);
CREATE INDEX reports_status ON reports (status, created_at);
