// Web Push for supervisors (docs/protocol.md#web-push): the dashboard's
// "Notify me when my tab is closed" toggle. It registers /sw.js, subscribes
// this browser with the server's VAPID key and gives the subscription to
// the server, which pushes a notice (never what was written) with every
// page. States: checking, hidden (the server has no Web Push), unsupported, denied
// (blocked in the browser's settings), off, busy, on, error.
//
// Which user turned it on is remembered in localStorage (a user id only),
// so that another person signing in on the same browser sees it off and
// is not signed up by someone else's choice.

import { Api } from './api.js';

const OWNER = 'kindred.push.user';

export function pushSupported() {
  return window.isSecureContext && 'serviceWorker' in navigator &&
    typeof window.PushManager === 'function' && typeof window.Notification === 'function';
}

function keyBytes(b64) {
  const s = atob(b64.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function sameKey(sub, key) {
  const have = sub.options && sub.options.applicationServerKey;
  if (!have) return true; // the browser does not say: trust it
  const a = new Uint8Array(have);
  const b = keyBytes(key);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// takeOpenRequest returns the escalation a notification click asked to
// open (/?escalation=…, when no Kindred tab was open), and removes it from
// the address.
export function takeOpenRequest() {
  const q = new URLSearchParams(location.search);
  const id = q.get('escalation');
  if (!id) return '';
  history.replaceState(null, '', location.pathname + location.hash);
  return id;
}

const HINTS = {
  unsupported: 'This browser cannot notify you while Kindred is closed.',
  denied: 'Notifications are blocked in this browser’s settings, so Kindred cannot notify you while it is closed.',
  on: 'This browser will notify you of pages while Kindred is closed.',
  busy: 'Turning on notifications…',
};

export class PushToggle {
  constructor(api, me) {
    this.api = api;
    this.me = me; // () => the signed-in user's id
    this.key = '';
    this.error = '';
    this.set('hidden');
    document.getElementById('push-toggle').addEventListener('click', () => this.toggle());
  }

  set(state, error = '') {
    this.state = state;
    this.error = error;
    const btn = document.getElementById('push-toggle');
    const shown = ['off', 'on', 'busy', 'error'].includes(state);
    btn.hidden = !shown;
    btn.dataset.state = state;
    btn.disabled = state === 'busy';
    btn.setAttribute('aria-pressed', state === 'on' ? 'true' : 'false');
    document.getElementById('push-state').textContent = state === 'on' ? 'On' : 'Off';
    document.getElementById('push-hint').textContent = error || HINTS[state] || '';
  }

  // start reads the server's key and whether this browser is subscribed
  // for the signed-in user.
  async start() {
    this.set('checking'); // shown as hidden
    if (!pushSupported()) return this.set('unsupported');
    try {
      this.key = (await this.api.request('GET', '/api/push/key')).public_key;
    } catch {
      return this.set('hidden'); // no Web Push here, or not for this role
    }
    if (Notification.permission === 'denied') return this.set('denied');
    try {
      const reg = await navigator.serviceWorker.getRegistration('/');
      const sub = reg && await reg.pushManager.getSubscription();
      if (sub && sameKey(sub, this.key) && localStorage.getItem(OWNER) === this.me()) {
        await this.api.request('POST', '/api/push/subscriptions', sub.toJSON());
        return this.set('on');
      }
    } catch {
      // Not subscribed as far as we can tell: offer to.
    }
    return this.set('off');
  }

  toggle() {
    if (this.state === 'busy') return;
    if (this.state === 'on') this.turnOff();
    else this.turnOn();
  }

  async turnOn() {
    this.set('busy');
    const perm = await Notification.requestPermission();
    if (perm !== 'granted') return this.set(perm === 'denied' ? 'denied' : 'off');
    try {
      const reg = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
      await navigator.serviceWorker.ready;
      let sub = await reg.pushManager.getSubscription();
      if (sub && !sameKey(sub, this.key)) {
        await sub.unsubscribe();
        sub = null;
      }
      if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(this.key) });
      await this.api.request('POST', '/api/push/subscriptions', sub.toJSON());
      localStorage.setItem(OWNER, this.me());
      this.set('on');
    } catch {
      this.set('error', 'Notifications could not be turned on: this browser’s push service did not answer. Try again later.');
    }
  }

  async turnOff() {
    this.set('busy');
    try {
      await this.forget((method, path, body) => this.api.request(method, path, body));
      this.set('off');
    } catch {
      this.set('error', 'Notifications could not be turned off. Try again.');
    }
  }

  // forget removes this browser's subscription from the server (with
  // request) and from the push service.
  async forget(request) {
    localStorage.removeItem(OWNER);
    const reg = await navigator.serviceWorker.getRegistration('/');
    const sub = reg && await reg.pushManager.getSubscription();
    if (!sub) return;
    await request('DELETE', '/api/push/subscriptions', { endpoint: sub.endpoint });
    await sub.unsubscribe();
  }

  // signOut hides the toggle. When its user signs out by hand (token is
  // theirs, read before it is cleared) pages stop reaching this browser;
  // after an idle sign-out they go on, as closing the tab would.
  signOut(token) {
    const on = this.state === 'on';
    this.set('hidden');
    if (!on || !token) return;
    // The token is read now, before sign-out clears it; a refused DELETE
    // still unsubscribes this browser from the push service.
    const api = new Api(() => token);
    this.forget((method, path, body) => api.request(method, path, body).catch(() => {})).catch(() => {});
  }
}
