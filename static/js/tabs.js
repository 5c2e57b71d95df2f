// What the tabs of one browser session tell each other (BroadcastChannel:
// this origin, this browser profile only). The refresh cookie is shared
// by every tab, so:
//   - signing out in one tab ends the session of them all: the others show
//     the sign-in page at once rather than at their next refresh;
//   - someone signing in in one tab takes the cookie: tabs of another
//     person sign out at once (and can no longer end the new session);
//   - someone active in one tab is at the device: a tab idle in the
//     background must not sign out (and so end the session of the tab in
//     use). Activity is told at most every few seconds.
// Only user ids travel here, never a token.

const NAME = 'kindred.session';

export class Tabs {
  // hooks: signedIn(user), signedOut(user), active(user)
  constructor(hooks) {
    this.hooks = hooks;
    this.lastActive = 0;
    this.channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(NAME) : null;
    if (!this.channel) return;
    this.channel.addEventListener('message', (ev) => {
      const m = ev.data;
      if (!m || typeof m.user !== 'string') return;
      if (m.type === 'signed_in') this.hooks.signedIn(m.user);
      else if (m.type === 'signed_out') this.hooks.signedOut(m.user);
      else if (m.type === 'active') this.hooks.active(m.user);
    });
  }

  post(msg) {
    try {
      if (this.channel) this.channel.postMessage(msg);
    } catch {
      // A closed channel: nothing to tell.
    }
  }

  signedIn(user) {
    this.post({ type: 'signed_in', user });
  }

  signedOut(user) {
    this.post({ type: 'signed_out', user });
  }

  // active says the person is here, at most once per everyMs.
  active(user, everyMs) {
    const now = Date.now();
    if (now - this.lastActive < everyMs) return;
    this.lastActive = now;
    this.post({ type: 'active', user });
  }
}
