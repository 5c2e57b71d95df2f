// Asking a supervisor to look: "Flag for a supervisor" on someone's
// message (any member), and "Raise a concern" about a person (specialists
// and up). Both confirm first, take an optional or required reason, and
// say plainly what happens next.

import { $ } from '../dom.js';
import { describe } from '../errors.js';
import { closeDialog, openDialog } from './dialogs.js';

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

export class ReportDialog {
  constructor() {
    this.dialog = $('report-dialog');
    this.form = $('report-form');
    this.input = $('report-reason');
    this.error = $('report-error');
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

  // open shows the dialog; it resolves to true once the report was sent.
  // opts: title, text, quote, label, required, okLabel, send(reason).
  open(opts) {
    if (this.current || this.dialog.open) return Promise.resolve(false);
    $('report-title').textContent = opts.title;
    $('report-text').textContent = opts.text;
    const quote = $('report-quote');
    quote.textContent = opts.quote ? `“${excerpt(opts.quote)}”` : '';
    quote.hidden = !opts.quote;
    $('report-label').textContent = opts.label;
    $('report-ok').textContent = opts.okLabel;
    this.input.value = '';
    this.input.required = Boolean(opts.required);
    this.input.removeAttribute('aria-invalid');
    this.error.textContent = '';
    return new Promise((resolve) => {
      this.current = { ...opts, resolve, done: false };
      openDialog(this.dialog, opts.required ? '#report-reason' : 'button[data-close]');
    });
  }

  async submit() {
    const c = this.current;
    if (!c || this.form.getAttribute('aria-busy')) return;
    const reason = this.input.value.trim();
    if (c.required && !reason) {
      this.error.textContent = 'Please say briefly what worries you, so the supervisor knows what to look for.';
      this.input.setAttribute('aria-invalid', 'true');
      this.input.focus();
      return;
    }
    this.input.removeAttribute('aria-invalid');
    this.error.textContent = '';
    this.form.setAttribute('aria-busy', 'true');
    $('report-ok').disabled = true;
    try {
      await c.send(reason);
      c.done = true;
      closeDialog(this.dialog);
    } catch (e) {
      this.error.textContent = explain(e);
    } finally {
      this.form.removeAttribute('aria-busy');
      $('report-ok').disabled = false;
    }
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
