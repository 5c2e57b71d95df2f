// The escalation queue as the dashboard lists it: one group per person (a
// heading with their name and counts, then their escalations), in the
// order EscalationQueue.groups gives. Groups and items are kept and moved,
// not redrawn, so the item in focus keeps it through live updates; the
// arrow keys, Home and End move through the items, and beside the queue
// the selection (the detail) follows them.

import { el, plural } from '../dom.js';

const narrow = window.matchMedia('(max-width: 760px)');

const SEVERITY = {
  imminent: 'Imminent',
  high: 'High',
  concern: 'Concern',
  none: 'Unrated',
};

export function severityLabel(s) {
  return SEVERITY[s] || SEVERITY.none;
}

// place says where an escalation happened, for lists and notifications:
// a room's name, never a person's.
export function place(e) {
  if (e.conv_kind === 'room') return e.conv_name || 'a room';
  if (e.conv_kind === 'dm') return 'a direct message';
  return 'no conversation';
}

export class EscList {
  // hooks: status(e) -> short status text, me() -> user id,
  // select(id, opts) (opts.focus: an item was chosen; opts.browsing: the
  // arrow keys moved onto it)
  constructor(list, hooks) {
    this.list = list;
    this.hooks = hooks;
    this.items = new Map(); // escalation id -> li
    this.groups = new Map(); // group key -> li of the person's group
    this.groupCount = 0;
    this.selectedId = null;
    list.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-esc]');
      if (btn) hooks.select(btn.dataset.esc, { focus: true });
    });
    list.addEventListener('keydown', (ev) => this.onKey(ev));
  }

  clear() {
    this.list.replaceChildren();
    this.items.clear();
    this.groups.clear();
    this.selectedId = null;
  }

  button(id) {
    const li = id ? this.items.get(id) : null;
    return li ? li.firstElementChild : null;
  }

  // focus puts focus on id's item; false when it is not listed.
  focus(id) {
    const btn = this.button(id);
    if (!btn || !btn.isConnected) return false;
    btn.focus();
    return true;
  }

  // render lays out groups. It reports whether focus was on an item that
  // left the list (the caller puts it somewhere sensible).
  render(groups, selectedId) {
    this.selectedId = selectedId;
    // Moving a node takes focus from it: the item in focus gets it back.
    const active = document.activeElement;
    const focusedId = this.list.contains(active) ? active.closest('button[data-esc]')?.dataset.esc : null;
    const seen = new Set();
    let cursor = this.list.firstChild;
    for (const g of groups) {
      const gl = this.groupNode(g);
      if (gl === cursor) cursor = cursor.nextSibling;
      else this.list.insertBefore(gl, cursor);
      this.renderItems(gl.lastElementChild, g.items, seen);
    }
    removeFrom(cursor);
    const keys = new Set(groups.map((g) => g.key));
    for (const k of [...this.groups.keys()]) if (!keys.has(k)) this.groups.delete(k);
    for (const id of [...this.items.keys()]) if (!seen.has(id)) this.items.delete(id);
    if (!focusedId || this.list.contains(document.activeElement)) return false;
    return !this.focus(focusedId) && (document.activeElement === document.body || !document.activeElement);
  }

  // groupNode is the list item of a person's group, its heading current.
  groupNode(g) {
    let gl = this.groups.get(g.key);
    if (!gl) {
      this.groupCount += 1;
      const id = `esc-group-${this.groupCount}`;
      gl = el('li', { class: 'esc-group' },
        el('h2', { class: 'esc-group-title', id },
          el('span', { class: 'esc-group-name' }),
          el('span', { class: 'sep', 'aria-hidden': 'true', text: ' · ' }),
          el('span', { class: 'sr-only', text: ', ' }),
          el('span', { class: 'esc-group-count' })),
        el('ul', { class: 'esc-group-items', 'aria-labelledby': id }));
      this.groups.set(g.key, gl);
    }
    gl.dataset.person = g.subject;
    const name = gl.querySelector('.esc-group-name');
    const count = gl.querySelector('.esc-group-count');
    if (name.textContent !== g.name) name.textContent = g.name;
    const open = g.items.filter((e) => e.status === 'open').length;
    const text = `${plural(g.items.length, 'escalation', 'escalations')}${open ? `, ${open} not acknowledged` : ''}`;
    if (count.textContent !== text) count.textContent = text;
    return gl;
  }

  // renderItems puts a group's items in its list, in order, moving items
  // that came from another group.
  renderItems(ul, items, seen) {
    let cursor = ul.firstChild;
    for (const e of items) {
      seen.add(e.id);
      let li = this.items.get(e.id);
      if (!li) {
        li = el('li');
        this.items.set(e.id, li);
      }
      this.renderItem(li, e);
      if (li === cursor) cursor = cursor.nextSibling;
      else ul.insertBefore(li, cursor);
    }
    removeFrom(cursor);
  }

  renderItem(li, e) {
    const current = e.id === this.selectedId;
    const status = this.hooks.status(e);
    const sig = `${e.timeline ? e.timeline.length : 0}|${e.status}|${e.severity}|${e.assigned_to}|${e.ack_deadline}|${current}|${status}`;
    if (li.dataset.sig === sig) return;
    li.dataset.sig = sig;
    const sev = e.severity || 'none';
    const btn = el('button', {
      type: 'button', class: `esc-item sev-${sev}`, 'data-esc': e.id, 'data-status': e.status,
      'aria-current': current ? 'true' : null,
    },
    el('span', { class: 'esc-line' },
      el('span', { class: `sev sev-${sev}`, text: severityLabel(sev) }),
      el('span', { class: 'sr-only', text: ' severity, ' }),
      el('span', { class: 'esc-place', text: place(e) })),
    el('span', { class: 'esc-line esc-sub' },
      el('span', { class: 'esc-subject', text: e.subject_name || e.subject }),
      el('span', { class: 'sep', 'aria-hidden': 'true', text: ' · ' }),
      el('span', { class: 'sr-only', text: ', raised ' }),
      el('span', { class: 'esc-age', 'data-since': e.created_at || '' })),
    el('span', { class: 'esc-line esc-sub' },
      el('span', { class: 'sr-only', text: ', ' }),
      el('span', { class: `esc-state state-${e.status}`, text: status }),
      e.status === 'open' && e.ack_deadline
        ? el('span', { class: 'esc-countdown', 'data-deadline': e.ack_deadline })
        : null));
    const focused = li.contains(document.activeElement);
    li.replaceChildren(btn);
    if (focused) btn.focus();
  }

  // markCurrent marks the selected item (aria-current) and no other.
  markCurrent(selectedId) {
    this.selectedId = selectedId;
    for (const [id, li] of this.items) {
      const btn = li.firstElementChild;
      if (!btn) continue;
      if (id === selectedId) btn.setAttribute('aria-current', 'true');
      else btn.removeAttribute('aria-current');
    }
  }

  onKey(ev) {
    if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp' && ev.key !== 'Home' && ev.key !== 'End') return;
    const buttons = [...this.list.querySelectorAll('button[data-esc]')];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    ev.preventDefault();
    let j = i;
    if (ev.key === 'ArrowDown') j = Math.min(buttons.length - 1, i + 1);
    else if (ev.key === 'ArrowUp') j = Math.max(0, i - 1);
    else if (ev.key === 'Home') j = 0;
    else j = buttons.length - 1;
    buttons[j].focus();
    // Beside the queue, the detail follows the item in focus; on a phone
    // it would cover the queue, so there Enter opens it.
    if (!narrow.matches && j !== i) this.hooks.select(buttons[j].dataset.esc, { browsing: true });
  }
}

// removeFrom removes node and the siblings after it.
function removeFrom(node) {
  while (node) {
    const next = node.nextSibling;
    node.remove();
    node = next;
  }
}
