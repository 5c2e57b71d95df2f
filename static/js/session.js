// The browser session: the sign-in token and the per-conversation marks
// (highest sequence received, unread count, highest sequence that was on
// screen: where "New since you left" goes) that let a reloaded tab resume.
// Everything lives in sessionStorage, which belongs to this tab only and
// ends with it; message text is never stored. Signing out clears it all.

const TOKEN = 'kindred.token';
const MARKS = 'kindred.marks';
const ACTIVE = 'kindred.active';
const VIEW = 'kindred.view';
const SOUND = 'kindred.sound';

// takeFromURL reads a sign-in link's token (#token=...) and an invite
// link's code (#invite=...) from the URL fragment, which browsers never
// send to servers, and removes them from the address bar and the tab's
// history entry at once.
export function takeFromURL() {
  const hash = location.hash.startsWith('#') ? location.hash.slice(1) : '';
  if (!hash) return { token: null, invite: null };
  const q = new URLSearchParams(hash);
  const token = q.get('token');
  const invite = q.get('invite');
  history.replaceState(null, '', location.pathname + location.search);
  return { token: token ? token.trim() : null, invite: invite ? invite.trim() : null };
}

// parseTokenInput accepts a whole sign-in link or a bare token.
export function parseTokenInput(text) {
  const s = text.trim();
  const i = s.indexOf('#');
  if (i >= 0) {
    const token = new URLSearchParams(s.slice(i + 1)).get('token');
    return token ? token.trim() : '';
  }
  return s;
}

// looksLikeToken checks the JWT shape only; the server decides validity.
export function looksLikeToken(s) {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(s);
}

function get(key) {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function set(key, value) {
  try {
    sessionStorage.setItem(key, value);
  } catch {
    // Storage full or disabled: the session still works in memory.
  }
}

export function loadToken() {
  return get(TOKEN);
}

export function saveToken(token) {
  set(TOKEN, token);
}

export function loadMarks() {
  try {
    const v = JSON.parse(get(MARKS) || '{}');
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

export function saveMarks(marks) {
  set(MARKS, JSON.stringify(marks));
}

export function loadActive() {
  return get(ACTIVE);
}

export function saveActive(id) {
  if (id) set(ACTIVE, id);
  else {
    try {
      sessionStorage.removeItem(ACTIVE);
    } catch {
      // ignore
    }
  }
}

// The supervisor's choices for this tab: which view is shown ("chat" or
// "dashboard") and whether sound alerts were switched on.
export function loadView() {
  return get(VIEW) === 'dashboard' ? 'dashboard' : 'chat';
}

export function saveView(view) {
  set(VIEW, view);
}

export function loadSound() {
  return get(SOUND) === 'on';
}

export function saveSound(on) {
  set(SOUND, on ? 'on' : 'off');
}

// clearSession forgets everything this tab kept.
export function clearSession() {
  try {
    sessionStorage.clear();
  } catch {
    // ignore
  }
}
