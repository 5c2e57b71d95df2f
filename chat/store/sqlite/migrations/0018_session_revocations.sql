-- Session revocations (docs/protocol.md#revoking-sessions): a user's
-- session generation, bumped each time an admin revokes every session of
-- theirs, and when that last happened (revoked_at, unix nanoseconds). A
-- token issued (iat) at or before revoked_at is refused at connect, and
-- open sessions are told to close. No row: never revoked.
CREATE TABLE session_revocations (
    user_id    TEXT PRIMARY KEY,
    generation INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL
);
