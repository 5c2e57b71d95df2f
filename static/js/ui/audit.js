// The audit log for supervisors and admins (GET /api/audit): filtered by
// group, by who acted and by time, newest first, a page at a time. Opened
// from the dashboard.

import { $, el } from '../dom.js';
import { describe } from '../errors.js';
import { openDialog } from './dialogs.js';

const PAGE = 50;
const whenFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit' });

const ACTIONS = {
  'room.create': 'Created the group',
  'room.settings': 'Changed the settings',
  'room.policy': 'Changed the crisis policy',
  'member.add': 'Added a member',
  'member.role': 'Changed a role',
  'member.mute': 'Muted',
  'member.unmute': 'Unmuted',
  'member.remove': 'Removed',
  'member.ban': 'Banned',
  'member.unban': 'Lifted a ban',
  'invite.create': 'Made an invite link',
  'invite.revoke': 'Revoked an invite link',
  'invite.accept': 'Joined by invite link',
  'guidelines.accept': 'Accepted the guidelines',
  'message.hide': 'Hid a message',
  'message.pin': 'Pinned a message',
  'message.unpin': 'Unpinned a message',
  'pending.approve': 'Approved a held message',
  'pending.reject': 'Rejected a held message',
  'report.create': 'Reported',
  'report.resolve': 'Resolved a report',
  'block.add': 'Blocked someone',
  'block.remove': 'Unblocked someone',
};

export function actionLabel(action) {
  if (ACTIONS[action]) return ACTIONS[action];
  if (action.startsWith('escalation.')) return `Escalation: ${action.slice(11).replace(/[._]/g, ' ')}`;
  return action;
}

// localToRFC3339 turns a datetime-local value into an RFC 3339 time.
function localToRFC3339(v) {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export class AuditDialog {
  // hooks: load(query) -> Promise<{entries, next}>, rooms() -> [{id, name}]
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.dialog = $('audit-dialog');
    this.list = $('audit-list');
    this.status = $('audit-status');
    this.error = $('audit-error');
    this.more = $('audit-more');
    this.next = 0;
    this.query = null;
    $('audit-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.search();
    });
    this.more.addEventListener('click', () => this.page(true));
  }

  open() {
    const rooms = this.hooks.rooms();
    $('audit-rooms').replaceChildren(...rooms.map((r) => el('option', { value: r.name })));
    openDialog(this.dialog, '#audit-room');
    this.search();
  }

  roomId(text) {
    const t = text.trim();
    if (!t) return '';
    const r = this.hooks.rooms().find((x) => x.name === t);
    return r ? r.id : t;
  }

  search() {
    const since = localToRFC3339($('audit-since').value);
    const until = localToRFC3339($('audit-until').value);
    this.query = { room: this.roomId($('audit-room').value), actor: $('audit-actor').value.trim(), since, until, limit: PAGE };
    this.list.replaceChildren();
    this.next = 0;
    this.page(false);
  }

  async page(more) {
    const q = { ...this.query, before: more ? this.next : 0 };
    this.error.textContent = '';
    this.status.textContent = 'Loading…';
    this.more.hidden = true;
    try {
      const res = await this.hooks.load(q);
      const entries = res.entries || [];
      this.list.append(...entries.map((e) => this.item(e)));
      this.next = res.next || 0;
      this.more.hidden = !this.next;
      const n = this.list.childElementCount;
      this.status.textContent = n ? `${n.toLocaleString()} ${n === 1 ? 'entry' : 'entries'}${this.next ? ', older ones below' : ''}` : 'Nothing matches.';
      if (more && entries.length) this.list.children[this.list.childElementCount - entries.length].querySelector('.audit-when')?.focus();
    } catch (e) {
      this.status.textContent = '';
      this.error.textContent = describe(e, this.store.limits);
    }
  }

  item(e) {
    const room = e.room ? (this.hooks.rooms().find((r) => r.id === e.room)?.name || e.room) : '';
    const when = new Date(e.at);
    return el('li', { class: 'audit-entry' },
      el('p', { class: 'audit-head' },
        el('time', { class: 'audit-when', tabindex: '-1', datetime: e.at, text: Number.isNaN(when.getTime()) ? e.at : whenFmt.format(when) }),
        el('span', { class: 'audit-actor', text: e.actor || '' }),
        el('span', { class: 'audit-action', text: actionLabel(e.action) })),
      el('dl', { class: 'audit-facts' },
        ...(room ? [el('dt', { text: 'Group' }), el('dd', { text: room })] : []),
        ...(e.target ? [el('dt', { text: 'About' }), el('dd', { text: e.target })] : []),
        ...(e.reason ? [el('dt', { text: 'Reason' }), el('dd', { text: e.reason })] : []),
        ...(e.detail ? [el('dt', { text: 'Details' }), el('dd', { class: 'audit-detail', text: e.detail })] : [])));
  }

  clear() {
    this.list.replaceChildren();
    this.status.textContent = '';
    this.error.textContent = '';
    this.more.hidden = true;
  }
}
