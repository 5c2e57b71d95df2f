// The message list of the open conversation. Nodes are keyed and reused,
// so a re-render moves nothing that has not changed (focus and scroll
// position survive), and messages can be edited in place.

import { $, el, formatDay, formatTime, dayKey, roleLabel, utf8Length } from '../dom.js';
import { describe } from '../errors.js';
import { announce } from './announcer.js';
import { resourceItems } from './help.js';
import { closeMenu, menuButton, menuKeydown, openMenu } from './menu.js';

const NEAR_BOTTOM_PX = 80;
const LOAD_MORE_PX = 240;
const GROUP_MS = 5 * 60 * 1000;

function keyOf(m) {
  return m.id ? `i${m.from}:${m.id}` : `s${m.seq}`;
}

function excerpt(body) {
  const s = body.replace(/\s+/g, ' ').trim();
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

// Web addresses in a message become links: http and https only (never
// javascript: or any other scheme), and the link's text is the address
// as written, so it shows where it goes. Nodes are built with textContent;
// message text is never parsed as HTML.
const URL_RE = /\bhttps?:\/\/[^\s<>"]+/gi;
const ENDS_SENTENCE = '.,;:!?\'"’”';
const CLOSERS = { ')': '(', ']': '[', '}': '{' };

function count(s, c) {
  return s.split(c).length - 1;
}

// trimURL drops punctuation that ends the sentence rather than the
// address; a closing bracket stays when the address opened it.
function trimURL(s) {
  for (;;) {
    const c = s.at(-1);
    if (ENDS_SENTENCE.includes(c)) s = s.slice(0, -1);
    else if (CLOSERS[c] && count(s, CLOSERS[c]) < count(s, c)) s = s.slice(0, -1);
    else return s;
  }
}

export function linkify(text) {
  const out = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    const raw = trimURL(match[0]);
    let url = null;
    try {
      url = new URL(raw);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || !url.hostname) continue;
    if (match.index > last) out.push(document.createTextNode(text.slice(last, match.index)));
    // Where the address differs once parsed (say, a look-alike letter in
    // the domain), the tooltip shows the real target.
    const differs = url.href !== raw && url.href !== `${raw}/`;
    out.push(el('a', {
      class: 'msg-link', href: url.href, target: '_blank', rel: 'noopener noreferrer', title: differs ? url.href : null, text: raw,
    }));
    last = match.index + raw.length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

// A message taller than this many lines is folded, with "Show more".
const FOLD_LINES = 12;
// ...but not when it would hide only a line or two.
const FOLD_OVER_LINES = 14;
let bodyCount = 0;

let supportCount = 0;

// supportCard is the private note shown to someone whose message signals a
// crisis: calm, with places to get help now, and clear that only they see
// it.
function supportCard(extra) {
  supportCount += 1;
  const id = `support-title-${supportCount}`;
  const resources = resourceItems(extra.resources);
  return el('li', { class: 'support', 'data-state': extra.state || null },
    el('section', { class: 'support-card', 'aria-labelledby': id },
      el('h2', { id, class: 'support-title', text: 'A note just for you' }),
      el('p', { class: 'support-text', text: extra.text }),
      resources.length ? el('ul', { class: 'support-resources' }, ...resources) : null,
      el('p', { class: 'support-private', text: 'Only you can see this note. The others in this conversation can’t.' }),
      el('div', {}, el('button', { type: 'button', class: 'link-button', 'data-act': 'dismiss', 'data-key': extra.key },
        'Dismiss', el('span', { class: 'sr-only', text: ' this note' })))));
}

export class MessageView {
  // hooks: loadOlder(), edit(message, body) -> Promise, actions(message)
  // -> menu entries, actionsKey(message) -> string (changes when the
  // entries do), pick(entry id, message, button), dismiss(extra key),
  // retry(id), discard(id)
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.scroller = $('messages');
    this.list = $('message-list');
    this.loadBtn = $('load-older');
    this.historyStatus = $('history-status');
    this.jump = $('jump-latest');
    this.nodes = new Map();
    this.convId = null;
    this.editing = null; // key of the message being edited
    this.expanded = new Set(); // keys of long messages unfolded
    this.newDivider = el('li', { class: 'new-divider', id: 'new-divider' }, el('span', { text: 'New since you left' }));
    this.announcedNew = ''; // the visit whose divider was announced

    let refit = 0;
    window.addEventListener('resize', () => {
      cancelAnimationFrame(refit);
      refit = requestAnimationFrame(() => this.fit([...this.list.querySelectorAll('li.msg')]));
    });

    this.scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    this.loadBtn.addEventListener('click', () => this.hooks.loadOlder());
    this.jump.addEventListener('click', () => {
      this.scrollToBottom();
      this.scroller.focus();
    });
    this.list.addEventListener('click', (ev) => this.onClick(ev));
    this.list.addEventListener('keydown', (ev) => menuKeydown(ev, (btn, last) => {
      const node = btn.closest('li.msg');
      const m = node && this.messageFor(node);
      if (m) this.openActions(btn, node, m, last);
    }));
  }

  // clear empties the list (sign-out, or another conversation).
  clear() {
    this.list.replaceChildren();
    this.nodes.clear();
    this.convId = null;
    this.editing = null;
    this.expanded.clear();
    this.announcedNew = '';
    this.jump.hidden = true;
    this.historyStatus.textContent = '';
    this.loadBtn.hidden = true;
  }

  show(conv) {
    this.clear();
    this.convId = conv.id;
    this.scroller.setAttribute('aria-label', `Messages in ${conv.name}`);
    this.render({});
    this.scrollToBottom();
    // Start reading where the new messages begin.
    if (this.newDivider.isConnected) {
      const top = this.newDivider.getBoundingClientRect().top - this.scroller.getBoundingClientRect().top;
      if (top < 0) this.scroller.scrollTop += top - 8;
    }
  }

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jump.hidden = true;
  }

  onScroll() {
    if (this.nearBottom()) this.jump.hidden = true;
    const conv = this.store.active;
    // After a failed page, only the button tries again (no request storm
    // while scrolling offline).
    if (conv && this.scroller.scrollTop < LOAD_MORE_PX && !conv.atStart && !conv.loading && !conv.historyError) this.hooks.loadOlder();
  }

  // render brings the list up to date. opts.prepended: older messages were
  // added above (keep the view where it is); opts.own: this user just wrote
  // (go to the bottom).
  render(opts = {}) {
    const conv = this.store.active;
    if (!conv || conv.id !== this.convId) return;
    const s = this.scroller;
    const wasNearBottom = this.nearBottom();
    const prevHeight = s.scrollHeight;
    const prevTop = s.scrollTop;
    const before = this.list.childElementCount;

    const desired = [];
    const used = new Set();
    const changed = [];
    const firstNew = this.store.firstNew(conv);
    let newCount = 0;
    let lastDay = '';
    let prev = null;
    for (const item of this.store.display(conv)) {
      if (item.extra) {
        // A support note's text follows its state: a new state, a new node.
        const key = `x${item.extra.key}:${item.extra.updated || ''}`;
        let node = this.nodes.get(key);
        if (!node) {
          node = item.extra.kind === 'support' ? supportCard(item.extra) : el('li', { class: 'sys-note' }, el('span', { text: item.extra.text }));
          this.nodes.set(key, node);
        }
        desired.push(node);
        used.add(key);
        prev = null;
        continue;
      }
      const m = item.message;
      const date = new Date(m.ts || Date.now());
      const day = dayKey(date);
      if (day !== lastDay) {
        const dk = `d${day}`;
        let d = this.nodes.get(dk);
        if (!d) {
          d = el('li', { class: 'day' }, el('span', { text: formatDay(date) }));
          this.nodes.set(dk, d);
        }
        desired.push(d);
        used.add(dk);
        lastDay = day;
        prev = null;
      }
      if (firstNew && item.state === 'sent' && m.seq === firstNew) {
        desired.push(this.newDivider);
        prev = null;
      }
      if (firstNew && item.state === 'sent' && m.seq >= firstNew && m.seq <= conv.newUpTo && !m.deleted &&
        !(this.store.me && m.from === this.store.me.id)) newCount += 1;
      const key = keyOf(m);
      let node = this.nodes.get(key);
      if (!node) {
        node = el('li', { class: 'msg' });
        this.nodes.set(key, node);
      }
      const cont = Boolean(prev && prev.from === m.from && !prev.deleted && item.state === 'sent' &&
        m.ts && prev.ts && m.ts - prev.ts < GROUP_MS);
      if (this.update(node, key, item, conv, cont)) changed.push(node);
      desired.push(node);
      used.add(key);
      prev = m;
    }

    let cursor = this.list.firstChild;
    for (const node of desired) {
      if (node === cursor) cursor = cursor.nextSibling;
      else this.list.insertBefore(node, cursor);
    }
    while (cursor) {
      const next = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }
    for (const key of [...this.nodes.keys()]) if (!used.has(key)) this.nodes.delete(key);
    for (const key of [...this.expanded]) if (!used.has(key)) this.expanded.delete(key);
    this.fit(changed);

    // The divider is announced once per visit, politely.
    const visit = firstNew ? `${conv.id}:${conv.newAfter}` : '';
    if (visit && visit !== this.announcedNew) {
      this.announcedNew = visit;
      announce(newCount > 1 ? `New since you left: ${newCount} messages.` : 'New since you left.');
    }

    this.renderHistoryState(conv);

    if (opts.prepended) {
      s.scrollTop = prevTop + (s.scrollHeight - prevHeight);
      // A short conversation may not fill the screen yet: keep loading.
      if (s.scrollHeight <= s.clientHeight && !conv.atStart && !conv.historyError) queueMicrotask(() => this.hooks.loadOlder());
    } else if (opts.own || wasNearBottom) {
      this.scrollToBottom();
    } else if (this.list.childElementCount > before) {
      this.jump.hidden = false;
    }
  }

  renderHistoryState(conv) {
    if (conv.loading) {
      this.historyStatus.textContent = 'Loading earlier messages…';
      this.loadBtn.hidden = true;
    } else if (conv.historyError) {
      this.historyStatus.textContent = `Earlier messages couldn’t be loaded. ${describe(conv.historyError.detail || conv.historyError, this.store.limits)}`;
      this.loadBtn.hidden = false;
    } else if (conv.atStart) {
      this.historyStatus.textContent = conv.kind === 'dm'
        ? `This is the start of your conversation with ${conv.name}.`
        : `This is the start of ${conv.name}.`;
      this.loadBtn.hidden = true;
    } else {
      this.historyStatus.textContent = '';
      this.loadBtn.hidden = false;
    }
  }

  update(node, key, item, conv, cont) {
    const m = item.message;
    const mine = this.store.me && m.from === this.store.me.id;
    const pinned = Boolean(m.seq && conv.pins && conv.pins.has(m.seq));
    const sig = `${m.rev}|${item.state}|${cont}|${m.deleted}|${m.hidden}|${item.error ? item.error.code : ''}|${this.store.memberRole(conv, m.from)}|${m.seq}|${pinned}|${this.hooks.actionsKey(m)}`;
    if (node.dataset.sig === sig) return false;
    const editing = this.editing === key && !m.deleted && item.state === 'sent';
    node.dataset.sig = sig;
    node.dataset.key = key;
    node.dataset.id = m.id || '';
    node.dataset.seq = String(m.seq || '');
    node.className = 'msg';
    if (mine) node.classList.add('own');
    if (cont) node.classList.add('cont');
    if (m.deleted) node.classList.add('deleted');
    if (m.hidden) node.classList.add('hidden-msg');
    if (item.state !== 'sent') node.classList.add(item.state);

    const date = new Date(m.ts || Date.now());
    const role = roleLabel(this.store.memberRole(conv, m.from));
    const meta = el('p', { class: 'msg-meta' },
      el('span', { class: 'msg-author', text: mine ? 'You' : m.name }),
      role && role !== 'Peer' ? el('span', { class: 'role-tag', text: role }) : null,
      el('time', { datetime: date.toISOString(), title: date.toLocaleString(), text: formatTime(date) }),
      m.editedAt && !m.deleted ? el('span', { class: 'msg-edited', text: '(edited)' }) : null);

    const parts = [meta];
    if (m.deleted) {
      parts.push(el('p', { class: 'msg-body tombstone', text: m.hidden ? 'Removed by a moderator' : 'message deleted' }));
    } else if (editing && node.querySelector('.edit-form')) {
      parts.push(node.querySelector('.edit-form'));
    } else {
      bodyCount += 1;
      const id = `msg-body-${bodyCount}`;
      parts.push(el('p', { class: 'msg-body', id, 'data-fold': '' }, ...linkify(m.body)));
      // Shown by fit() when the message is long.
      parts.push(el('button', {
        type: 'button', class: 'link-button more-toggle', 'data-act': 'more', 'aria-expanded': 'false', 'aria-controls': id, hidden: true,
      }, el('span', { class: 'more-label', text: 'Show more' }), el('span', { class: 'sr-only', text: ` of ${mine ? 'your' : `${m.name}’s`} message` })));
    }

    if (pinned) parts[0].append(el('span', { class: 'pin-tag', text: 'Pinned' }));
    if (item.state === 'held') {
      parts.push(el('p', { class: 'msg-state', text: 'Only you can see this for now: a supervisor will read it and reach out to you.' }));
    } else if (item.state === 'pending') {
      const waiting = item.error && item.error.code === 'rate_limited';
      parts.push(el('p', { class: 'msg-state', text: waiting ? 'Sending soon…' : 'Sending…' }));
    } else if (item.state === 'failed') {
      parts.push(el('p', { class: 'msg-state error', text: `Not sent. ${describe(item.error, this.store.limits)}` }));
      parts.push(el('div', { class: 'msg-actions visible' },
        el('button', { type: 'button', 'data-act': 'retry', text: 'Try again' }),
        el('button', { type: 'button', 'data-act': 'discard', text: 'Remove' })));
    } else if (item.state === 'awaiting') {
      parts.push(el('p', { class: 'msg-state', text: 'Awaiting approval: a moderator reads it before the group sees it.' }));
    } else if (item.state === 'rejected') {
      parts.push(el('p', { class: 'msg-state error', text: 'Not approved by a moderator. The group didn’t see it.' }));
      parts.push(el('div', { class: 'msg-actions visible' },
        el('button', { type: 'button', 'data-act': 'discard', text: 'Remove' })));
    } else if (m.seq && !m.deleted && !editing && this.hooks.actions(m).length) {
      const who = mine ? `your message “${excerpt(m.body)}”` : `${m.name}’s message “${excerpt(m.body)}”`;
      parts.push(el('span', { class: 'msg-tools' }, menuButton(`Actions for ${who}`, { 'data-act': 'menu' })));
    }
    // Re-rendering must not drop keyboard focus from an action button.
    const a = node.contains(document.activeElement) ? document.activeElement : null;
    const focused = a ? a.dataset.act || (a.dataset.item ? 'menu' : '') : '';
    if (node.querySelector('[role="menu"]')) closeMenu(false);
    node.replaceChildren(...parts);
    if (focused) {
      const again = node.querySelector(`button[data-act="${focused}"]`);
      if (again) again.focus();
      else if (m.deleted) this.scroller.focus();
    }
    return true;
  }

  // fit folds long messages among nodes: measured all at once first, then
  // changed, so the page lays out once.
  fit(nodes) {
    const measured = [];
    for (const node of nodes) {
      const body = node.querySelector('.msg-body[data-fold]');
      const btn = node.querySelector('.more-toggle');
      if (!body || !btn) continue;
      const line = parseFloat(getComputedStyle(body).lineHeight) || 24;
      measured.push([node, body, btn, body.scrollHeight > line * FOLD_OVER_LINES]);
    }
    for (const [node, body, btn, tall] of measured) {
      btn.hidden = !tall;
      this.setFold(body, btn, tall && !this.expanded.has(node.dataset.key));
    }
  }

  setFold(body, btn, folded) {
    body.classList.toggle('folded', folded);
    btn.setAttribute('aria-expanded', folded ? 'false' : 'true');
    btn.querySelector('.more-label').textContent = folded ? 'Show more' : 'Show less';
  }

  messageFor(node) {
    const conv = this.store.active;
    if (!conv) return null;
    const seq = Number(node.dataset.seq);
    return seq ? conv.messages.get(seq) || null : null;
  }

  onClick(ev) {
    const btn = ev.target.closest('button[data-act]');
    if (!btn) return;
    const act = btn.dataset.act;
    if (act === 'dismiss') {
      this.hooks.dismiss(btn.dataset.key);
      this.scroller.focus();
      return;
    }
    const node = btn.closest('li.msg');
    if (act === 'more') {
      const open = btn.getAttribute('aria-expanded') !== 'true';
      if (open) this.expanded.add(node.dataset.key);
      else this.expanded.delete(node.dataset.key);
      this.setFold(node.querySelector('.msg-body'), btn, !open);
      // Folding a long message must not leave the reader far below it.
      if (!open) {
        const top = node.getBoundingClientRect().top - this.scroller.getBoundingClientRect().top;
        if (top < 0) this.scroller.scrollTop += top;
      }
      return;
    }
    if (act === 'retry' || act === 'discard') {
      this.hooks[act](node.dataset.id);
      return;
    }
    const m = this.messageFor(node);
    if (m && act === 'menu') this.openActions(btn, node, m, false);
  }

  openActions(btn, node, m, last) {
    openMenu(btn, this.hooks.actions(m), (item) => {
      if (item === 'edit') this.startEdit(node, m);
      else this.hooks.pick(item, m, btn);
    }, { last });
  }

  startEdit(node, m) {
    const key = node.dataset.key;
    this.editing = key;
    const id = `edit-${m.seq}`;
    const input = el('textarea', { id, class: 'edit-input', rows: '2' });
    input.value = m.body;
    const error = el('p', { class: 'field-error', role: 'alert' });
    const form = el('form', { class: 'edit-form', novalidate: true },
      el('label', { for: id, class: 'sr-only', text: 'Edit your message' }),
      input,
      error,
      el('div', { class: 'edit-buttons' },
        el('button', { type: 'submit', class: 'primary small', text: 'Save' }),
        el('button', { type: 'button', class: 'quiet small', 'data-edit': 'cancel', text: 'Cancel' }),
        el('span', { class: 'hint', text: 'Enter to save · Escape to cancel' })));
    const finish = () => {
      this.editing = null;
      node.dataset.sig = '';
      this.render({});
      const btn = this.nodes.get(key) && this.nodes.get(key).querySelector('button[data-act="menu"]');
      if (btn) btn.focus();
    };
    const save = async () => {
      const body = input.value;
      if (!body.trim() || body === m.body) {
        finish();
        return;
      }
      const max = this.store.limits && this.store.limits.max_message_bytes;
      if (max && utf8Length(body) > max) {
        error.textContent = describe({ code: 'message_too_long' }, this.store.limits);
        return;
      }
      form.setAttribute('aria-busy', 'true');
      error.textContent = '';
      try {
        await this.hooks.edit(m, body);
        finish();
      } catch (e) {
        form.removeAttribute('aria-busy');
        error.textContent = describe(e, this.store.limits);
      }
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      save();
    });
    form.querySelector('[data-edit="cancel"]').addEventListener('click', finish);
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        finish();
      } else if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        save();
      }
    });
    const body = node.querySelector('.msg-body');
    node.querySelector('.msg-tools')?.remove();
    node.querySelector('.more-toggle')?.remove();
    if (body) body.replaceWith(form);
    else node.append(form);
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }
}
