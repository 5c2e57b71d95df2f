-- Moderators hide messages and pin them (docs/moderation.md#hiding-messages).
--
-- events gets the kind 'hide' (a moderator's removal of a message: target_seq
-- is the message, sender_id is empty, body is empty) and the column hidden:
-- on a message row, the seq of the hide event that hid it, 0 while it is not
-- hidden. A hidden message is also deleted (body erased, deleted = true), and
-- the edits of it are blanked, as for a delete.
--
-- The kind check is replaced NOT VALID: every row already there met the old,
-- stricter check, so scanning the table to prove it would only hold the lock
-- longer; new rows are checked. The column's constant default adds it
-- without rewriting the table.
ALTER TABLE events DROP CONSTRAINT events_kind_check;
ALTER TABLE events ADD CONSTRAINT events_kind_check
    CHECK (kind IN ('message', 'edit', 'delete', 'hide')) NOT VALID;
ALTER TABLE events ADD COLUMN hidden bigint NOT NULL DEFAULT 0;

-- A room's pinned messages: at most 50 per room (the server checks), gone
-- when the message is deleted or hidden. pinned_at is unix nanoseconds.
CREATE TABLE pins (
    conv_id   text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq       bigint NOT NULL,
    pinned_by text NOT NULL,
    pinned_at bigint NOT NULL,
    PRIMARY KEY (conv_id, seq)
);
