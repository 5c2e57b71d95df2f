-- Invite links to a room. The code is a random 128-bit token (base32),
-- unguessable, looked up here; nothing is signed. A use is counted in the
-- same statement that checks the invite is still good, so concurrent
-- accepts never pass max_uses. Times are unix nanoseconds; revoked_at is 0
-- while the invite stands.
CREATE TABLE room_invites (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    conv_id    TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_uses   INTEGER NOT NULL,
    uses       INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX room_invites_conv ON room_invites (conv_id, created_at);
