// A room's guidelines, shown to a member who has not accepted their
// current version (a confidentiality agreement is usual in support
// groups): read them, then "Accept" (POST /api/rooms/{id}/guidelines/accept
// with the version read, so a change made meanwhile is not accepted
// unseen). Until then the message box stays disabled.

import { $ } from '../dom.js';
import { describe } from '../errors.js';
import { closeDialog, onClosed, openDialog } from './dialogs.js';

export class GuidelinesDialog {
  // hooks: accept(conv, version) -> Promise, accepted(conv), exempt(conv)
  // (moderators post without accepting)
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.dialog = $('guidelines-dialog');
    this.form = $('guidelines-form');
    this.error = $('guidelines-error');
    this.conv = null;
    this.version = 0;
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    onClosed(this.dialog, () => {
      this.conv = null;
    });
  }

  open(conv) {
    if (!conv || !conv.guidelines) return;
    this.conv = conv;
    this.version = conv.guidelinesVersion;
    $('guidelines-title').textContent = `Guidelines of ${conv.name}`;
    $('guidelines-text').textContent = conv.guidelines;
    const done = (conv.guidelinesAccepted || 0) >= conv.guidelinesVersion || this.hooks.exempt(conv);
    $('guidelines-ok').hidden = done;
    $('guidelines-later').textContent = done ? 'Close' : 'Not now';
    $('guidelines-intro').textContent = done
      ? 'The guidelines everyone in this group agrees to.'
      : 'Everyone in this group agrees to these guidelines before posting. Please read them.';
    this.error.textContent = '';
    openDialog(this.dialog, done ? '[data-close]' : '#guidelines-text');
  }

  async submit() {
    const conv = this.conv;
    if (!conv || this.form.getAttribute('aria-busy')) return;
    this.form.setAttribute('aria-busy', 'true');
    this.error.textContent = '';
    try {
      await this.hooks.accept(conv, this.version);
      conv.guidelinesAccepted = Math.max(conv.guidelinesAccepted || 0, this.version);
      closeDialog(this.dialog);
      this.hooks.accepted(conv);
    } catch (e) {
      if (e.code === 'conflict') {
        // Changed while being read: show the new text.
        this.error.textContent = 'The guidelines were just changed. Please read them again.';
        this.version = conv.guidelinesVersion;
        $('guidelines-text').textContent = conv.guidelines;
      } else {
        this.error.textContent = describe(e, this.store.limits);
      }
    } finally {
      this.form.removeAttribute('aria-busy');
    }
  }

  clear() {
    $('guidelines-text').textContent = '';
    this.error.textContent = '';
  }
}
