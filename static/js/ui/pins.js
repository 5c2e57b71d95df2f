// Pinned messages of the open room: one folded line under the header
// ("2 pinned messages"), which unfolds into the list; choosing one shows
// it in the conversation when it is loaded.

import { $, el, plural } from '../dom.js';

function excerpt(body) {
  const s = (body || '').replace(/\s+/g, ' ').trim();
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}

export class PinsStrip {
  constructor(store) {
    this.store = store;
    this.box = $('pins');
    this.toggle = $('pins-toggle');
    this.list = $('pins-list');
    this.toggle.addEventListener('click', () => this.setOpen(this.toggle.getAttribute('aria-expanded') !== 'true'));
    this.list.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-seq]');
      if (b) this.jump(Number(b.dataset.seq));
    });
  }

  setOpen(open) {
    this.toggle.setAttribute('aria-expanded', String(open));
    this.list.hidden = !open;
  }

  render() {
    const conv = this.store.active;
    const pins = conv && conv.pins ? [...conv.pins.values()].sort((a, b) => a.seq - b.seq) : [];
    this.box.hidden = pins.length === 0;
    if (!pins.length) {
      this.setOpen(false);
      this.list.replaceChildren();
      return;
    }
    this.toggle.textContent = plural(pins.length, 'pinned message', 'pinned messages');
    this.list.replaceChildren(...pins.map((p) => {
      const m = conv.messages.get(p.seq);
      const text = !m ? 'A message from earlier' : m.deleted ? (m.hidden ? 'Removed by a moderator' : 'message deleted') : excerpt(m.body);
      return el('li', {},
        m && !m.deleted ? el('span', { class: 'pin-who', text: m.name }) : null,
        m ? el('button', { type: 'button', class: 'link-button', 'data-seq': String(p.seq), text }) : el('span', { text }));
    }));
  }

  jump(seq) {
    const li = $('message-list').querySelector(`li.msg[data-seq="${seq}"]`);
    if (!li) return;
    li.scrollIntoView({ block: 'center' });
    li.setAttribute('tabindex', '-1');
    li.focus();
  }

  clear() {
    this.list.replaceChildren();
    this.box.hidden = true;
    this.setOpen(false);
  }
}
