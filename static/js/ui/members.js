// The member list of the open conversation: who is there, their role,
// who is online, and a "Message" button to start a one-on-one chat.

import { $, el, plural, roleLabel } from '../dom.js';
import { describe } from '../errors.js';
import { openDialog } from './dialogs.js';

export class MembersDialog {
  // hooks: fetch(convId) -> Promise, openDM(user) -> Promise
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.dialog = $('members-dialog');
    this.list = $('members-list');
    this.status = $('members-status');
    this.error = $('members-error');
    this.convId = null;
    this.list.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-user]');
      if (btn) this.message(btn);
    });
    this.dialog.addEventListener('close', () => {
      this.convId = null;
    });
  }

  get isOpen() {
    return this.dialog.open;
  }

  async open(conv) {
    this.convId = conv.id;
    this.error.textContent = '';
    $('members-dialog-title').textContent = `Members of ${conv.name}`;
    this.render();
    openDialog(this.dialog, '.close');
    if (!conv.memberList || conv.memberListStale) {
      this.status.textContent = 'Loading members…';
      try {
        await this.hooks.fetch(conv.id);
      } catch (e) {
        if (this.convId === conv.id) this.error.textContent = describe(e, this.store.limits);
      }
    }
    this.render();
  }

  clear() {
    this.list.replaceChildren();
    this.status.textContent = '';
    this.error.textContent = '';
  }

  render() {
    const conv = this.convId && this.store.convs.get(this.convId);
    if (!conv) {
      this.clear();
      return;
    }
    if (!conv.memberList) return;
    const me = this.store.me;
    const members = [...conv.memberList.values()].sort((a, b) =>
      (b.online - a.online) || a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
    const online = members.filter((m) => m.online).length;
    this.status.textContent = `${plural(members.length, 'member', 'members')}, ${online} online`;
    const focused = document.activeElement && this.list.contains(document.activeElement)
      ? document.activeElement.dataset.user : null;
    this.list.replaceChildren(...members.map((m) => {
      const isMe = me && m.id === me.id;
      const role = roleLabel(m.role);
      return el('li', { class: 'member' },
        el('span', { class: `presence ${m.online ? 'on' : 'off'}`, 'aria-hidden': 'true' }),
        el('span', { class: 'member-name' }, isMe ? `${m.name} (you)` : m.name,
          role ? el('span', { class: 'role-tag', text: role }) : null),
        el('span', { class: 'member-status', text: m.online ? 'Online' : 'Offline' }),
        isMe || conv.kind === 'dm' ? null : el('button', { type: 'button', class: 'secondary small', 'data-user': m.id },
          'Message', el('span', { class: 'sr-only', text: ` ${m.name}` })));
    }));
    if (focused) {
      const again = this.list.querySelector(`button[data-user="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  async message(btn) {
    this.error.textContent = '';
    btn.disabled = true;
    try {
      await this.hooks.openDM(btn.dataset.user);
    } catch (e) {
      this.error.textContent = describe(e, this.store.limits);
      btn.disabled = false;
    }
  }
}
