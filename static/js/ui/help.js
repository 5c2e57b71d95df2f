// "Get help now": crisis resources within reach on every screen, crisis or
// not, connected or not, and the resource list the private support note
// shows too. Phone numbers are tap-to-call (tel:) and tap-to-text (sms:)
// links.

import { $, el } from '../dom.js';
import { openDialog } from './dialogs.js';

// The server's default (docs/protocol.md#support), until a welcome brings
// the operator's own; kept for the next visit so it works offline too.
export const DEFAULT_RESOURCES = [
  { name: '988 Suicide & Crisis Lifeline', contact: 'Call or text 988 (US)', url: 'https://988lifeline.org', call: '988', text: '988' },
  { name: 'Emergency services', contact: 'Call 911 (US) or your local emergency number', call: '911' },
];

const SAVED = 'kindred.crisisResources';
const PHONE = /^\+?[0-9]{2,15}$/;

// Links come from the server's configuration; only web pages are linked
// by URL, and phone numbers only as digits.
function webLink(s) {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u : null;
  } catch {
    return null;
  }
}

// resourceItems renders resources as list items: name, how to reach it,
// then a call, text and web link for each that is given.
export function resourceItems(resources) {
  return (Array.isArray(resources) ? resources : []).filter((r) => r && (r.name || r.contact)).map((r) => {
    const links = [];
    if (typeof r.call === 'string' && PHONE.test(r.call)) {
      links.push(el('a', { class: 'help-link', href: `tel:${r.call}`, text: `Call ${r.call}` }));
    }
    if (typeof r.text === 'string' && PHONE.test(r.text)) {
      links.push(el('a', { class: 'help-link', href: `sms:${r.text}`, text: `Text ${r.text}` }));
    }
    const web = r.url ? webLink(r.url) : null;
    if (web) {
      links.push(el('a', { href: web.href, target: '_blank', rel: 'noopener noreferrer', text: web.hostname.replace(/^www\./, '') || web.href }));
    }
    return el('li', { class: 'support-resource' },
      el('span', { class: 'support-name', text: r.name || '' }),
      r.contact ? el('span', { class: 'support-contact', text: r.contact }) : null,
      links.length ? el('span', { class: 'support-links' }, ...links) : null);
  });
}

// savedResources is what the last welcome said, or the default.
export function savedResources() {
  try {
    const r = JSON.parse(localStorage.getItem(SAVED) || 'null');
    if (Array.isArray(r) && r.length) return r;
  } catch {
    // Unreadable: the default will do.
  }
  return DEFAULT_RESOURCES;
}

export class HelpDialog {
  constructor() {
    this.resources = savedResources();
    this.dialog = $('help-dialog');
    for (const id of ['help-now', 'signin-help']) {
      const b = $(id);
      if (b) b.addEventListener('click', () => this.open());
    }
  }

  // setResources keeps the resources a welcome brought.
  setResources(resources) {
    if (!Array.isArray(resources) || !resources.length) return;
    this.resources = resources;
    try {
      localStorage.setItem(SAVED, JSON.stringify(resources));
    } catch {
      // Storage full or refused: this visit still has them.
    }
    if (this.dialog.open) this.render();
  }

  render() {
    $('help-resources').replaceChildren(...resourceItems(this.resources));
  }

  open() {
    this.render();
    openDialog(this.dialog, 'a[href]');
  }
}
