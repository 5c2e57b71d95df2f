// The words for video: the video error codes of docs/protocol.md ("Video
// errors"), the reasons a session ends for someone, and the connection's
// states. Other codes fall back to the client's usual sentences.

import { describe } from '../errors.js';

const ERRORS = {
  video_unavailable: 'Video isn’t available on this server.',
  video_not_member: 'Only members of this conversation can take part in its video session.',
  video_no_session: 'That video session has ended.',
  video_not_allowed: 'That isn’t possible in this video session right now.',
  video_not_admitted: 'You aren’t in this video session yet.',
  video_full: 'The video session is full. You can try again when someone leaves.',
  video_bad_sdp: 'Your browser and the server couldn’t agree on how to send the video. Reloading the page may help.',
  video_bad_candidate: 'Your browser and the server couldn’t agree on how to connect. Reloading the page may help.',
  video_too_many_tracks: 'You’re sending more video than a session allows. Stop sharing your screen and try again.',
  video_unsupported_codec: 'Your browser offers no audio or video format the server can pass on. Another browser may work.',
  forbidden: 'Your role doesn’t allow that in this video session.',
};

// explain says why a video request was refused; starting is the
// video_start request, where video_not_allowed has one meaning.
export function explain(e, limits, starting = false) {
  const code = e && e.code;
  if (starting && code === 'video_not_allowed') return 'A video session is already live in this conversation. Join it from the banner.';
  return ERRORS[code] || describe(e, limits);
}

const ENDED = {
  host_ended: 'The host ended the video session.',
  empty: 'The video session ended: everyone had left.',
  node_shutdown: 'The video session ended because the server is restarting. A host can start a new one once Kindred has reconnected.',
};

const DENIED = {
  host_denied: 'The host didn’t let you in this time.',
  session_ended: 'The video session ended before you were let in.',
};

const REMOVED = {
  host_removed: 'A host removed you from the video session.',
  replaced: 'You joined this video session from another tab or device, so it ended here.',
};

// reason words a video_ended, video_denied or video_removed frame.
export function reason(f) {
  const table = f.type === 'video_denied' ? DENIED : f.type === 'video_removed' ? REMOVED : ENDED;
  return table[f.reason] || 'The video session ended.';
}

export const CALL_STATE = {
  connecting: 'Connecting the video…',
  connected: '',
  poor: 'Poor connection: the video may freeze or lag.',
  reconnecting: 'The connection was lost. Reconnecting the video…',
};

export const MEDIA_PROBLEM = {
  denied: 'Kindred isn’t allowed to use your camera and microphone. You can allow them in your browser’s site settings and try again, or join to watch and listen only.',
  unsupported: 'This browser can’t use a camera or microphone on this page. You can join to watch and listen only.',
};

export const MEDIA_NOTE = {
  audio: 'No camera was found, so you joined with your microphone only.',
  watch: 'No camera or microphone was found, so you joined to watch and listen only.',
};
