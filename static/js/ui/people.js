// The people directory, for admins (GET and PATCH /api/people): search by
// name, email or id, filter by role and status, a page at a time. Each
// person unfolds to their browser sessions and what an admin may do: give
// another role (not to someone whose role comes from their organisation's
// tokens), deactivate (confirmed first: it ends their sessions on every
// node at once) and reactivate. Opened from the dashboard.

import { $, el, plural, roleLabel } from '../dom.js';
import { describe } from '../errors.js';
import { confirmDialog, openDialog } from './dialogs.js';

const PAGE = 50;
const ROLES = ['peer', 'specialist', 'supervisor', 'admin'];
const SOURCE = {
  token: 'A link from your organisation’s system',
  oidc: 'Staff sign-in',
  email: 'Email link',
};
const whenFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit' });

// when formats a time; "" for the zero time (never) and nonsense.
function when(t) {
  const d = new Date(t);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() <= 1) return '';
  return whenFmt.format(d);
}

function sentence(s) {
  const t = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

// refusal says why a change was refused: the server's own words for a
// forbidden one (yourself, a role from another system), else the usual.
function refusal(e) {
  const d = (e && e.detail) || {};
  if ((d.code === 'forbidden' || d.code === 'invalid_field') && d.message) return sentence(d.message);
  return describe(e);
}

export class PeopleDialog {
  // hooks: api (Api), me() -> the signed-in user
  constructor(hooks) {
    this.hooks = hooks;
    this.api = hooks.api;
    this.dialog = $('people-dialog');
    this.list = $('people-list');
    this.status = $('people-status');
    this.error = $('people-error');
    this.more = $('people-more');
    this.next = '';
    this.query = null;
    this.gen = 0;
    this.seq = 0; // element ids
    this.people = new Map(); // id -> account, as listed
    $('people-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.search();
    });
    for (const id of ['people-role', 'people-state']) $(id).addEventListener('change', () => this.search());
    this.more.addEventListener('click', () => this.page(true));
    this.list.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-act]');
      const li = btn && btn.closest('li.person');
      if (!li) return;
      const p = this.people.get(li.dataset.id);
      if (!p) return;
      if (btn.dataset.act === 'details') this.toggle(li, p);
      else if (btn.dataset.act === 'deactivate') this.setStatus(li, p, 'deactivated');
      else if (btn.dataset.act === 'reactivate') this.setStatus(li, p, 'active');
    });
    this.list.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const li = ev.target.closest('li.person');
      const p = li && this.people.get(li.dataset.id);
      if (p) this.setRole(li, p, ev.target.querySelector('select').value);
    });
  }

  open() {
    openDialog(this.dialog, '#people-q');
    this.search();
  }

  clear() {
    this.gen += 1;
    this.people.clear();
    this.list.replaceChildren();
    this.status.textContent = '';
    $('people-said').textContent = '';
    this.error.textContent = '';
    this.more.hidden = true;
    $('people-q').value = '';
    $('people-role').value = '';
    $('people-state').value = '';
  }

  search() {
    this.query = { q: $('people-q').value.trim(), role: $('people-role').value, status: $('people-state').value };
    this.gen += 1;
    this.people.clear();
    this.list.replaceChildren();
    this.next = '';
    this.page(false);
  }

  async page(more) {
    const gen = this.gen;
    const q = new URLSearchParams({ limit: String(PAGE) });
    for (const [k, v] of Object.entries(this.query)) if (v) q.set(k, v);
    if (more && this.next) q.set('after', this.next);
    this.error.textContent = '';
    this.status.textContent = 'Loading…';
    this.more.hidden = true;
    try {
      const res = await this.api.request('GET', `/api/people?${q}`);
      if (gen !== this.gen) return;
      const people = (res && res.people) || [];
      const first = this.list.childElementCount;
      for (const p of people) {
        if (this.people.has(p.id)) continue;
        this.people.set(p.id, p);
        this.list.append(this.item(p));
      }
      this.next = (res && res.next) || '';
      this.more.hidden = !this.next;
      const n = this.list.childElementCount;
      this.status.textContent = n ? `${plural(n, 'person', 'people')}${this.next ? ', more below' : ''}` : 'Nobody matches.';
      // "Load more": on to the first new person.
      if (more && this.list.children[first]) this.list.children[first].querySelector('.person-name').focus();
    } catch (e) {
      if (gen !== this.gen) return;
      this.status.textContent = '';
      this.error.textContent = `The list couldn’t be loaded. ${describe(e)}`;
      this.more.hidden = !this.next;
    }
  }

  item(p) {
    this.seq += 1;
    const li = el('li', { class: 'person', 'data-id': p.id, 'data-seq': String(this.seq) });
    this.fill(li, p);
    return li;
  }

  // fill (re)draws a person's entry; open leaves their details unfolded
  // (for details() to fill).
  fill(li, p, open = false) {
    const n = li.dataset.seq;
    const last = when(p.last_sign_in_at);
    const deactivated = p.status === 'deactivated';
    li.classList.toggle('deactivated', deactivated);
    li.replaceChildren(
      el('div', { class: 'person-head' },
        el('h3', { class: 'person-name', id: `person-${n}`, tabindex: '-1', text: p.name || p.id }),
        el('span', { class: 'role-tag', text: roleLabel(p.role) || p.role }),
        deactivated ? el('span', { class: 'person-state', text: 'Deactivated' }) : null),
      el('dl', { class: 'person-facts' },
        ...(p.email ? [el('dt', { text: 'Email' }), el('dd', { text: p.email })] : []),
        el('dt', { text: 'Id' }), el('dd', { text: p.id }),
        el('dt', { text: 'Signs in with' }), el('dd', { text: SOURCE[p.source] || p.source || 'Unknown' }),
        el('dt', { text: 'Last signed in' }), el('dd', { text: last || 'Never, through Kindred’s sign-in' })),
      el('button', {
        type: 'button', class: 'secondary small', 'data-act': 'details', 'aria-expanded': open ? 'true' : 'false',
        'aria-controls': `person-${n}-details`, 'aria-describedby': `person-${n}`, text: 'Sessions and actions',
      }),
      el('div', { id: `person-${n}-details`, class: 'person-details', hidden: !open }));
  }

  async toggle(li, p) {
    const btn = li.querySelector('[data-act="details"]');
    const panel = li.querySelector('.person-details');
    if (btn.getAttribute('aria-expanded') === 'true') {
      btn.setAttribute('aria-expanded', 'false');
      panel.hidden = true;
      return;
    }
    btn.setAttribute('aria-expanded', 'true');
    panel.hidden = false;
    await this.details(li, p);
  }

  // details loads and draws the person's sessions and actions.
  async details(li, p, note = '') {
    const gen = this.gen;
    const panel = li.querySelector('.person-details');
    const status = el('p', { class: 'person-note', text: note || 'Loading…' });
    panel.replaceChildren(status);
    let sessions;
    try {
      const res = await this.api.request('GET', `/api/people/${encodeURIComponent(p.id)}`);
      if (gen !== this.gen) return;
      sessions = (res && res.sessions) || [];
      if (res && res.person) {
        this.people.set(p.id, res.person);
        p = res.person;
      }
    } catch (e) {
      if (gen !== this.gen) return;
      status.textContent = note;
      panel.append(el('p', { class: 'field-error', role: 'alert', text: `Their details couldn’t be loaded. ${describe(e)}` }));
      return;
    }
    status.textContent = note;
    const n = li.dataset.seq;
    const me = this.hooks.me();
    const self = Boolean(me && me.id === p.id);
    panel.append(
      el('h4', { text: 'Browser sessions' }),
      sessions.length
        ? el('ul', { class: 'person-sessions' }, ...sessions.map((s) => el('li', {
          text: `Since ${when(s.created_at) || 'unknown'}; last used ${when(s.last_used_at) || 'never'}; ends ${when(s.expires_at) || 'unknown'}`,
        })))
        : el('p', { class: 'hint', text: p.source === 'token' ? 'No browser sessions: they sign in with links from your organisation’s system.' : 'No browser sessions in force.' }));
    if (self) {
      panel.append(el('p', { class: 'hint', text: 'This is you. Another admin can change your role or deactivate you.' }));
      return;
    }
    if (p.source === 'token') {
      panel.append(el('p', { class: 'hint', text: 'Their role comes from the links their organisation’s system makes; change it there.' }));
    } else {
      const select = el('select', { id: `person-${n}-role` },
        ...ROLES.map((r) => el('option', { value: r, selected: r === p.role, text: roleLabel(r) })));
      panel.append(el('form', { class: 'person-role', novalidate: true },
        el('label', { for: `person-${n}-role`, text: 'Role' }),
        select,
        el('button', { type: 'submit', class: 'secondary small', 'aria-describedby': `person-${n}`, text: 'Change role' })));
    }
    const active = p.status !== 'deactivated';
    panel.append(
      el('button', {
        type: 'button', class: `secondary small${active ? ' danger-outline' : ''}`, 'data-act': active ? 'deactivate' : 'reactivate',
        'aria-haspopup': active ? 'dialog' : null, 'aria-describedby': `person-${n}`, text: active ? 'Deactivate' : 'Reactivate',
      }),
      el('p', { class: 'field-error', role: 'alert' }));
  }

  refused(li, e) {
    const error = li.querySelector('.person-details .field-error');
    if (error) error.textContent = refusal(e);
  }

  // changed redraws the person after an admin's change and puts focus
  // back where the person was working.
  async changed(li, account, note, focus) {
    this.people.set(account.id, account);
    this.fill(li, account, true);
    await this.details(li, account, note);
    (li.querySelector(focus) || li.querySelector('.person-name')).focus();
    // Said in the dialog: the page behind a modal dialog is inert, and so
    // are its live regions.
    $('people-said').textContent = note;
  }

  async setRole(li, p, role) {
    if (role === p.role) return;
    const gen = this.gen;
    try {
      const acct = await this.api.request('PATCH', `/api/people/${encodeURIComponent(p.id)}`, { role });
      if (gen !== this.gen) return;
      const label = (roleLabel(acct.role) || acct.role).toLowerCase();
      await this.changed(li, acct, `${acct.name || acct.id} is now ${/^[aeiou]/.test(label) ? 'an' : 'a'} ${label}. Their open sessions reconnect with the new role.`, 'select');
    } catch (e) {
      if (gen === this.gen) this.refused(li, e);
    }
  }

  async setStatus(li, p, status) {
    const name = p.name || p.id;
    if (status === 'deactivated' && !await confirmDialog(`Deactivate ${name}?`,
      `${name} is signed out on every device at once and can’t sign in again until an admin reactivates them. What they wrote stays.`,
      'Deactivate')) return;
    const gen = this.gen;
    try {
      const acct = await this.api.request('PATCH', `/api/people/${encodeURIComponent(p.id)}`, { status });
      if (gen !== this.gen) return;
      await this.changed(li, acct, status === 'deactivated'
        ? `${name} is deactivated and was signed out everywhere.`
        : `${name} can sign in again.`, status === 'deactivated' ? '[data-act="reactivate"]' : '[data-act="deactivate"]');
    } catch (e) {
      if (gen === this.gen) this.refused(li, e);
    }
  }
}
