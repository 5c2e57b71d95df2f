// Human text for the error codes of docs/protocol.md (chat/errors.go), and
// for the two situations the client detects itself: being offline and a
// request that got no answer. The client branches on codes only; the
// server's own message is shown only where it is written for people and
// no better sentence exists here.

function seconds(ms) {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s === 1 ? '1 second' : `${s} seconds`;
}

function sentence(s) {
  if (!s) return '';
  const t = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

// describe returns the sentence to show for error e ({code, message,
// retry_after_ms}). limits are the server's limits from the welcome frame.
export function describe(e, limits = null) {
  if (e && e.detail) e = e.detail; // an ApiError
  const code = (e && e.code) || 'internal';
  switch (code) {
    case 'rate_limited':
      return e.retry_after_ms
        ? `You’re sending messages faster than Kindred allows. You can send again in ${seconds(e.retry_after_ms)}; your message will go then.`
        : 'You’re sending messages faster than Kindred allows. Please wait a moment.';
    case 'message_too_long': {
      const max = limits && limits.max_message_bytes;
      return max
        ? `This message is too long to send (the limit is ${max.toLocaleString()} bytes, about ${max.toLocaleString()} letters). Please shorten it or send it in parts.`
        : 'This message is too long to send. Please shorten it or send it in parts.';
    }
    case 'frame_too_large':
      return 'That was too large to send. Please shorten it.';
    case 'not_member':
      return 'You’re not a member of this conversation any more, so you can’t post or read here. Join the group again to take part.';
    case 'forbidden':
      return 'Your role doesn’t allow that. If you think it should, please ask a facilitator.';
    case 'room_limit': {
      const max = limits && limits.max_rooms;
      return max
        ? `You’ve joined the most groups you can (${max}). Leave a group before joining another.`
        : 'You’ve joined the most groups you can. Leave a group before joining another.';
    }
    case 'not_found':
      return 'That conversation, message or person no longer exists, or the link was mistyped.';
    case 'not_author':
      return 'You can only change your own messages.';
    case 'conflict':
      return 'That message was already deleted.';
    case 'unavailable':
      return 'Kindred couldn’t save that just now. It will try again shortly.';
    case 'shutting_down':
      return 'The server is restarting. Kindred will reconnect and send your message.';
    case 'internal':
      return 'Something went wrong on the server. Please try again.';
    case 'token_expired':
      return 'Your sign-in has expired. Please open a new sign-in link.';
    case 'token_revoked':
      return 'An administrator ended your sessions. Please sign in again.';
    case 'token_invalid':
      return 'That sign-in link didn’t work. It may be mistyped or out of date; please ask for a new one.';
    case 'auth_required':
      return 'Please sign in to continue.';
    case 'origin_forbidden':
      return 'This page isn’t allowed to connect to the Kindred server. Please use the address you were given.';
    case 'invalid_field':
      return e.message ? sentence(e.message) : 'Some of what was sent isn’t valid.';
    case 'missing_field':
    case 'bad_json':
    case 'unknown_type':
      return 'Kindred couldn’t understand that request. Reloading the page may help.';
    case 'already_authenticated':
      return '';
    case 'muted':
      return 'A moderator muted you in this group, so you can’t post here for now. You can still read, and flag or report messages.';
    case 'read_only':
      return 'This group is read-only for now: only its facilitators post here.';
    case 'guidelines_required':
      return 'Please read and accept this group’s guidelines before you post.';
    case 'slow_mode':
      return e.retry_after_ms
        ? `This group is in slow mode. Your message will be sent in ${seconds(e.retry_after_ms)}.`
        : 'This group is in slow mode. Please wait a moment before your next message.';
    case 'banned':
      return e.message ? `You can’t join this group: ${sentence(e.message).replace(/^./, (c) => c.toLowerCase())}` : 'A moderator banned you from this group.';
    case 'invite_invalid':
      return e.message ? `This invite link no longer works: ${sentence(e.message).replace(/^./, (c) => c.toLowerCase())} Please ask for a new one.` : 'This invite link no longer works. Please ask for a new one.';
    case 'room_locked':
      return 'This group isn’t taking new members right now. A moderator can add you.';
    case 'room_full':
      return 'This group is full right now. A moderator can tell you when there is room.';
    case 'blocked':
      return 'You can’t message this person.';
    case 'dm_not_allowed':
      return 'You can’t start a one-on-one chat with this person. You can talk with people who share a group with you, and with staff.';
    case 'offline':
      return 'You’re offline right now. Please try again when you’re connected.';
    case 'timeout':
      return 'The server didn’t answer in time. Please try again.';
    default:
      return e.message ? sentence(e.message) : 'Something went wrong. Please try again.';
  }
}

// isTemporary reports whether trying the same thing later may succeed.
export function isTemporary(e) {
  if (e && e.detail) e = e.detail;
  return Boolean(e && (e.temporary || e.code === 'rate_limited' || e.code === 'unavailable' ||
    e.code === 'shutting_down' || e.code === 'offline' || e.code === 'timeout'));
}
