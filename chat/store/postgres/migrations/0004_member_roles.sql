-- Room roles (chat.RoomRole). Every membership has one: 'owner' for the
-- room's creator, 'moderator' for those the owner (or staff) named,
-- 'member' for everyone else, both sides of a DM included. A constant
-- default adds the column without rewriting the table.
ALTER TABLE members ADD COLUMN role text NOT NULL DEFAULT 'member'
    CHECK (role IN ('owner', 'moderator', 'member'));

-- Rooms created before roles existed: their creator owns them, if still a
-- member (a creator who left stays out; a later Join makes them a member).
UPDATE members m SET role = 'owner'
FROM conversations c
WHERE c.id = m.conv_id AND c.kind = 'room' AND c.created_by = m.user_id;
