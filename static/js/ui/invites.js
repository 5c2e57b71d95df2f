// A room's invite links, for its moderators (manage_invites): create one
// with an expiry and a use limit, copy it, see every link with its uses,
// and revoke one.

import { $, el, plural } from '../dom.js';
import { describe } from '../errors.js';
import { onClosed, openDialog } from './dialogs.js';

const dateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' });

function state(inv, now) {
  if (inv.revoked) return 'Revoked';
  if (Date.parse(inv.expires_at) <= now) return 'Expired';
  if (inv.uses >= inv.max_uses) return 'Used up';
  return `Expires ${dateFmt.format(new Date(inv.expires_at))}`;
}

export class InvitesDialog {
  // hooks: list(conv) -> Promise<invites>, create(conv, minutes, uses) ->
  // Promise<{invite, link}>, revoke(conv, id) -> Promise
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.dialog = $('invites-dialog');
    this.list = $('invites-list');
    this.status = $('invites-status');
    this.error = $('invites-error');
    this.conv = null;
    $('invite-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.create();
    });
    $('invite-copy').addEventListener('click', () => this.copy());
    this.list.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-revoke]');
      if (btn) this.revoke(btn);
    });
    onClosed(this.dialog, () => {
      this.conv = null;
      $('invite-link').value = '';
    });
  }

  async open(conv) {
    this.conv = conv;
    $('invites-title').textContent = `Invite links to ${conv.name}`;
    $('invite-new').hidden = true;
    $('invite-link').value = '';
    this.error.textContent = '';
    this.list.replaceChildren();
    openDialog(this.dialog, '#invite-expiry');
    await this.load();
  }

  clear() {
    this.list.replaceChildren();
    this.status.textContent = '';
    this.error.textContent = '';
    $('invite-link').value = '';
  }

  async load() {
    const conv = this.conv;
    if (!conv) return;
    this.status.textContent = 'Loading links…';
    try {
      const invites = await this.hooks.list(conv);
      if (this.conv !== conv) return;
      this.render(invites);
    } catch (e) {
      this.status.textContent = '';
      this.error.textContent = describe(e, this.store.limits);
    }
  }

  render(invites) {
    const now = Date.now();
    this.status.textContent = invites.length ? plural(invites.length, 'link', 'links') : 'No links yet.';
    this.list.replaceChildren(...invites.map((inv) => {
      const st = state(inv, now);
      const live = !inv.revoked && Date.parse(inv.expires_at) > now && inv.uses < inv.max_uses;
      return el('li', { class: 'invite', 'data-invite': inv.id },
        el('span', { class: 'invite-text' },
          el('span', { class: 'invite-uses', text: `Used ${inv.uses} of ${plural(inv.max_uses, 'time', 'times')}` }),
          el('span', { class: 'invite-state', text: st })),
        live ? el('button', { type: 'button', class: 'quiet small', 'data-revoke': inv.id },
          'Revoke', el('span', { class: 'sr-only', text: ` the link used ${inv.uses} of ${inv.max_uses} times` })) : null);
    }));
  }

  async create() {
    const conv = this.conv;
    if (!conv) return;
    this.error.textContent = '';
    try {
      const res = await this.hooks.create(conv, Number($('invite-expiry').value), Number($('invite-uses').value));
      $('invite-link').value = res.link || `${location.origin}/#invite=${res.invite.code}`;
      $('invite-new').hidden = false;
      $('invite-link').focus();
      $('invite-link').select();
      await this.load();
    } catch (e) {
      this.error.textContent = describe(e, this.store.limits);
    }
  }

  async copy() {
    const input = $('invite-link');
    try {
      await navigator.clipboard.writeText(input.value);
      this.status.textContent = 'Link copied.';
    } catch {
      input.focus();
      input.select();
      this.status.textContent = 'Select the link and copy it.';
    }
  }

  async revoke(btn) {
    const conv = this.conv;
    if (!conv) return;
    btn.disabled = true;
    this.error.textContent = '';
    try {
      await this.hooks.revoke(conv, btn.dataset.revoke);
      await this.load();
      this.status.textContent = 'Link revoked: it no longer lets anyone in.';
      $('invite-expiry').focus();
    } catch (e) {
      btn.disabled = false;
      this.error.textContent = describe(e, this.store.limits);
    }
  }
}
