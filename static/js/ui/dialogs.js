// Modal dialogs on the native <dialog>: it keeps focus inside, makes the
// rest of the page inert, and closes on Escape. Focus goes back to what
// opened the dialog.

import { $ } from '../dom.js';

const openers = new WeakMap();

export function openDialog(dialog, focusSelector) {
  openers.set(dialog, document.activeElement);
  if (!dialog.open) dialog.showModal();
  const target = focusSelector ? dialog.querySelector(focusSelector) : null;
  if (target) target.focus();
}

export function closeDialog(dialog) {
  if (dialog.open) dialog.close();
}

// onClosed runs fn on dialog's close event, unless the dialog was opened
// again before it came: the event comes a task after the closing (a frame
// later when the page is busy), and it must not clear what the new
// opening set up (a "Not now" then "Read the guidelines" in quick
// succession left the Accept button doing nothing).
export function onClosed(dialog, fn) {
  dialog.addEventListener('close', () => {
    if (!dialog.open) fn();
  });
}

export function closeAllDialogs() {
  for (const d of document.querySelectorAll('dialog')) {
    openers.delete(d);
    if (d.open) d.close();
  }
}

// setupDialogs wires [data-close] buttons, clicks on the backdrop, and
// focus return, for every dialog of the page.
export function setupDialogs() {
  for (const d of document.querySelectorAll('dialog')) {
    d.addEventListener('click', (ev) => {
      if (ev.target.closest('[data-close]')) {
        closeDialog(d);
        return;
      }
      // A click on the backdrop lands on the dialog element itself.
      if (ev.target === d) {
        const r = d.getBoundingClientRect();
        const inside = ev.clientX >= r.left && ev.clientX <= r.right && ev.clientY >= r.top && ev.clientY <= r.bottom;
        if (!inside) closeDialog(d);
      }
    });
    onClosed(d, () => {
      const opener = openers.get(d);
      openers.delete(d);
      // The close event comes a task after the dialog closed: if the
      // person has already moved on (opened a menu, clicked elsewhere),
      // focus stays where they put it instead of jumping back.
      const a = document.activeElement;
      const unplaced = !a || a === document.body || d.contains(a);
      if (unplaced && opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
    });
  }
}

// confirmDialog asks to confirm something that cannot be undone; it
// resolves to true when confirmed.
export function confirmDialog(title, text, okLabel) {
  const dialog = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    let result = false;
    const form = $('confirm-form');
    const onSubmit = (ev) => {
      ev.preventDefault();
      result = true;
      closeDialog(dialog);
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('close', () => {
      form.removeEventListener('submit', onSubmit);
      resolve(result);
    }, { once: true });
    openDialog(dialog, 'button[data-close]');
  });
}

// FormDialog is a dialog with a form whose submission sends something:
// show() resolves to true once a send succeeded, false when the dialog
// closed without one; run() sends while the form is busy and shows a
// refusal in the dialog instead of closing it.
export class FormDialog {
  // ids: { dialog, form, error, ok }.
  constructor(ids) {
    this.dialog = $(ids.dialog);
    this.form = $(ids.form);
    this.error = $(ids.error);
    this.ok = $(ids.ok);
    this.current = null;
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    onClosed(this.dialog, () => {
      const c = this.current;
      this.current = null;
      if (c) c.resolve(c.done);
    });
  }

  // taken: the dialog is showing already (a second open resolves false).
  taken() {
    return Boolean(this.current) || this.dialog.open;
  }

  // ready: there is something to send and no send under way.
  ready() {
    return Boolean(this.current) && !this.form.getAttribute('aria-busy');
  }

  show(opts, focusSelector) {
    this.error.textContent = '';
    return new Promise((resolve) => {
      this.current = { ...opts, resolve, done: false };
      openDialog(this.dialog, focusSelector);
    });
  }

  async run(send, explain) {
    const c = this.current;
    this.error.textContent = '';
    this.form.setAttribute('aria-busy', 'true');
    this.ok.disabled = true;
    try {
      await send();
      c.done = true;
      closeDialog(this.dialog);
    } catch (e) {
      this.error.textContent = explain(e);
    } finally {
      this.form.removeAttribute('aria-busy');
      this.ok.disabled = false;
    }
  }
}
