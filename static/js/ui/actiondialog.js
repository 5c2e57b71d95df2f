// One dialog for a moderator's actions (mute, remove, ban, hide, a role
// change, rejecting a held message): what will happen in plain words, a
// choice of how long where that applies, and an optional reason, which
// goes to the audit log only, never to the member.

import { $, el } from '../dom.js';
import { describe } from '../errors.js';
import { closeDialog, openDialog } from './dialogs.js';

export class ActionDialog {
  constructor(store) {
    this.store = store;
    this.dialog = $('action-dialog');
    this.form = $('action-form');
    this.error = $('action-error');
    this.current = null;
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    this.dialog.addEventListener('close', () => {
      const c = this.current;
      this.current = null;
      if (c) c.resolve(c.done);
    });
  }

  // open resolves to true once send succeeded. opts: title, text, okLabel,
  // danger, choices [{value, label}] with choiceLabel, reasonLabel
  // (default: the audit-log wording), send({choice, reason}) -> Promise.
  open(opts) {
    if (this.current || this.dialog.open) return Promise.resolve(false);
    $('action-title').textContent = opts.title;
    $('action-text').textContent = opts.text || '';
    $('action-text').hidden = !opts.text;
    const choices = $('action-choices');
    choices.hidden = !opts.choices;
    $('action-choice-legend').textContent = opts.choiceLabel || 'How long';
    $('action-choice-list').replaceChildren(...(opts.choices || []).map((c, i) => {
      const id = `action-choice-${i}`;
      const input = el('input', { type: 'radio', name: 'action-choice', id, value: c.value });
      if (i === (opts.choiceDefault || 0)) input.checked = true;
      return el('div', { class: 'radio' }, input, el('label', { for: id, text: c.label }));
    }));
    $('action-reason-label').firstChild.textContent = opts.reasonLabel || 'Reason, for the audit log ';
    $('action-reason-hint').textContent = opts.reasonHint ?? 'Only moderators and supervisors see it; the member doesn’t.';
    $('action-reason').value = '';
    for (const id of ['action-reason-label', 'action-reason', 'action-reason-hint']) $(id).hidden = Boolean(opts.noReason);
    const ok = $('action-ok');
    ok.textContent = opts.okLabel;
    ok.className = opts.danger ? 'danger' : 'primary';
    this.error.textContent = '';
    return new Promise((resolve) => {
      this.current = { ...opts, resolve, done: false };
      openDialog(this.dialog, opts.choices ? 'input[name="action-choice"]:checked' : opts.noReason ? '[data-close]' : '#action-reason');
    });
  }

  async submit() {
    const c = this.current;
    if (!c || this.form.getAttribute('aria-busy')) return;
    const picked = this.form.querySelector('input[name="action-choice"]:checked');
    const values = { choice: picked ? picked.value : '', reason: $('action-reason').value.trim() };
    this.form.setAttribute('aria-busy', 'true');
    $('action-ok').disabled = true;
    this.error.textContent = '';
    try {
      await c.send(values);
      c.done = true;
      closeDialog(this.dialog);
    } catch (e) {
      this.error.textContent = describe(e, this.store.limits);
    } finally {
      this.form.removeAttribute('aria-busy');
      $('action-ok').disabled = false;
    }
  }

  clear() {
    $('action-reason').value = '';
    this.error.textContent = '';
  }
}
