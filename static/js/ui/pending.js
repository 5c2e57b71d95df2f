// Pre-moderation: newcomers' first messages waiting for a moderator, who
// approves (the group gets the message) or rejects them (it is deleted).
// Live pending and pending_done frames keep the list current.

import { $, el, formatTime, plural } from '../dom.js';
import { describe } from '../errors.js';
import { onClosed, openDialog } from './dialogs.js';

export class PendingDialog {
  // hooks: list(conv) -> Promise<pending>, approve(conv, item) -> Promise,
  // reject(conv, item) -> Promise<bool>
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.dialog = $('pending-dialog');
    this.list = $('pending-list');
    this.status = $('pending-status');
    this.error = $('pending-error');
    this.conv = null;
    this.items = new Map();
    this.list.addEventListener('click', (ev) => this.act(ev.target.closest('button[data-pending]')));
    onClosed(this.dialog, () => {
      this.conv = null;
    });
  }

  async open(conv) {
    this.conv = conv;
    this.items.clear();
    this.done = '';
    this.list.replaceChildren();
    this.error.textContent = '';
    this.status.textContent = 'Loading…';
    $('pending-title').textContent = `Awaiting approval in ${conv.name}`;
    openDialog(this.dialog, '.close');
    try {
      const items = await this.hooks.list(conv);
      if (this.conv !== conv) return;
      for (const p of items) this.items.set(p.id, p);
      this.render();
    } catch (e) {
      this.status.textContent = '';
      this.error.textContent = describe(e, this.store.limits);
    }
  }

  clear() {
    this.items.clear();
    this.list.replaceChildren();
    this.status.textContent = '';
    this.error.textContent = '';
  }

  // news applies a pending (added) or pending_done (gone) frame.
  news(f) {
    if (!this.conv || f.conv !== this.conv.id) return;
    if (f.type === 'pending' && f.pending) this.items.set(f.pending.id, f.pending);
    else if (f.type === 'pending_done') this.items.delete(f.id);
    this.render();
  }

  render() {
    const items = [...this.items.values()].sort((a, b) => (a.ts < b.ts ? -1 : 1));
    const count = items.length ? `${plural(items.length, 'message waits', 'messages wait')}.` : 'Nothing is waiting.';
    this.status.textContent = this.done ? `${this.done} ${count}` : count;
    const focus = document.activeElement && this.list.contains(document.activeElement) ? document.activeElement : null;
    const again = focus ? [focus.dataset.pending, focus.dataset.do] : null;
    this.list.replaceChildren(...items.map((p) => {
      const d = new Date(p.ts);
      const who = p.name || p.sender;
      return el('li', { class: 'queue-item', 'data-item': p.id },
        el('div', { class: 'queue-text' },
          el('p', { class: 'queue-head' }, el('span', { class: 'msg-author', text: who }),
            el('span', { class: 'queue-when', text: Number.isNaN(d.getTime()) ? '' : formatTime(d) })),
          el('p', { class: 'msg-body', text: p.body })),
        el('span', { class: 'queue-buttons' },
          el('button', { type: 'button', class: 'primary small', 'data-pending': p.id, 'data-do': 'approve' },
            'Approve', el('span', { class: 'sr-only', text: ` ${who}’s message` })),
          el('button', { type: 'button', class: 'secondary small', 'data-pending': p.id, 'data-do': 'reject', 'aria-haspopup': 'dialog' },
            'Reject', el('span', { class: 'sr-only', text: ` ${who}’s message` }))));
    }));
    if (again) {
      const b = this.list.querySelector(`button[data-pending="${CSS.escape(again[0])}"][data-do="${again[1]}"]`) ||
        this.list.querySelector('button[data-pending]');
      (b || this.dialog.querySelector('.close')).focus();
    }
  }

  async act(btn) {
    const conv = this.conv;
    const item = btn && this.items.get(btn.dataset.pending);
    if (!conv || !item) return;
    this.error.textContent = '';
    btn.disabled = true;
    try {
      const done = btn.dataset.do === 'approve' ? (await this.hooks.approve(conv, item), true) : await this.hooks.reject(conv, item);
      if (done) {
        this.items.delete(item.id);
        this.done = btn.dataset.do === 'approve' ? 'Approved: the group can read it now.' : 'Rejected.';
        const nextLi = this.list.querySelector(`li:not([data-item="${CSS.escape(item.id)}"])`);
        const nextId = nextLi && nextLi.dataset.item;
        this.render();
        const next = nextId && this.list.querySelector(`button[data-pending="${CSS.escape(nextId)}"]`);
        (next || this.dialog.querySelector('.close')).focus();
      }
    } catch (e) {
      this.error.textContent = describe(e, this.store.limits);
    } finally {
      if (btn.isConnected) btn.disabled = false;
    }
  }
}
