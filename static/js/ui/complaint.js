// Reporting a message or a person to the room's moderators: what is wrong
// (harassment, spam, inappropriate, someone may be in danger, something
// else) and, optionally, in one's own words. A danger report also reaches
// the crisis team, which the dialog says.

import { $ } from '../dom.js';
import { describe } from '../errors.js';
import { closeDialog, onClosed, openDialog } from './dialogs.js';

function excerpt(body) {
  const s = body.replace(/\s+/g, ' ').trim();
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
}

function explain(e) {
  switch (e && e.code) {
    case 'conflict': return 'That message was deleted, so it can’t be reported.';
    case 'not_found': return 'That message or person is no longer in the group.';
    case 'invalid_field': return 'You can’t report yourself or your own message.';
    case 'rate_limited': return 'You have sent many reports in a short time. Please wait a while before the next one.';
    default: return describe(e);
  }
}

export class ComplaintDialog {
  constructor() {
    this.dialog = $('complaint-dialog');
    this.form = $('complaint-form');
    this.error = $('complaint-error');
    this.current = null;
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    this.form.addEventListener('change', () => {
      $('complaint-danger').hidden = this.category() !== 'danger';
    });
    onClosed(this.dialog, () => {
      const c = this.current;
      this.current = null;
      if (c) c.resolve(c.done);
    });
  }

  category() {
    const picked = this.form.querySelector('input[name="complaint-category"]:checked');
    return picked ? picked.value : '';
  }

  // open resolves to true once sent. opts: text, quote, send(category,
  // reason) -> Promise.
  open(opts) {
    if (this.current || this.dialog.open) return Promise.resolve(false);
    this.form.reset();
    $('complaint-text').textContent = opts.text;
    $('complaint-quote').textContent = opts.quote ? `“${excerpt(opts.quote)}”` : '';
    $('complaint-quote').hidden = !opts.quote;
    $('complaint-danger').hidden = true;
    this.error.textContent = '';
    return new Promise((resolve) => {
      this.current = { ...opts, resolve, done: false };
      openDialog(this.dialog, 'input[name="complaint-category"]');
    });
  }

  async submit() {
    const c = this.current;
    if (!c || this.form.getAttribute('aria-busy')) return;
    const category = this.category();
    if (!category) {
      this.error.textContent = 'Please choose what is wrong, so the moderators know what to look for.';
      this.form.querySelector('input[name="complaint-category"]').focus();
      return;
    }
    this.error.textContent = '';
    this.form.setAttribute('aria-busy', 'true');
    $('complaint-ok').disabled = true;
    try {
      await c.send(category, $('complaint-reason').value.trim());
      c.done = true;
      closeDialog(this.dialog);
    } catch (e) {
      this.error.textContent = explain(e);
    } finally {
      this.form.removeAttribute('aria-busy');
      $('complaint-ok').disabled = false;
    }
  }

  clear() {
    this.form.reset();
    $('complaint-quote').textContent = '';
    this.error.textContent = '';
  }
}
