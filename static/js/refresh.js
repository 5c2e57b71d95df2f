// Keeping a browser session's access token fresh (docs/protocol.md#
// signing-in). Access tokens live minutes; at about 80% of a token's life
// a new one is asked for with the refresh cookie, and at once when the
// tab comes back into view or the network returns with the end that
// near (timers sleep with the device). One refresh at a time in a tab;
// two tabs may race, which the server allows for a few seconds.
//
// Times are this device's clock (authapi.js measured the token's life
// against the server's).

import { refreshGrant, sessionOver } from './authapi.js';

const RENEW_AT = 0.8; // of the token's life
const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 30000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Refresher {
  // hooks: grant(grant, expiry) a new token to use from now on;
  // ended(error) the browser session is over (signed out elsewhere,
  // deactivated, or a reused cookie ended it).
  constructor(hooks) {
    this.hooks = hooks;
    this.expiry = null; // {at, life} while running
    this.timer = 0;
    this.inflight = null;
    this.failures = 0;
    this.gen = 0;
    this.onVisible = () => {
      if (document.visibilityState === 'visible') this.check();
    };
    this.onOnline = () => this.check();
  }

  get running() {
    return this.expiry !== null;
  }

  start(expiry) {
    this.stop();
    this.expiry = expiry;
    document.addEventListener('visibilitychange', this.onVisible);
    window.addEventListener('online', this.onOnline);
    window.addEventListener('focus', this.onOnline);
    this.schedule();
  }

  stop() {
    this.gen += 1;
    this.expiry = null;
    this.failures = 0;
    clearTimeout(this.timer);
    this.timer = 0;
    document.removeEventListener('visibilitychange', this.onVisible);
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('focus', this.onOnline);
  }

  due() {
    return this.expiry.at - (1 - RENEW_AT) * this.expiry.life;
  }

  schedule(delay) {
    clearTimeout(this.timer);
    if (!this.expiry) return;
    const ms = delay === undefined ? this.due() - Date.now() : delay;
    this.timer = setTimeout(() => this.check(), Math.min(MAX_TIMER_MS, Math.max(0, ms)));
  }

  // check renews when the token is near its end, else waits for that.
  check() {
    if (!this.expiry || this.inflight) return;
    if (Date.now() >= this.due()) this.renew();
    else this.schedule();
  }

  async renew() {
    const gen = this.gen;
    try {
      await this.refresh();
    } catch (e) {
      if (gen !== this.gen || !this.expiry) return;
      if (sessionOver(e)) {
        this.stop();
        this.hooks.ended(e);
        return;
      }
      // The network or the server failed for a moment: again soon, and
      // sooner as the end nears.
      this.failures += 1;
      const left = this.expiry.at - Date.now();
      const wait = Math.min(RETRY_MAX_MS, 1000 * 2 ** this.failures, Math.max(0, left / 4));
      this.schedule(Math.max(RETRY_MIN_MS, wait));
    }
  }

  // refresh asks for a new token now, or joins the request under way. It
  // resolves with the grant, once hooks.grant has it, and rejects with the
  // refusal (an ApiError; sessionOver tells whether it is final).
  refresh() {
    if (this.inflight) return this.inflight;
    const gen = this.gen;
    this.inflight = refreshGrant().then(({ grant, expiry }) => {
      if (gen !== this.gen) throw Object.assign(new Error('stopped'), { code: 'stopped' });
      this.start(expiry);
      this.hooks.grant(grant, expiry);
      return grant;
    }).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }
}
