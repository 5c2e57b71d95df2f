-- Room roles (chat.RoomRole). Every membership has one: 'owner' for the
-- room's creator, 'moderator' for those the owner (or staff) named,
-- 'member' for everyone else, both sides of a DM included.
ALTER TABLE members ADD COLUMN role TEXT NOT NULL DEFAULT 'member'
    CHECK (role IN ('owner', 'moderator', 'member'));

-- Rooms created before roles existed: their creator owns them, if still a
-- member (a creator who left stays out; a later Join makes them a member).
UPDATE members SET role = 'owner'
WHERE EXISTS (SELECT 1 FROM conversations c
              WHERE c.id = members.conv_id AND c.kind = 'room' AND c.created_by = members.user_id);
