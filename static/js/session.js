// The browser session: the sign-in token and the per-conversation marks
// (highest sequence received, unread count, highest sequence that was on
// screen: where "New since you left" goes) that let a reloaded tab resume.
// Everything lives in sessionStorage, which belongs to this tab only and
// ends with it; message text is never stored. Signing out clears it all.
//
// A token comes either from a sign-in link of another system (#token=…,
// kept until it expires) or from Kindred's own sign-in (kind "browser"):
// a short-lived access token renewed with the HttpOnly refresh cookie
// (refresh.js), whose expiry is kept beside it.

const TOKEN = 'kindred.token';
const KIND = 'kindred.kind';
const EXPIRY = 'kindred.expiry';
const MARKS = 'kindred.marks';
const ACTIVE = 'kindred.active';
const VIEW = 'kindred.view';
const SOUND = 'kindred.sound';

// takeFromURL reads from the URL fragment, which browsers never send to
// servers: a sign-in link's token (#token=...), an emailed sign-in link's
// secret (#link=...), an invite link's code (#invite=...) and why a
// sign-in failed (#signin_error=..., from the server's redirect). It
// removes them from the address bar and the tab's history entry at once.
export function takeFromURL() {
  const hash = location.hash.startsWith('#') ? location.hash.slice(1) : '';
  const none = { token: null, invite: null, link: null, signinError: null };
  if (!hash) return none;
  const q = new URLSearchParams(hash);
  const get = (name) => {
    const v = q.get(name);
    return v && v.trim() ? v.trim() : null;
  };
  history.replaceState(null, '', location.pathname + location.search);
  return { token: get('token'), invite: get('invite'), link: get('link'), signinError: get('signin_error') };
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

// parseLinkInput returns the secret of an emailed sign-in link pasted
// whole (…/#link=…), or ''.
export function parseLinkInput(text) {
  const s = text.trim();
  const i = s.indexOf('#');
  if (i < 0) return '';
  const link = new URLSearchParams(s.slice(i + 1)).get('link');
  return link ? link.trim() : '';
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

// loadKind says where the stored token came from: "browser" (Kindred's
// own sign-in, renewed with the refresh cookie) or "token" (a link).
export function loadKind() {
  return get(KIND) === 'browser' ? 'browser' : 'token';
}

export function saveKind(kind) {
  set(KIND, kind);
}

// The access token's expiry on this device's clock ({at, life} in ms).
export function loadExpiry() {
  try {
    const v = JSON.parse(get(EXPIRY) || 'null');
    return v && Number.isFinite(v.at) && Number.isFinite(v.life) ? v : null;
  } catch {
    return null;
  }
}

export function saveExpiry(expiry) {
  set(EXPIRY, JSON.stringify(expiry));
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
