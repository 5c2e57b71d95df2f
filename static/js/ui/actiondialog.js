// One dialog for a moderator's actions (mute, remove, ban, hide, a role
// change, rejecting a held message): what will happen in plain words, a
// choice of how long where that applies, and an optional reason, which
// goes to the audit log only, never to the member.

import { $, el } from '../dom.js';
import { describe } from '../errors.js';
import { FormDialog } from './dialogs.js';

export class ActionDialog extends FormDialog {
  constructor(store) {
    super({ dialog: 'action-dialog', form: 'action-form', error: 'action-error', ok: 'action-ok' });
    this.store = store;
  }

  // open resolves to true once send succeeded. opts: title, text, okLabel,
  // danger, choices [{value, label}] with choiceLabel, reasonLabel
  // (default: the audit-log wording), send({choice, reason}) -> Promise.
  open(opts) {
    if (this.taken()) return Promise.resolve(false);
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
    this.ok.textContent = opts.okLabel;
    this.ok.className = opts.danger ? 'danger' : 'primary';
    return this.show(opts, opts.choices ? 'input[name="action-choice"]:checked' : opts.noReason ? '[data-close]' : '#action-reason');
  }

  submit() {
    if (!this.ready()) return;
    const c = this.current;
    const picked = this.form.querySelector('input[name="action-choice"]:checked');
    const values = { choice: picked ? picked.value : '', reason: $('action-reason').value.trim() };
    return this.run(() => c.send(values), (e) => describe(e, this.store.limits));
  }

  clear() {
    $('action-reason').value = '';
    this.error.textContent = '';
  }
}
