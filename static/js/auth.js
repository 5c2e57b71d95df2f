// How this tab is signed in (docs/protocol.md#signing-in): with a token
// from another system's sign-in link (#token=…, kept until it expires,
// exactly as before), or through Kindred's own sign-in, a browser
// session: a short-lived access token renewed with the HttpOnly refresh
// cookie (refresh.js). This module owns the token, its kind and its
// renewal; main.js asks it for the token and hears when it changes or
// when the session ends.

import { refreshGrant, sessionOver, signOutServer } from './authapi.js';
import { Refresher } from './refresh.js';
import { clearSession, loadExpiry, loadKind, loadToken, saveExpiry, saveKind, saveToken } from './session.js';
import { Tabs } from './tabs.js';

// reasonOf names why a refresh ended the session, for the sign-in page.
function reasonOf(e) {
  return e && e.code === 'account_deactivated' ? 'deactivated' : 'ended';
}

export class Auth {
  // hooks: renewed(grant) a new access token for the signed-in person;
  // ended(reason, error) the browser session ended (elsewhere, or the
  // server refused it): sign this tab out without asking the server;
  // activeElsewhere() the person is using another tab of this session.
  constructor(hooks) {
    this.hooks = hooks;
    this.token = null;
    this.kind = 'token'; // or 'browser'
    this.user = null; // the browser session's user id
    this.refusal = null; // why the last renewal after a lost sign-in failed
    this.refresher = new Refresher({
      grant: (grant, expiry) => this.renewed(grant, expiry),
      ended: (e) => this.hooks.ended(reasonOf(e), e),
    });
    this.tabs = new Tabs({
      // The cookie is shared: someone else's sign-in takes it.
      signedIn: (user) => {
        if (this.browser && user !== this.user) {
          this.refresher.stop();
          this.hooks.ended('switched', null);
        }
      },
      // Whoever signed out, this tab's renewals are over.
      signedOut: () => {
        if (this.browser) this.hooks.ended('elsewhere', null);
      },
      active: (user) => {
        if (this.browser && user === this.user) this.hooks.activeElsewhere();
      },
    });
  }

  get browser() {
    return this.kind === 'browser' && Boolean(this.token);
  }

  // useToken signs this tab in with a token from a link: no renewal.
  useToken(token) {
    this.refresher.stop();
    this.kind = 'token';
    this.user = null;
    this.token = token;
    saveToken(token);
    saveKind('token');
  }

  // useGrant signs this tab in with a browser session's grant.
  useGrant(grant, expiry) {
    this.kind = 'browser';
    this.user = grant.user.id;
    this.store(grant.access_token, expiry);
    this.refresher.start(expiry);
    this.tabs.signedIn(this.user);
  }

  store(token, expiry) {
    this.token = token;
    saveToken(token);
    saveKind('browser');
    saveExpiry({ ...expiry, user: this.user });
  }

  renewed(grant, expiry) {
    if (this.user && grant.user.id !== this.user) {
      // Someone else signed in on this browser since: their cookie is
      // not this tab's to use.
      this.refresher.stop();
      this.hooks.ended('switched', null);
      return;
    }
    this.user = grant.user.id;
    this.store(grant.access_token, expiry);
    this.hooks.renewed(grant);
  }

  // restore signs a loaded tab back in: the token this tab kept (renewed
  // first when near its end), or the browser session's refresh cookie (a
  // reload, a new tab). It resolves to 'token', 'browser', 'ended' (this
  // tab's browser session is over) or '' (not signed in).
  async restore() {
    const token = loadToken();
    if (token && loadKind() === 'token') {
      this.useToken(token);
      return 'token';
    }
    const kept = token ? loadExpiry() : null;
    if (kept && typeof kept.user === 'string') {
      this.kind = 'browser';
      this.user = kept.user;
      const expiry = { at: kept.at, life: kept.life };
      if (Date.now() < expiry.at - 0.2 * expiry.life) {
        this.store(token, expiry);
        this.refresher.start(expiry);
        return 'browser';
      }
    }
    try {
      const { grant, expiry } = await refreshGrant();
      if (this.user && grant.user.id !== this.user) {
        // The cookie is someone else's now: this tab's session is over.
        this.user = null;
        clearSession();
        return 'ended';
      }
      this.useGrant(grant, expiry);
      return 'browser';
    } catch (e) {
      if (kept && !sessionOver(e)) {
        // The server is out of reach for a moment: keep what this tab
        // had; the connection retries, and so does the renewal.
        this.store(token, { at: kept.at, life: kept.life });
        this.refresher.start({ at: kept.at, life: kept.life });
        return 'browser';
      }
      this.token = null;
      this.user = null;
      this.kind = 'token';
      if (token) {
        clearSession();
        return 'ended';
      }
      return '';
    }
  }

  // renew asks for a new token now (a 401 from the API, a new name): it
  // resolves to whether this tab has one.
  async renew() {
    if (!this.browser) return false;
    try {
      await this.refresher.refresh();
      return this.browser;
    } catch {
      return false;
    }
  }

  // lost is asked when the server ended the connection's sign-in (close
  // 4001 or 4011, with its code): for a browser session, a refresh (tried
  // again while the server is out of reach), and whether to reconnect
  // with its token.
  async lost(code) {
    this.refusal = null;
    if (!this.browser || code === 'account_deactivated') return false;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.refresher.refresh();
        return this.browser;
      } catch (e) {
        if (!this.browser || sessionOver(e) || e.code === 'stopped') {
          this.refusal = e;
          return false;
        }
      }
      await new Promise((resolve) => {
        setTimeout(resolve, Math.min(30000, 1000 * 2 ** attempt));
      });
      if (!this.browser) return false;
    }
  }

  // signOut forgets this tab's sign-in. With server true, a browser
  // session also ends on the server and in the other tabs (it rejects
  // when the server could not be reached; the caller may try again with
  // endOnServer); otherwise the session is over already, or the cookie is
  // someone else's now. Nothing is asked of the server for a link's token.
  async signOut(server) {
    const browser = this.browser;
    const user = this.user;
    this.refresher.stop();
    this.token = null;
    this.user = null;
    this.kind = 'token';
    if (!browser || !server) return false;
    this.tabs.signedOut(user || '');
    await signOutServer();
    return true;
  }

  endOnServer() {
    return signOutServer();
  }

  // reasonFor names, for the sign-in page, why the server ended the
  // connection's sign-in (its error code) when no renewal helped.
  reasonFor(code) {
    if (code === 'account_deactivated' || (this.refusal && this.refusal.code === 'account_deactivated')) return 'deactivated';
    if (code === 'token_revoked') return 'revoked';
    if (this.browser) return 'ended';
    return code === 'token_invalid' ? 'invalid' : 'expired';
  }

  // active tells the other tabs that the person is here.
  active(everyMs) {
    if (this.browser) this.tabs.active(this.user, everyMs);
  }
}
