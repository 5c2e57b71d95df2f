-- Room moderation. A membership's mute: until when (unix nanoseconds) the
-- member may not send or edit in the room; 0 when not muted, the largest
-- int64 until a moderator lifts it.
ALTER TABLE members ADD COLUMN muted_until INTEGER NOT NULL DEFAULT 0;

-- Bans: who may not join (or be added to) a room, until when (unix
-- nanoseconds; the largest int64 for good). The reason is in the audit log.
CREATE TABLE room_bans (
    conv_id   TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    until     INTEGER NOT NULL,
    banned_by TEXT NOT NULL DEFAULT '',
    banned_at INTEGER NOT NULL,
    PRIMARY KEY (conv_id, user_id)
);

-- A mute outlives the membership it was set on: Leave keeps one still in
-- force here and the next Join of the same user takes it back, so that
-- leaving and joining again does not lift it.
CREATE TABLE kept_mutes (
    conv_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    until   INTEGER NOT NULL,
    PRIMARY KEY (conv_id, user_id)
);
