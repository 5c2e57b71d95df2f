// The message box: Enter sends, Shift+Enter starts a new line, it grows
// with its text, warns before a message gets too long, and tells the
// others (at most every few seconds) that this user is typing.

import { $, utf8Length } from '../dom.js';

const TYPING_EVERY_MS = 3000;
const MAX_HEIGHT_PX = 180;

export class Composer {
  // hooks: send(body) -> boolean (true when accepted), typing()
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.form = $('composer');
    this.input = $('composer-input');
    this.count = $('composer-count');
    this.lastTyping = 0;
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.metaKey && !ev.isComposing) {
        ev.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener('input', () => {
      this.resize();
      this.updateCount();
      const now = Date.now();
      if (this.input.value.trim() && now - this.lastTyping > TYPING_EVERY_MS) {
        this.lastTyping = now;
        this.hooks.typing();
      }
    });
  }

  setConversation(conv) {
    $('composer-label').textContent = `Message ${conv.name}`;
    // Short enough for a phone whatever the conversation's name; the
    // label carries the name for screen readers.
    this.input.placeholder = 'Write a message';
    this.lastTyping = 0;
  }

  submit() {
    const body = this.input.value;
    if (!body.trim()) return;
    if (this.hooks.send(body)) {
      this.input.value = '';
      this.lastTyping = 0;
      this.resize();
      this.updateCount();
    }
  }

  resize() {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight + 2, MAX_HEIGHT_PX)}px`;
  }

  updateCount() {
    const max = this.store.limits && this.store.limits.max_message_bytes;
    const n = utf8Length(this.input.value);
    if (!max || n < max * 0.8) {
      this.count.textContent = '';
      this.input.removeAttribute('aria-invalid');
      this.count.classList.remove('over');
      return;
    }
    const over = n > max;
    this.count.textContent = over
      ? `Too long: ${n.toLocaleString()} of ${max.toLocaleString()} bytes`
      : `${n.toLocaleString()} of ${max.toLocaleString()} bytes`;
    this.count.classList.toggle('over', over);
    if (over) this.input.setAttribute('aria-invalid', 'true');
    else this.input.removeAttribute('aria-invalid');
  }

  clear() {
    this.input.value = '';
    this.resize();
    this.updateCount();
  }
}
