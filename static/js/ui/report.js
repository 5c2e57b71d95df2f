// Asking a supervisor to look: "Flag for a supervisor" on someone's
// message (any member), and "Raise a concern" about a person (specialists
// and up). Both confirm first, take an optional or required reason, and
// say plainly what happens next.

import { $ } from '../dom.js';
import { describe } from '../errors.js';
import { FormDialog } from './dialogs.js';

function excerpt(body) {
  const s = body.replace(/\s+/g, ' ').trim();
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
}

// explain turns a refusal into a sentence. When reaching a supervisor
// fails, the person is also pointed to help that does not depend on it.
function explain(e) {
  switch (e && e.code) {
    case 'unavailable':
    case 'internal':
    case 'timeout':
    case 'offline':
      return `A supervisor couldn’t be reached this way just now. ${describe(e)} If someone is in danger, call your local emergency number.`;
    case 'not_found':
      return 'That message or person no longer exists.';
    case 'conflict':
      return 'That message was deleted, so it can’t be flagged.';
    case 'forbidden':
      return 'Your role doesn’t allow raising a concern. You can flag one of the person’s messages instead.';
    default:
      return describe(e);
  }
}

export class ReportDialog extends FormDialog {
  constructor() {
    super({ dialog: 'report-dialog', form: 'report-form', error: 'report-error', ok: 'report-ok' });
    this.input = $('report-reason');
  }

  // open shows the dialog; it resolves to true once the report was sent.
  // opts: title, text, quote, label, required, okLabel, send(reason).
  open(opts) {
    if (this.taken()) return Promise.resolve(false);
    $('report-title').textContent = opts.title;
    $('report-text').textContent = opts.text;
    const quote = $('report-quote');
    quote.textContent = opts.quote ? `“${excerpt(opts.quote)}”` : '';
    quote.hidden = !opts.quote;
    $('report-label').textContent = opts.label;
    this.ok.textContent = opts.okLabel;
    this.input.value = '';
    this.input.required = Boolean(opts.required);
    this.input.removeAttribute('aria-invalid');
    return this.show(opts, opts.required ? '#report-reason' : 'button[data-close]');
  }

  submit() {
    if (!this.ready()) return;
    const c = this.current;
    const reason = this.input.value.trim();
    if (c.required && !reason) {
      this.error.textContent = 'Please say briefly what worries you, so the supervisor knows what to look for.';
      this.input.setAttribute('aria-invalid', 'true');
      this.input.focus();
      return;
    }
    this.input.removeAttribute('aria-invalid');
    return this.run(() => c.send(reason), explain);
  }

  clear() {
    this.input.value = '';
    this.error.textContent = '';
    $('report-quote').textContent = '';
  }
}

// flagMessage asks a supervisor to look at message m: someone else's
// (flag it), or one's own (a way to ask for help). how: send(reason) ->
// Promise, flash(text).
export async function flagMessage(dialog, m, mine, how) {
  if (mine) {
    const asked = await dialog.open({
      title: 'Ask a supervisor for help?',
      text: 'A supervisor from your support team will be told and will reach out to you. If you are in danger right now, please call your local emergency number.',
      quote: m.body,
      label: 'Anything you’d like them to know? (optional)',
      okLabel: 'Ask for help',
      send: how.send,
    });
    if (asked) how.flash('Thank you for asking. A supervisor has been told and will reach out to you.');
    return;
  }
  const sent = await dialog.open({
    title: 'Flag this message for a supervisor?',
    text: `A supervisor will be asked to look at ${m.name}’s message and check in if needed. Flag a message when you’re worried about someone’s safety.`,
    quote: m.body,
    label: 'Anything the supervisor should know? (optional)',
    okLabel: 'Flag message',
    send: how.send,
  });
  if (sent) how.flash('Thank you. A supervisor has been told and will take it from here.');
}

// raiseConcern tells a supervisor one is worried about member (staff).
export async function raiseConcern(dialog, member, how) {
  const sent = await dialog.open({
    title: `Raise a concern about ${member.name}?`,
    text: `A supervisor will be told that you are worried about ${member.name} and will follow up.`,
    label: 'What worries you?',
    required: true,
    okLabel: 'Raise concern',
    send: how.send,
  });
  if (sent) how.flash(`Thank you. A supervisor has been told about your concern for ${member.name}.`);
}
