// A room's ban list, for its moderators (moderate): who is banned, until
// when and by whom, with an Unban button each. Reading the list is not
// audited; an unban is (docs/moderation.md).

import { $, el, plural } from '../dom.js';
import { describe } from '../errors.js';
import { onClosed, openDialog } from './dialogs.js';

const dateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' });

function banText(b) {
  const until = b.until ? `until ${dateFmt.format(new Date(b.until))}` : 'for good';
  return `Banned ${until} by ${b.by}, ${dateFmt.format(new Date(b.at))}`;
}

export class BansDialog {
  // hooks: list(conv) -> Promise<bans>, unban(conv, user) -> Promise
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.dialog = $('bans-dialog');
    this.list = $('bans-list');
    this.status = $('bans-status');
    this.error = $('bans-error');
    this.conv = null;
    this.list.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-unban]');
      if (btn) this.unban(btn);
    });
    onClosed(this.dialog, () => {
      this.conv = null;
    });
  }

  async open(conv) {
    this.conv = conv;
    $('bans-title').textContent = `Banned from ${conv.name}`;
    this.clear();
    openDialog(this.dialog, '.close');
    await this.load();
  }

  clear() {
    this.list.replaceChildren();
    this.status.textContent = '';
    this.error.textContent = '';
  }

  async load() {
    const conv = this.conv;
    if (!conv) return;
    this.status.textContent = 'Loading bans…';
    try {
      const bans = await this.hooks.list(conv);
      if (this.conv !== conv) return;
      this.render(bans);
    } catch (e) {
      this.status.textContent = '';
      this.error.textContent = describe(e, this.store.limits);
    }
  }

  render(bans) {
    this.status.textContent = bans.length ? plural(bans.length, 'person is banned', 'people are banned') : 'Nobody is banned.';
    this.list.replaceChildren(...bans.map((b) => {
      const name = b.name || b.user;
      return el('li', { class: 'invite ban', 'data-ban': b.user },
        el('span', { class: 'invite-text' },
          el('span', { class: 'ban-name', text: name }),
          el('span', { class: 'invite-state', text: banText(b) })),
        el('button', { type: 'button', class: 'secondary small', 'data-unban': b.user },
          'Unban', el('span', { class: 'sr-only', text: ` ${name}` })));
    }));
  }

  async unban(btn) {
    const conv = this.conv;
    if (!conv) return;
    btn.disabled = true;
    this.error.textContent = '';
    try {
      await this.hooks.unban(conv, btn.dataset.unban);
      await this.load();
      this.status.textContent = `Unbanned: they can join ${conv.name} again.`;
      this.dialog.querySelector('.close').focus();
    } catch (e) {
      btn.disabled = false;
      this.error.textContent = describe(e, this.store.limits);
    }
  }
}
