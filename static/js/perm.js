// What the signed-in person may do in a conversation, so that menus offer
// only that. It mirrors the permission table (docs/permissions.md) and the
// rules beside it (docs/moderation.md); the server checks every action
// again, so a stale answer here only shows a button that is refused.

const STAFF = new Set(['supervisor', 'admin']);
const MODERATORS = new Set(['owner', 'moderator']);

export function isStaff(me) {
  return Boolean(me && STAFF.has(me.role));
}

function roomRole(conv) {
  return (conv && conv.role) || '';
}

// moderates: `moderate` and `manage_invites` (mute, remove, ban, hide,
// pin, invite links, the report and approval queues): the room's owner and
// moderators of any global role, and supervisors and admins anywhere.
export function moderates(me, conv) {
  if (!me || !conv || conv.kind !== 'room') return false;
  return isStaff(me) || MODERATORS.has(roomRole(conv));
}

// setsSettings: `set_room_settings`, never a peer.
export function setsSettings(me, conv) {
  if (!moderates(me, conv)) return false;
  return me.role !== 'peer';
}

// namesModerators: `set_member_role`: a specialist who owns the room,
// supervisors and admins.
export function namesModerators(me, conv) {
  if (!me || !conv || conv.kind !== 'room') return false;
  if (isStaff(me)) return true;
  return me.role === 'specialist' && roomRole(conv) === 'owner';
}

// exempt: bound by neither read-only, slow mode, guidelines nor
// pre-moderation.
export function exempt(me, conv) {
  return moderates(me, conv);
}

// mayActOn applies the rules beside the table to member m (from the member
// list: role is the global role, room_role the role in the room) for
// muting, removing and banning (kind 'moderate') or naming (kind 'role').
export function mayActOn(me, conv, m, kind) {
  if (!me || !m || m.id === me.id) return false;
  const staff = isStaff(me);
  if (m.room_role === 'owner' && (kind === 'role' || !staff)) return false;
  if (kind === 'moderate' && STAFF.has(m.role)) return false;
  if (m.room_role === 'moderator' && !staff && roomRole(conv) !== 'owner') return false;
  return kind === 'role' ? namesModerators(me, conv) : moderates(me, conv);
}
