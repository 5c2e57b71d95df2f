-- Support notes (docs/protocol.md#support): the private note kept for a
-- person whose message (user_id, conv_id, seq) signalled a crisis, shown
-- on every session of theirs until they dismiss it. It holds no message
-- text: only where the message is and how far the crisis path got (state:
-- pending, told, unreached, seen). Times are unix nanoseconds;
-- dismissed_at is 0 while the note is shown. seq is 0 for a message held
-- back from its room. The partial index answers a session's hello: the
-- notes its user has not dismissed, oldest first.
CREATE TABLE support_notes (
    id           text PRIMARY KEY,
    user_id      text NOT NULL,
    conv_id      text NOT NULL,
    seq          bigint NOT NULL,
    state        text NOT NULL,
    created_at   bigint NOT NULL,
    updated_at   bigint NOT NULL,
    dismissed_at bigint NOT NULL DEFAULT 0,
    UNIQUE (user_id, conv_id, seq)
);
CREATE INDEX support_notes_shown ON support_notes (user_id, created_at) WHERE dismissed_at = 0;
