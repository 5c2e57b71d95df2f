-- The conversations each user has written in, for the export and the
-- erasure of one user (docs/security.md#retention-and-erasure). It replaces
-- the index events_sender (sender_id, kind) of 0020, as in the SQLite
-- store, where that index took about a quarter of the CPU per message of
-- a commit spread over many rooms (BENCHMARKS.md, "What one index costs
-- the store"). The trigger writes a pair on a user's first event in a
-- conversation; later events find it and write nothing. Export and erasure
-- read each of the user's conversations by the primary key of events.
--
-- The trigger is made before the existing pairs are copied: creating it
-- locks events against other nodes' inserts until this migration commits,
-- so an event written during a rolling upgrade is either in the copy or
-- goes through the trigger. The copy skips events whose conversation is
-- gone (events has no foreign key here).
CREATE TABLE event_senders (
    user_id text NOT NULL,
    conv_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, conv_id)
);
CREATE FUNCTION event_senders_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.sender_id <> '' THEN
        INSERT INTO event_senders (user_id, conv_id) VALUES (NEW.sender_id, NEW.conv_id)
            ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER events_sender_pair AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION event_senders_add();
INSERT INTO event_senders (user_id, conv_id)
    SELECT DISTINCT e.sender_id, e.conv_id FROM events e JOIN conversations c ON c.id = e.conv_id
    WHERE e.sender_id <> ''
    ON CONFLICT DO NOTHING;
DROP INDEX events_sender;
