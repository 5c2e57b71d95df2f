// The member list of the open conversation: who is there, their role,
// who is online, a "Message" button to start a one-on-one chat, and a "⋯"
// menu per person with what the viewer may do: raise a concern
// (specialists and up), block, and for moderators mute, remove, ban and
// name moderators.

import { $, el, plural, roleLabel } from '../dom.js';
import { describe } from '../errors.js';
import { mutedUntil } from '../store.js';
import { onClosed, openDialog } from './dialogs.js';
import { menuButton, menuKeydown, openMenu } from './menu.js';
import { untilText } from './roomstate.js';

const ROOM_ROLE = { owner: 'Owner', moderator: 'Moderator' };

// memberMuted is when m's mute ends (ms; Infinity until lifted), 0 when
// not muted. Only moderators' lists carry muted_until.
export function memberMuted(m, now = Date.now()) {
  const until = mutedUntil(m.muted_until);
  return until > now ? until : 0;
}

// mutedText: "muted until 14:05" (local time), or "muted" until lifted.
function mutedText(until) {
  return until === Infinity ? 'muted' : `muted ${untilText(until)}`;
}

export class MembersDialog {
  // hooks: fetch(convId) -> Promise, openDM(user) -> Promise,
  // actions(member, conv) -> menu entries, pick(entry id, member, conv)
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
      const menu = ev.target.closest('button[data-member-menu]');
      if (menu) this.openActions(menu, false);
    });
    this.list.addEventListener('keydown', (ev) => menuKeydown(ev, (b, last) => this.openActions(b, last)));
    onClosed(this.dialog, () => {
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
    // Not under an open menu: it would close. Done when it closes.
    if (this.list.querySelector('[role="menu"]')) {
      this.stale = true;
      return;
    }
    this.stale = false;
    const me = this.store.me;
    const members = [...conv.memberList.values()].sort((a, b) =>
      (b.online - a.online) || a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
    const online = members.filter((m) => m.online).length;
    this.status.textContent = `${plural(members.length, 'member', 'members')}, ${online} online`;
    const active = document.activeElement && this.list.contains(document.activeElement) ? document.activeElement : null;
    const focused = active && (active.dataset.user ? ['user', active.dataset.user]
      : active.dataset.memberMenu ? ['member-menu', active.dataset.memberMenu]
        : active.dataset.item ? ['member-menu', active.closest('li.member')?.dataset.member] : null);
    this.list.replaceChildren(...members.map((m) => {
      const isMe = me && m.id === me.id;
      const role = roleLabel(m.role);
      const buttons = [];
      if (!isMe && conv.kind !== 'dm') {
        buttons.push(el('button', { type: 'button', class: 'secondary small', 'data-user': m.id },
          'Message', el('span', { class: 'sr-only', text: ` ${m.name}` })));
      }
      if (this.hooks.actions(m, conv).length) {
        buttons.push(el('span', { class: 'menu-wrap' }, menuButton(`More for ${m.name}`, { 'data-member-menu': m.id })));
      }
      const roomRole = conv.kind === 'room' ? ROOM_ROLE[m.room_role] : '';
      const muted = conv.kind === 'room' ? memberMuted(m) : 0;
      return el('li', { class: 'member', 'data-member': m.id },
        el('span', { class: `presence ${m.online ? 'on' : 'off'}`, 'aria-hidden': 'true' }),
        el('span', { class: 'member-name' }, isMe ? `${m.name} (you)` : m.name,
          role ? el('span', { class: 'role-tag', text: role }) : null,
          roomRole ? el('span', { class: 'role-tag room-role', text: roomRole }) : null,
          muted ? el('span', { class: 'role-tag muted-tag', text: mutedText(muted) }) : null),
        el('span', { class: 'member-status', text: m.online ? 'Online' : 'Offline' }),
        buttons.length ? el('span', { class: 'member-actions' }, ...buttons) : null);
    }));
    if (focused) {
      const again = this.list.querySelector(`button[data-${focused[0]}="${CSS.escape(focused[1])}"]`);
      if (again) again.focus();
    }
  }

  openActions(btn, last) {
    const conv = this.convId && this.store.convs.get(this.convId);
    const m = conv && conv.memberList && conv.memberList.get(btn.dataset.memberMenu);
    if (!m) return;
    openMenu(btn, this.hooks.actions(m, conv), (item) => this.hooks.pick(item, m, conv), {
      last,
      onClose: () => {
        if (this.stale) queueMicrotask(() => this.render());
      },
    });
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
