-- Room moderation. A membership's mute: until when (unix nanoseconds) the
-- member may not send or edit in the room; 0 when not muted, the largest
-- bigint until a moderator lifts it. A constant default adds the column
-- without rewriting the table.
ALTER TABLE members ADD COLUMN muted_until bigint NOT NULL DEFAULT 0;

-- Bans: who may not join (or be added to) a room, until when (unix
-- nanoseconds; the largest bigint for good). The reason is in the audit log.
CREATE TABLE room_bans (
    conv_id   text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id   text NOT NULL,
    until     bigint NOT NULL,
    banned_by text NOT NULL DEFAULT '',
    banned_at bigint NOT NULL,
    PRIMARY KEY (conv_id, user_id)
);

-- A mute outlives the membership it was set on: Leave keeps one still in
-- force here and the next Join of the same user takes it back, so that
-- leaving and joining again does not lift it.
CREATE TABLE kept_mutes (
    conv_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id text NOT NULL,
    until   bigint NOT NULL,
    PRIMARY KEY (conv_id, user_id)
);
