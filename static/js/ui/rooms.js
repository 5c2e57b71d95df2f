// Browsing and joining support groups, and (for specialists and up)
// creating one.

import { $, el, plural } from '../dom.js';
import { describe } from '../errors.js';
import { openDialog, closeDialog } from './dialogs.js';

export class RoomsDialog {
  // hooks: list() -> Promise<rooms>, join(id) -> Promise, open(id)
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.dialog = $('rooms-dialog');
    this.list = $('rooms-dialog-list');
    this.status = $('rooms-dialog-status');
    this.error = $('rooms-dialog-error');
    this.list.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-room]');
      if (btn) this.act(btn);
    });
  }

  async open() {
    this.error.textContent = '';
    this.list.replaceChildren();
    this.status.textContent = 'Loading groups…';
    openDialog(this.dialog, '.close');
    try {
      const rooms = await this.hooks.list();
      this.render(rooms);
    } catch (e) {
      this.status.textContent = '';
      this.error.textContent = describe(e, this.store.limits);
    }
  }

  render(rooms) {
    this.status.textContent = rooms.length
      ? plural(rooms.length, 'group', 'groups')
      : 'There are no support groups yet.';
    this.list.replaceChildren(...rooms.map((r) => {
      const joined = this.store.convs.has(r.id);
      return el('li', { class: 'room' },
        el('div', { class: 'room-text' },
          el('h3', { class: 'room-name', text: r.name }),
          r.topic ? el('p', { class: 'room-topic', text: r.topic }) : null,
          el('p', { class: 'room-count', text: plural(r.members || 0, 'member', 'members') })),
        el('button', { type: 'button', class: joined ? 'secondary' : 'primary', 'data-room': r.id, 'data-joined': joined ? '1' : null },
          joined ? 'Open' : 'Join', el('span', { class: 'sr-only', text: ` ${r.name}` })));
    }));
  }

  async act(btn) {
    const id = btn.dataset.room;
    this.error.textContent = '';
    if (btn.dataset.joined) {
      closeDialog(this.dialog);
      this.hooks.open(id);
      return;
    }
    btn.disabled = true;
    try {
      await this.hooks.join(id);
      closeDialog(this.dialog);
      this.hooks.open(id);
    } catch (e) {
      this.error.textContent = describe(e, this.store.limits);
      btn.disabled = false;
    }
  }

  clear() {
    this.list.replaceChildren();
    this.status.textContent = '';
    this.error.textContent = '';
  }
}

export class CreateRoomDialog {
  // hooks: create(name, topic) -> Promise<conversation>, open(id)
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.dialog = $('create-dialog');
    this.form = $('create-form');
    this.error = $('create-error');
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
  }

  open() {
    this.form.reset();
    this.error.textContent = '';
    openDialog(this.dialog, '#create-name');
  }

  async submit() {
    const name = $('create-name').value.trim();
    const topic = $('create-topic').value.trim();
    if (!name) {
      this.error.textContent = 'Please give the group a name.';
      $('create-name').focus();
      return;
    }
    this.error.textContent = '';
    this.form.setAttribute('aria-busy', 'true');
    try {
      const conv = await this.hooks.create(name, topic);
      closeDialog(this.dialog);
      this.hooks.open(conv.id, conv);
    } catch (e) {
      this.error.textContent = describe(e.detail || e, this.store.limits);
    } finally {
      this.form.removeAttribute('aria-busy');
    }
  }
}
