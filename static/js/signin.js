// The sign-in page (docs/protocol.md#signing-in). What it offers comes
// from GET /auth/config: staff sign in with the clinic's identity provider
// (a plain navigation to /auth/oidc/start, which comes back to "/" signed
// in or to "/#signin_error=CODE"); peers ask for an emailed link, which
// opens "/#link=SECRET" and is exchanged here for a browser session. A
// sign-in link or token from another system can always be pasted, under
// "Have a sign-in link or token?" (the only way when the server has no
// sign-in of its own).

import { $, plural } from './dom.js';
import { authConfig, requestLink, verifyLink } from './authapi.js';
import { describe } from './errors.js';
import { looksLikeToken, parseLinkInput, parseTokenInput } from './session.js';

function sentence(s) {
  if (!s) return '';
  const t = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

function minutes(ms) {
  const m = Math.max(1, Math.ceil(ms / 60000));
  return plural(m, 'minute', 'minutes');
}

// reasonText says why the sign-in page is shown after a session.
export function reasonText(reason, idleMs, detail) {
  const m = Math.round(idleMs / 60000);
  const idleFor = m >= 120 && m % 60 === 0 ? plural(m / 60, 'hour', 'hours') : m >= 1 ? plural(m, 'minute', 'minutes') : 'a while';
  switch (reason) {
    case 'idle': return `You were signed out after ${idleFor} without activity, to keep your conversations private.`;
    case 'expired': return 'Your sign-in has expired. Please open a new sign-in link.';
    case 'invalid': return 'That sign-in link didn’t work. It may be mistyped or out of date; please ask for a new one.';
    case 'revoked': return 'An administrator ended your sessions. Please sign in again.';
    case 'signed_out': return 'You have signed out. Nothing from your conversations is left in this tab.';
    case 'elsewhere': return 'You signed out of Kindred in another tab of this browser, so this tab was signed out too.';
    case 'switched': return 'Someone else signed in to Kindred in this browser, so this tab was signed out to keep your conversations private.';
    case 'deactivated': return 'This account has been deactivated, so it can’t be used to sign in. If you think this is a mistake, please contact the people who run this service.';
    case 'ended': return detail ? sentence(detail) : 'Your sign-in has ended. Please sign in again.';
    default: return '';
  }
}

// What a failed staff sign-in (/#signin_error=CODE) means.
function signinErrorText(code, provider) {
  switch (code) {
    case 'oidc_state': return 'The sign-in couldn’t be finished: it took too long, or it was started in another tab or browser. Please try again.';
    case 'oidc_provider': return `${provider} didn’t complete the sign-in: it was cancelled there, or ${provider} reported a problem. Please try again. If it keeps happening, contact your IT support.`;
    case 'oidc_no_role': return `You signed in with ${provider}, but your account there doesn’t give you access to Kindred. Ask your administrator to add you to the right group.`;
    case 'oidc_expired': return 'The sign-in took too long and expired. Please try again.';
    case 'oidc_failed': return `The sign-in with ${provider} couldn’t be checked, so it was refused. Please try again. If it keeps happening, contact your administrator.`;
    case 'deactivated': return 'Your Kindred account has been deactivated, so you can’t sign in. If you think this is a mistake, contact your administrator.';
    case 'unavailable': return 'Kindred couldn’t finish signing you in just now. Please try again in a moment.';
    default: return 'The sign-in couldn’t be finished. Please try again.';
  }
}

// What a refused emailed link means; again: a new link may help; retry:
// the same link may work in a moment (it was not used).
function linkErrorText(e) {
  const d = (e && e.detail) || {};
  switch (d.code) {
    case 'link_invalid':
      return { text: d.message ? sentence(d.message) : 'This sign-in link isn’t valid. Please ask for a new one.', again: true };
    case 'not_invited':
      return { text: 'This email address hasn’t been invited to Kindred yet. Ask your group’s facilitator for an invite link, open it, and ask for a sign-in link from there.' };
    case 'account_deactivated':
      return { text: 'This account has been deactivated, so it can’t be used to sign in. If you think this is a mistake, please contact the people who run this service.' };
    default:
      return { text: `You couldn’t be signed in with this link. ${describe(e)}`, retry: true };
  }
}

export class SignInPage {
  // hooks: signedIn(grant, expiry) a browser session began; token(token)
  // a pasted token; invite() the invite code this tab was opened with.
  constructor(hooks) {
    this.hooks = hooks;
    this.config = undefined; // undefined: not asked yet; null: none
    this.gen = 0; // hide() makes a show() still waiting for the config moot
    this.problem = null; // {text, label, act} shown in the alert box
    $('signin-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.pasted();
    });
    $('email-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.askForLink();
    });
    $('email-again').addEventListener('click', () => this.showEmailForm(true));
    $('signin-other-toggle').addEventListener('click', () => {
      this.showOther($('signin-other-toggle').getAttribute('aria-expanded') !== 'true');
      if (!$('signin-other').hidden) $('signin-token').focus();
    });
    $('signin-problem-action').addEventListener('click', () => {
      if (this.problem && this.problem.act) this.problem.act();
    });
  }

  get provider() {
    return (this.config && this.config.oidc_name) || 'your organisation’s sign-in';
  }

  async loadConfig() {
    if (this.config !== undefined) return this.config;
    try {
      this.config = await authConfig();
      return this.config;
    } catch {
      return null; // asked again next time
    }
  }

  // show renders the page: reason says why it is shown, problem is a
  // failed sign-in to explain ({text, label, act}: act() is what its
  // button does).
  async show(reason = '', problem = null) {
    const gen = this.gen;
    this.problem = problem; // setProblem meanwhile wins
    const config = await this.loadConfig();
    if (gen !== this.gen) return;
    this.render(config);
    this.setReason(reason);
    this.setProblem(this.problem);
    $('signin-busy').hidden = true;
    $('signin-busy').textContent = '';
    $('signin').hidden = false;
    $('signin-title').setAttribute('tabindex', '-1');
    $('signin-title').focus();
  }

  // showError explains a failed staff sign-in (/#signin_error=CODE).
  async showError(code) {
    await this.loadConfig();
    const problem = { text: signinErrorText(code, this.provider) };
    if (this.config && this.config.oidc && !['oidc_no_role', 'deactivated'].includes(code)) {
      Object.assign(problem, { label: 'Try again', act: () => location.assign('/auth/oidc/start') });
    }
    await this.show('', problem);
  }

  // followSignOut shows how the server's end of a browser session goes
  // (ending resolves to whether there was one): until it is done, the
  // refresh cookie could sign this browser back in, so a failure is said,
  // with a way to try again (again() -> a new attempt). data-signout on
  // the page: pending, done or failed.
  async followSignOut(ending, again) {
    const page = $('signin');
    page.dataset.signout = 'pending';
    try {
      page.dataset.signout = (await ending) ? 'done' : '';
    } catch {
      page.dataset.signout = 'failed';
      this.setProblem({
        text: 'Kindred couldn’t reach the server to finish signing you out, so opening Kindred again in this browser might sign you back in. Please try again when you’re connected.',
        label: 'Finish signing out',
        act: () => {
          this.setProblem(null);
          this.followSignOut(again().then(() => true), again);
        },
      });
    }
  }

  hide() {
    this.gen += 1;
    $('signin').hidden = true;
  }

  // busy shows the page with only a status (a link being checked).
  busy(text) {
    $('signin-ways').hidden = true;
    $('signin-other-wrap').hidden = true;
    this.setReason('');
    this.setProblem(null);
    $('signin-busy').textContent = text;
    $('signin-busy').hidden = false;
    $('signin').hidden = false;
  }

  render(config) {
    const email = Boolean(config && config.email);
    const oidc = Boolean(config && config.oidc);
    $('signin-ways').hidden = !email && !oidc;
    $('signin-staff').hidden = !oidc;
    $('signin-oidc').textContent = `Sign in with ${this.provider}`;
    $('signin-peer').hidden = !email;
    if (email) {
      const invited = Boolean(this.hooks.invite());
      $('signin-email-intro').textContent = invited
        ? 'You’ve been invited to a group. Enter your email address and we’ll send you a link that signs you in and takes you there.'
        : config.signup === 'open'
          ? 'Enter your email address and we’ll send you a link that signs you in: no password needed. New here? The same link makes your account.'
          : 'Enter the email address you use for Kindred and we’ll send you a link that signs you in: no password needed. New here? You need an invite link from your group’s facilitator first.';
      this.showEmailForm(false);
    }
    // Pasting a link or token: folded away when there is another way in.
    $('signin-other-wrap').hidden = false;
    $('signin-other-toggle').hidden = !email && !oidc;
    this.showOther(!email && !oidc);
  }

  showOther(open) {
    $('signin-other-toggle').setAttribute('aria-expanded', open ? 'true' : 'false');
    $('signin-other').hidden = !open;
  }

  setReason(text) {
    $('signin-reason').textContent = text;
    $('signin-reason').hidden = !text;
  }

  setProblem(problem) {
    this.problem = problem;
    $('signin-problem').hidden = !problem;
    $('signin-problem-text').textContent = problem ? problem.text : '';
    const action = $('signin-problem-action');
    action.hidden = !problem || !problem.act;
    action.textContent = problem && problem.act ? problem.label : '';
  }

  showEmailForm(focus) {
    $('email-form').hidden = false;
    $('email-sent').hidden = true;
    $('signin-email-error').textContent = '';
    $('signin-email').removeAttribute('aria-invalid');
    if (focus) $('signin-email').focus();
  }

  async askForLink() {
    const form = $('email-form');
    if (form.getAttribute('aria-busy')) return;
    const input = $('signin-email');
    const error = $('signin-email-error');
    const email = input.value.trim();
    const fail = (text) => {
      error.textContent = text;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    };
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
      fail('Enter your email address, such as name@example.org.');
      return;
    }
    form.setAttribute('aria-busy', 'true');
    form.querySelector('button[type="submit"]').disabled = true;
    try {
      const res = await requestLink(email, this.hooks.invite());
      $('email-sent-text').textContent = sentence(res && res.message) || 'If this address may sign in here, a sign-in link is on its way.';
      $('email-sent-to').textContent = `You asked for a link for ${email}.`;
      form.hidden = true;
      $('email-sent').hidden = false;
      $('email-sent-title').focus();
    } catch (e) {
      const d = e.detail || {};
      if (d.code === 'rate_limited') {
        fail(d.retry_after_ms
          ? `Too many sign-in links were asked for from here. Please try again in ${minutes(d.retry_after_ms)}.`
          : 'Too many sign-in links were asked for from here. Please try again later.');
      } else if (d.code === 'invalid_field') {
        fail(d.message ? sentence(d.message) : 'Enter your email address, such as name@example.org.');
      } else {
        fail(`The link couldn’t be sent. ${describe(e)}`);
      }
    } finally {
      form.removeAttribute('aria-busy');
      form.querySelector('button[type="submit"]').disabled = false;
    }
  }

  // verify exchanges an emailed link's secret for a browser session.
  async verify(link) {
    this.busy('Signing you in…');
    let got;
    try {
      got = await verifyLink(link);
    } catch (e) {
      const why = linkErrorText(e);
      await this.loadConfig();
      const problem = { text: why.text };
      if (why.retry) Object.assign(problem, { label: 'Try again', act: () => this.verify(link) });
      else if (why.again && this.config && this.config.email) Object.assign(problem, { label: 'Email me a new link', act: () => this.showEmailForm(true) });
      await this.show('', problem);
      return;
    }
    this.hooks.signedIn(got.grant, got.expiry);
  }

  // pasted signs in with what was pasted: another system's link or
  // token, or an emailed link copied whole.
  pasted() {
    const text = $('signin-token').value;
    const link = parseLinkInput(text);
    if (link) {
      $('signin-token').value = '';
      this.verify(link);
      return;
    }
    const token = parseTokenInput(text);
    if (!looksLikeToken(token)) {
      $('signin-error').textContent = 'That doesn’t look like a sign-in link or token. Please paste the whole link you were given.';
      $('signin-token').focus();
      return;
    }
    $('signin-token').value = '';
    this.hooks.token(token);
  }

  clear() {
    $('signin-token').value = '';
    $('signin-error').textContent = '';
    $('signin-email-error').textContent = '';
    $('signin-email').value = '';
  }
}
