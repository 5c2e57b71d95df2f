// The member list of the open conversation: who is there, their role,
// who is online, a "Message" button to start a one-on-one chat, and for
// specialists and up, "Raise a concern" to ask a supervisor to look out
// for someone.

import { $, el, plural, roleLabel } from '../dom.js';
import { describe } from '../errors.js';
import { openDialog } from './dialogs.js';

const CAN_RAISE_CONCERNS = new Set(['specialist', 'supervisor', 'admin']);

export class MembersDialog {
  // hooks: fetch(convId) -> Promise, openDM(user) -> Promise,
  // concern(member, conv)
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
      const concern = ev.target.closest('button[data-concern]');
      if (concern) this.concern(concern);
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
    const active = document.activeElement && this.list.contains(document.activeElement) ? document.activeElement : null;
    const focused = active && (active.dataset.user ? ['user', active.dataset.user] : active.dataset.concern ? ['concern', active.dataset.concern] : null);
    const concerns = me && CAN_RAISE_CONCERNS.has(me.role);
    this.list.replaceChildren(...members.map((m) => {
      const isMe = me && m.id === me.id;
      const role = roleLabel(m.role);
      const buttons = [];
      if (!isMe && conv.kind !== 'dm') {
        buttons.push(el('button', { type: 'button', class: 'secondary small', 'data-user': m.id },
          'Message', el('span', { class: 'sr-only', text: ` ${m.name}` })));
      }
      if (!isMe && concerns) {
        buttons.push(el('button', { type: 'button', class: 'quiet small', 'data-concern': m.id, 'aria-haspopup': 'dialog' },
          'Raise a concern', el('span', { class: 'sr-only', text: ` about ${m.name}` })));
      }
      return el('li', { class: 'member' },
        el('span', { class: `presence ${m.online ? 'on' : 'off'}`, 'aria-hidden': 'true' }),
        el('span', { class: 'member-name' }, isMe ? `${m.name} (you)` : m.name,
          role ? el('span', { class: 'role-tag', text: role }) : null),
        el('span', { class: 'member-status', text: m.online ? 'Online' : 'Offline' }),
        buttons.length ? el('span', { class: 'member-actions' }, ...buttons) : null);
    }));
    if (focused) {
      const again = this.list.querySelector(`button[data-${focused[0]}="${CSS.escape(focused[1])}"]`);
      if (again) again.focus();
    }
  }

  concern(btn) {
    const conv = this.convId && this.store.convs.get(this.convId);
    const m = conv && conv.memberList && conv.memberList.get(btn.dataset.concern);
    if (m) this.hooks.concern(m, conv);
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
