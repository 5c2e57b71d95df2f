// How people sign in, for admins (GET and PUT /api/settings/signin):
// which ways in are set up, what to give `kindred serve` for those that
// are not, and who may sign up with an email link. While no way in is set
// up on a server with sign-in of its own, it is an admin's first screen,
// once: closing it is remembered for that admin in localStorage. The
// dashboard's "Sign-in settings" opens it any time.

import { $ } from '../dom.js';
import { describe } from '../errors.js';
import { onClosed, openDialog } from './dialogs.js';

const DISMISSED = 'kindred.signin-setup.dismissed'; // a JSON list of user ids

function dismissedBy() {
  try {
    const v = JSON.parse(localStorage.getItem(DISMISSED) || '[]');
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

function dismiss(user) {
  try {
    const ids = dismissedBy().filter((id) => id !== user);
    ids.push(user);
    localStorage.setItem(DISMISSED, JSON.stringify(ids.slice(-20)));
  } catch {
    // Storage disabled: it shows again next time.
  }
}

export class SignInSetup {
  // hooks: api (Api), me() -> the signed-in user, announce(text)
  constructor(hooks) {
    this.hooks = hooks;
    this.dialog = $('setup-dialog');
    this.firstRun = false;
    this.gen = 0;
    $('setup-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.save();
    });
    onClosed(this.dialog, () => {
      const me = this.hooks.me();
      if (this.firstRun && me) dismiss(me.id);
      this.firstRun = false;
    });
  }

  // firstRun opens the checklist when nothing is set up, unless this
  // admin closed it before. hasSignIn: the server serves /auth/.
  async maybeFirstRun(hasSignIn) {
    const me = this.hooks.me();
    if (!me || me.role !== 'admin' || !hasSignIn || dismissedBy().includes(me.id)) return;
    const gen = this.gen;
    let settings;
    try {
      settings = await this.hooks.api.request('GET', '/api/settings/signin');
    } catch {
      return; // not now; the dashboard's button still works
    }
    if (gen !== this.gen || settings.email || settings.oidc || document.querySelector('dialog[open]')) return;
    this.firstRun = true;
    this.render(settings);
    openDialog(this.dialog, '#setup-title');
  }

  async open() {
    this.firstRun = false;
    $('setup-status').textContent = 'Loading…';
    $('setup-error').textContent = '';
    $('setup-body').hidden = true;
    openDialog(this.dialog, '#setup-title');
    const gen = this.gen;
    try {
      const settings = await this.hooks.api.request('GET', '/api/settings/signin');
      if (gen === this.gen) this.render(settings);
    } catch (e) {
      if (gen !== this.gen) return;
      $('setup-status').textContent = '';
      $('setup-error').textContent = `The settings couldn’t be loaded. ${describe(e)}`;
    }
  }

  render(s) {
    const none = !s.email && !s.oidc;
    $('setup-title').textContent = none ? 'Set up sign-in' : 'Sign-in settings';
    $('setup-title').setAttribute('tabindex', '-1');
    $('setup-status').textContent = '';
    $('setup-error').textContent = '';
    $('setup-intro').textContent = none
      ? 'People can only sign in with links made by another system for now. To let staff and peers sign in to Kindred directly, restart it with these settings:'
      : `Staff sign-in is ${s.oidc ? 'on' : 'off'}. Sign-in by email link is ${s.email ? 'on' : 'off'}.${s.email && s.oidc ? '' : ' To turn on the rest, restart Kindred with these settings:'}`;
    $('setup-staff').hidden = Boolean(s.oidc);
    $('setup-peers').hidden = Boolean(s.email);
    $('setup-callback').textContent = `${location.origin}/auth/oidc/callback`;
    $('setup-later').hidden = !this.firstRun;
    for (const r of document.querySelectorAll('#setup-form input[name="signup"]')) r.checked = r.value === (s.signup === 'open' ? 'open' : 'invite');
    $('setup-body').hidden = false;
  }

  async save() {
    const form = $('setup-form');
    if (form.getAttribute('aria-busy')) return;
    const picked = document.querySelector('#setup-form input[name="signup"]:checked');
    if (!picked) return;
    form.setAttribute('aria-busy', 'true');
    $('setup-error').textContent = '';
    $('setup-saved').textContent = '';
    const gen = this.gen;
    try {
      const s = await this.hooks.api.request('PUT', '/api/settings/signin', { signup: picked.value });
      if (gen !== this.gen) return;
      this.render(s);
      $('setup-saved').textContent = s.signup === 'open'
        ? 'Saved: anyone with an email address can sign up.'
        : 'Saved: only people with an account or an invite link can sign up.';
    } catch (e) {
      if (gen === this.gen) $('setup-error').textContent = `The setting wasn’t saved. ${describe(e)}`;
    } finally {
      form.removeAttribute('aria-busy');
    }
  }

  clear() {
    this.gen += 1;
    this.firstRun = false;
    $('setup-saved').textContent = '';
    $('setup-error').textContent = '';
  }
}
