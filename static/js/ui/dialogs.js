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
    d.addEventListener('close', () => {
      const opener = openers.get(d);
      openers.delete(d);
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
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
