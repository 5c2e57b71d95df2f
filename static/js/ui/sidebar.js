// The conversation list: support groups and direct messages, each with
// its unread count and, for a direct message, whether the other person is
// online. Items are keyed and updated in place so focus stays put.

import { $, el, plural } from '../dom.js';

export class Sidebar {
  constructor(store, onOpen) {
    this.store = store;
    this.onOpen = onOpen;
    this.rooms = $('room-list');
    this.dms = $('dm-list');
    this.items = new Map(); // conv id -> li
    for (const list of [this.rooms, this.dms]) {
      list.addEventListener('click', (ev) => {
        const btn = ev.target.closest('button[data-conv]');
        if (btn) this.onOpen(btn.dataset.conv, { fromList: true });
      });
    }
  }

  clear() {
    this.rooms.replaceChildren();
    this.dms.replaceChildren();
    this.items.clear();
  }

  render() {
    const seen = new Set();
    this.fill(this.rooms, this.store.sortedConvs('room'), seen);
    this.fill(this.dms, this.store.sortedConvs('dm'), seen);
    for (const id of [...this.items.keys()]) if (!seen.has(id)) this.items.delete(id);
    $('rooms-empty').hidden = this.rooms.childElementCount > 0;
    $('dms-empty').hidden = this.dms.childElementCount > 0;
  }

  fill(list, convs, seen) {
    let cursor = list.firstChild;
    for (const conv of convs) {
      seen.add(conv.id);
      let li = this.items.get(conv.id);
      if (!li) {
        li = el('li');
        this.items.set(conv.id, li);
      }
      this.update(li, conv);
      if (li === cursor) cursor = cursor.nextSibling;
      else list.insertBefore(li, cursor);
    }
    while (cursor) {
      const next = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }
  }

  update(li, conv) {
    const active = this.store.activeId === conv.id;
    let online = null;
    if (conv.kind === 'dm') {
      const partner = this.store.dmPartner(conv);
      if (partner) online = Boolean(this.store.presence.get(partner.id) ?? partner.online);
    }
    const sig = `${conv.name}|${conv.unread}|${active}|${online}`;
    if (li.dataset.sig === sig) return;
    li.dataset.sig = sig;
    // The button itself stays: only what it says changes. A new button
    // would drop the keyboard focus on it, and lose a click whose press
    // and release straddle the change (presence news comes any time).
    let btn = li.firstElementChild;
    if (!btn) {
      btn = el('button', { type: 'button', class: 'conv-item', 'data-conv': conv.id });
      li.append(btn);
    }
    if (active) btn.setAttribute('aria-current', 'true');
    else btn.removeAttribute('aria-current');
    const parts = [];
    if (online !== null) {
      parts.push(el('span', { class: `presence ${online ? 'on' : 'off'}`, 'aria-hidden': 'true' }));
    }
    // A long name ends in an ellipsis; the whole name stays in the
    // button's accessible name and, for a mouse, in a tooltip.
    const name = conv.name || 'Conversation';
    parts.push(el('span', { class: 'conv-name', title: name, text: name }));
    if (online !== null) parts.push(el('span', { class: 'sr-only', text: online ? ', online' : ', offline' }));
    if (conv.unread > 0) {
      parts.push(el('span', { class: 'badge', 'aria-hidden': 'true', text: conv.unread > 99 ? '99+' : String(conv.unread) }));
      parts.push(el('span', { class: 'sr-only', text: `, ${plural(conv.unread, 'unread message', 'unread messages')}` }));
    }
    btn.replaceChildren(...parts);
  }
}
