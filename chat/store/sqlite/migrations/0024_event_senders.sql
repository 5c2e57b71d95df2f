-- The conversations each user has written in, for the export and the
-- erasure of one user (docs/security.md#retention-and-erasure). It replaces
-- the index events_sender (sender_id, kind) of 0020: under scattered
-- commits (each message of a batch in its own room) that index dirtied a
-- leaf per message, spread by sender, and took about a quarter of the
-- store's CPU per message (BENCHMARKS.md, "What one index costs the
-- store"). The trigger writes a pair on a user's first event in a
-- conversation; later events find it and write nothing. Export and erasure
-- read each of the user's conversations by the primary key of events.
--
-- A migration that rebuilds events (as 0011 did) drops this trigger with
-- the old table: it must create it again.
CREATE TABLE event_senders (
    user_id TEXT NOT NULL,
    conv_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, conv_id)
) WITHOUT ROWID;
CREATE TRIGGER events_sender_pair AFTER INSERT ON events WHEN NEW.sender_id <> ''
BEGIN
    INSERT OR IGNORE INTO event_senders (user_id, conv_id) VALUES (NEW.sender_id, NEW.conv_id);
END;
INSERT OR IGNORE INTO event_senders (user_id, conv_id)
    SELECT DISTINCT e.sender_id, e.conv_id FROM events e JOIN conversations c ON c.id = e.conv_id
    WHERE e.sender_id <> '';
DROP INDEX events_sender;
