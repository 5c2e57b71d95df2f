-- Invite links to a room. The code is a random 128-bit token (base32),
-- unguessable, looked up here; nothing is signed. A use is counted in the
-- same statement that checks the invite is still good, so concurrent
-- accepts never pass max_uses. Times are unix nanoseconds; revoked_at is 0
-- while the invite stands.
CREATE TABLE room_invites (
    id         text PRIMARY KEY,
    code       text NOT NULL UNIQUE,
    conv_id    text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    created_by text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    max_uses   integer NOT NULL,
    uses       integer NOT NULL DEFAULT 0,
    revoked_at bigint NOT NULL DEFAULT 0
);
CREATE INDEX room_invites_conv ON room_invites (conv_id, created_at);
