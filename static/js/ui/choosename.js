// "Choose the name others will see": offered once, after the sign-in
// that made a person's account. Until they choose, others see a name like
// "Member 1234" (never taken from the email address, which often holds a
// real name). Saving is PATCH /api/me and then a token that carries the
// new name; skipping is always fine.

import { $ } from '../dom.js';
import { describe } from '../errors.js';
import { FormDialog } from './dialogs.js';

const MAX_NAME = 80;

function explain(e) {
  const d = (e && e.detail) || e || {};
  if (d.code === 'invalid_field' && d.message) {
    const t = d.message.charAt(0).toUpperCase() + d.message.slice(1);
    return /[.!?]$/.test(t) ? t : `${t}.`;
  }
  return `Your name wasn’t saved. ${describe(e)}`;
}

export class ChooseNameDialog extends FormDialog {
  // save(name) -> Promise: the name saved and the session using it.
  constructor(save) {
    super({ dialog: 'name-dialog', form: 'name-form', error: 'name-error', ok: 'name-ok' });
    this.save = save;
    this.input = $('name-input');
  }

  // open resolves to true once a name was saved, false when skipped.
  open(current) {
    if (this.taken()) return Promise.resolve(false);
    this.input.value = '';
    this.input.removeAttribute('aria-invalid');
    $('name-hint').textContent = current
      ? `Until you choose, others see you as “${current}”. You can skip this for now.`
      : 'You can skip this for now.';
    return this.show({}, '#name-input');
  }

  submit() {
    if (!this.ready()) return;
    const name = this.input.value.trim();
    const fail = (text) => {
      this.error.textContent = text;
      this.input.setAttribute('aria-invalid', 'true');
      this.input.focus();
    };
    this.input.removeAttribute('aria-invalid');
    if (!name) return fail('Enter a name, or choose “Skip for now”.');
    if (name.length > MAX_NAME) return fail(`A name can be at most ${MAX_NAME} characters long.`);
    return this.run(() => this.save(name), explain);
  }
}
