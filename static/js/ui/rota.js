// The on-call rota in the browser (GET/POST/DELETE /api/oncall/shifts):
// supervisors and admins read it; admins add a shift (a supervisor picked
// from GET /api/supervisors, a tier, a start and an end) and remove one.
// Opened from the dashboard. `kindred oncall` keeps the same rota.

import { $, el } from '../dom.js';
import { describe } from '../errors.js';
import { confirmDialog, openDialog } from './dialogs.js';

const whenFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' });
const TIER = { primary: 'Primary', backup: 'Backup' };
const HOUR = 3600 * 1000;

// localInput formats t for a datetime-local input (the device's time).
export function localInput(t) {
  const d = new Date(t);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// supervisorLabel says who someone is and whether they can be reached now.
export function supervisorLabel(s) {
  const name = s.name && s.name !== s.id ? `${s.name} (${s.id})` : s.id;
  const now = [s.on_call ? `on call now, ${s.on_call}` : '', s.online ? 'online' : 'offline'].filter(Boolean).join(', ');
  return `${name}: ${now}`;
}

export class RotaDialog {
  // hooks: api (Api), me() -> user, announce(text)
  constructor(hooks) {
    this.hooks = hooks;
    this.api = hooks.api;
    this.dialog = $('rota-dialog');
    this.people = new Map(); // id -> supervisor row
    this.gen = 0;
    $('rota-open').addEventListener('click', () => this.open());
    $('rota-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.add();
    });
    $('rota-list').addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-shift]');
      if (btn) this.remove(btn);
    });
  }

  get admin() {
    const u = this.hooks.me();
    return Boolean(u && u.role === 'admin');
  }

  clear() {
    this.gen += 1;
    this.people.clear();
    $('rota-list').replaceChildren();
    $('rota-supervisor').replaceChildren();
    for (const id of ['rota-start', 'rota-end']) $(id).value = '';
    for (const id of ['rota-status', 'rota-error', 'rota-form-error']) $(id).textContent = '';
  }

  open() {
    $('rota-form').hidden = !this.admin;
    $('rota-form-error').textContent = '';
    if (!$('rota-start').value) {
      const start = Math.ceil(Date.now() / HOUR) * HOUR;
      $('rota-start').value = localInput(start);
      $('rota-end').value = localInput(start + 8 * HOUR);
    }
    openDialog(this.dialog, this.admin ? '#rota-supervisor' : 'button[data-close]');
    this.load();
  }

  async load() {
    const gen = this.gen;
    $('rota-status').textContent = 'Loading the rota…';
    $('rota-error').textContent = '';
    try {
      const [people, shifts] = await Promise.all([
        this.api.request('GET', '/api/supervisors').then((d) => d.supervisors || []),
        this.api.request('GET', '/api/oncall/shifts').then((d) => d.shifts || []),
      ]);
      if (gen !== this.gen) return;
      this.people = new Map(people.map((p) => [p.id, p]));
      this.renderPeople(people);
      this.renderShifts(shifts);
      $('rota-status').textContent = '';
    } catch (err) {
      if (gen !== this.gen) return;
      $('rota-status').textContent = '';
      $('rota-error').textContent = `The rota couldn’t be loaded. ${describe(err)}`;
    }
  }

  renderPeople(people) {
    const select = $('rota-supervisor');
    const was = select.value;
    select.replaceChildren(el('option', { value: '', text: 'Choose a supervisor' }),
      ...people.map((p) => el('option', { value: p.id, text: supervisorLabel(p) })));
    if (this.people.has(was)) select.value = was;
  }

  renderShifts(shifts) {
    const now = Date.now();
    $('rota-empty').hidden = shifts.length > 0;
    $('rota-list').replaceChildren(...shifts.map((s) => {
      const p = this.people.get(s.supervisor);
      const who = p && p.name ? p.name : s.supervisor;
      const start = Date.parse(s.start);
      const end = Date.parse(s.end);
      const when = `${whenFmt.format(start)} to ${whenFmt.format(end)}`;
      const current = start <= now && now < end;
      return el('li', { class: `rota-shift${current ? ' current' : ''}`, 'data-id': s.id },
        el('p', { class: 'rota-who' },
          el('span', { class: 'rota-name', text: who }),
          el('span', { class: `rota-tier tier-${s.tier}`, text: TIER[s.tier] || s.tier }),
          current ? el('span', { class: 'rota-now', text: 'on call now' }) : null),
        el('p', { class: 'rota-when', text: when }),
        this.admin ? el('button', {
          type: 'button', class: 'link-button danger-link', 'data-shift': s.id,
          'aria-label': `Remove ${who}’s ${(TIER[s.tier] || s.tier).toLowerCase()} shift, ${when}`, text: 'Remove',
        }) : null);
    }));
  }

  // check returns the shift the form describes, or shows what is wrong.
  check() {
    const error = $('rota-form-error');
    const fail = (id, text) => {
      error.textContent = text;
      $(id).setAttribute('aria-invalid', 'true');
      $(id).focus();
      return null;
    };
    for (const id of ['rota-supervisor', 'rota-start', 'rota-end']) $(id).removeAttribute('aria-invalid');
    const supervisor = $('rota-supervisor').value;
    const start = Date.parse($('rota-start').value);
    const end = Date.parse($('rota-end').value);
    if (!supervisor) return fail('rota-supervisor', 'Choose who is on call.');
    if (Number.isNaN(start)) return fail('rota-start', 'Give the date and time the shift starts.');
    if (Number.isNaN(end)) return fail('rota-end', 'Give the date and time the shift ends.');
    if (end <= start) return fail('rota-end', 'The shift must end after it starts.');
    return { supervisor, tier: $('rota-tier').value, start: new Date(start).toISOString(), end: new Date(end).toISOString() };
  }

  async add() {
    $('rota-form-error').textContent = '';
    const shift = this.check();
    if (!shift) return;
    const form = $('rota-form');
    if (form.getAttribute('aria-busy')) return;
    form.setAttribute('aria-busy', 'true');
    const gen = this.gen;
    try {
      await this.api.request('POST', '/api/oncall/shifts', shift);
      if (gen !== this.gen) return;
      const p = this.people.get(shift.supervisor);
      this.hooks.announce(`Shift added: ${p && p.name ? p.name : shift.supervisor}, ${shift.tier}.`);
      $('rota-supervisor').value = '';
      await this.load();
    } catch (err) {
      if (gen !== this.gen) return;
      $('rota-form-error').textContent = err && err.code === 'invalid_field' && err.detail && err.detail.message
        ? `The shift wasn’t added: ${err.detail.message}.`
        : `The shift wasn’t added. ${describe(err)}`;
    } finally {
      form.removeAttribute('aria-busy');
    }
  }

  async remove(btn) {
    const id = btn.dataset.shift;
    const label = btn.getAttribute('aria-label');
    if (!await confirmDialog('Remove this shift?', `${label.replace(/^Remove /, '')}. Nobody is paged from it any more.`, 'Remove shift')) return;
    const gen = this.gen;
    $('rota-error').textContent = '';
    try {
      await this.api.request('DELETE', `/api/oncall/shifts/${encodeURIComponent(id)}`);
      if (gen !== this.gen) return;
      this.hooks.announce('Shift removed.');
      await this.load();
      $('rota-title').focus();
    } catch (err) {
      if (gen !== this.gen) return;
      $('rota-error').textContent = `The shift wasn’t removed. ${describe(err)}`;
    }
  }
}
