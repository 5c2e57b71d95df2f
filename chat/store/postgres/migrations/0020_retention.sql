-- Retention, legal holds and erasure (docs/security.md#retention-and-erasure).
--
-- retain_days: how many days a room keeps its messages (0: as the
-- deployment does, --retain-messages). The purge removes older entries
-- from the start of the log; purged_seq is how far it went: clients read
-- nothing at or below it (entries kept there by a legal hold included).
ALTER TABLE conversations ADD COLUMN retain_days integer NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN purged_seq bigint NOT NULL DEFAULT 0;

-- Legal holds set by admins: while one stands, the purge and erasures keep
-- what it covers (kind 'user': the messages the user sent and their
-- personal data; 'room': the room's whole log). Times are unix nanoseconds.
CREATE TABLE legal_holds (
    kind    text NOT NULL CHECK (kind IN ('user', 'room')),
    subject text NOT NULL,
    reason  text NOT NULL DEFAULT '',
    set_by  text NOT NULL,
    set_at  bigint NOT NULL,
    PRIMARY KEY (kind, subject)
);

-- Leases of jobs that one node at a time runs (the purge): owner holds
-- job name until until_at (unix nanoseconds, the nodes' clocks).
CREATE TABLE job_leases (
    name     text PRIMARY KEY,
    owner    text NOT NULL,
    until_at bigint NOT NULL
);

-- A user's messages and edits, for the export and the erasure of one user.
CREATE INDEX events_sender ON events (sender_id, kind);
