// A polite live region: screen readers read what is added here when the
// user is not busy, without moving focus. Old lines are removed so the
// region stays small.

import { $, el } from '../dom.js';

const KEEP = 5;

export function announce(text) {
  const region = $('announcer');
  if (!region || !text) return;
  region.append(el('p', { text }));
  while (region.childElementCount > KEEP) region.firstElementChild.remove();
}

export function clearAnnouncements() {
  const region = $('announcer');
  if (region) region.replaceChildren();
}
