// Live regions: screen readers read what is added here without moving
// focus. The polite one waits until the user is not busy (new messages);
// the urgent one interrupts (a supervisor is being paged). Old lines are
// removed so the regions stay small.

import { $, el } from '../dom.js';

const KEEP = 5;

function add(region, text) {
  if (!region || !text) return;
  region.append(el('p', { text }));
  while (region.childElementCount > KEEP) region.firstElementChild.remove();
}

export function announce(text) {
  add($('announcer'), text);
}

export function announceUrgent(text) {
  add($('urgent-announcer'), text);
}

export function clearAnnouncements() {
  for (const id of ['announcer', 'urgent-announcer']) {
    const region = $(id);
    if (region) region.replaceChildren();
  }
}
