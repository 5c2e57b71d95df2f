// A popup menu behind a "⋯" button (the menu button pattern of WAI-ARIA):
// the button has aria-haspopup="menu" and aria-expanded; the menu is a
// role="menu" list of role="menuitem" buttons placed right after it, so it
// works inside a modal dialog too. Arrow keys, Home and End move between
// items; Escape closes it and returns focus to the button, as do Tab and a
// click outside. Only one menu is open at a time.

import { el } from '../dom.js';

let current = null; // {button, list, onPick}
let counter = 0;

export function closeMenu(returnFocus = false) {
  const c = current;
  if (!c) return;
  current = null;
  c.list.remove();
  c.button.setAttribute('aria-expanded', 'false');
  c.button.removeAttribute('aria-controls');
  document.removeEventListener('pointerdown', onOutside, true);
  if (returnFocus && c.button.isConnected) c.button.focus();
  if (c.onClose) c.onClose();
}

function onOutside(ev) {
  if (current && !current.list.contains(ev.target) && !current.button.contains(ev.target)) closeMenu(false);
}

function items() {
  return current ? [...current.list.querySelectorAll('[role="menuitem"]')] : [];
}

function move(delta, abs) {
  const all = items();
  if (!all.length) return;
  const i = all.indexOf(document.activeElement);
  let next = abs !== undefined ? abs : i + delta;
  if (next < 0) next = all.length - 1;
  if (next >= all.length) next = 0;
  all[next].focus();
}

function onKey(ev) {
  switch (ev.key) {
    case 'Escape':
      // Handled here: a dialog around the menu must stay open.
      ev.preventDefault();
      ev.stopPropagation();
      closeMenu(true);
      break;
    case 'ArrowDown':
      ev.preventDefault();
      move(1);
      break;
    case 'ArrowUp':
      ev.preventDefault();
      move(-1);
      break;
    case 'Home':
      ev.preventDefault();
      move(0, 0);
      break;
    case 'End':
      ev.preventDefault();
      move(0, items().length - 1);
      break;
    case 'Tab':
      closeMenu(false);
      break;
    default:
      break;
  }
}

// menuButton makes the "⋯" button; label names what the menu is about
// ("Actions for Bob's message").
export function menuButton(label, attrs = {}) {
  return el('button', {
    type: 'button', class: 'menu-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-label': label, ...attrs,
  }, el('span', { 'aria-hidden': 'true', text: '⋯' }));
}

// openMenu shows the menu of button with entries [{id, label, danger,
// dialog}] (dialog: the item opens a dialog); onPick(id) is called after
// the menu closed, with focus back on the button.
export function openMenu(button, entries, onPick, opts = {}) {
  const again = current && current.button === button;
  closeMenu(false);
  if (again || !entries.length) return;
  counter += 1;
  const id = `menu-${counter}`;
  const list = el('ul', { id, class: 'menu', role: 'menu', 'aria-label': button.getAttribute('aria-label') || 'Actions' },
    ...entries.map((e) => el('li', { role: 'none' },
      el('button', {
        type: 'button', role: 'menuitem', class: e.danger ? 'danger-item' : null, 'data-item': e.id,
        'aria-haspopup': e.dialog ? 'dialog' : null, tabindex: '-1', text: e.label,
      }))));
  list.addEventListener('keydown', onKey);
  list.addEventListener('click', (ev) => {
    const item = ev.target.closest('[data-item]');
    if (!item) return;
    closeMenu(true);
    onPick(item.dataset.item);
  });
  button.after(list);
  button.setAttribute('aria-expanded', 'true');
  button.setAttribute('aria-controls', id);
  current = { button, list, onPick, onClose: opts.onClose };
  // Open upwards when there is no room below.
  const r = list.getBoundingClientRect();
  if (r.bottom > window.innerHeight - 8 && r.height < button.getBoundingClientRect().top) list.classList.add('up');
  document.addEventListener('pointerdown', onOutside, true);
  move(0, opts.last ? items().length - 1 : 0);
}

// wireMenuKeys lets ArrowDown/ArrowUp on a menu button open its menu, as
// the pattern expects; open(button, last) opens it.
export function menuKeydown(ev, open) {
  const btn = ev.target.closest('button[aria-haspopup="menu"]');
  if (!btn) return;
  if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
    ev.preventDefault();
    open(btn, ev.key === 'ArrowUp');
  }
}
