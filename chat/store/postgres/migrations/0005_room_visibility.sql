-- Room settings (chat.RoomSettings): who can find and join a room
-- (visibility) and how much of its log members read (history). Rooms made
-- before them stay as they were, public with shared history; the store
-- writes both explicitly for new rooms (public and joined by default). DMs
-- keep the column defaults, which nothing reads. Constant defaults add the
-- columns without rewriting the tables.
ALTER TABLE conversations ADD COLUMN visibility text NOT NULL DEFAULT 'public'
    CHECK (visibility IN ('public', 'private'));
ALTER TABLE conversations ADD COLUMN history text NOT NULL DEFAULT 'shared'
    CHECK (history IN ('joined', 'shared'));

-- Where each member joined: the room's last_seq at the join. With history
-- 'joined' a member reads only events after it. Memberships older than
-- this column start at 0 (their rooms share their history anyway).
ALTER TABLE members ADD COLUMN joined_seq bigint NOT NULL DEFAULT 0
    CHECK (joined_seq >= 0);
