// A room's report queue, for its owner and moderators: open reports (and
// those resolved), each with what was reported, by whom and why, resolved
// with an outcome and a note. Kept up to date by report_news frames while
// open.

import { $, el, formatTime, plural } from '../dom.js';
import { describe } from '../errors.js';
import { onClosed, openDialog } from './dialogs.js';

const CATEGORY = {
  harassment: 'Harassment', spam: 'Spam', inappropriate: 'Inappropriate', danger: 'May be in danger', other: 'Something else',
};
export const OUTCOMES = [
  { value: 'no_action', label: 'No action needed' },
  { value: 'warned', label: 'Warned the person' },
  { value: 'hidden', label: 'Hid the message' },
  { value: 'muted', label: 'Muted the person' },
  { value: 'removed', label: 'Removed the person' },
  { value: 'banned', label: 'Banned the person' },
  { value: 'escalated', label: 'Passed to the crisis team' },
];
const dayFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

function when(s) {
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return '';
  return new Date().toDateString() === d.toDateString() ? formatTime(d) : `${dayFmt.format(d)}, ${formatTime(d)}`;
}

export class ReportsDialog {
  // hooks: list(conv, status) -> Promise<reports>, resolve(report) ->
  // Promise<bool>, name(conv, user) -> string, quote(conv, seq) -> string
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.dialog = $('reports-dialog');
    this.list = $('reports-list');
    this.status = $('reports-status');
    this.error = $('reports-error');
    this.conv = null;
    this.filter = 'open';
    this.reports = new Map();
    this.dialog.querySelector('.segmented').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-status]');
      if (b) this.show(b.dataset.status);
    });
    this.list.addEventListener('click', async (ev) => {
      const b = ev.target.closest('button[data-resolve]');
      const r = b && this.reports.get(b.dataset.resolve);
      if (r && await this.hooks.resolve(r)) {
        this.reports.delete(r.id);
        this.done = 'Report resolved.';
        this.render();
      }
      // The button may be gone: keep focus in the dialog.
      if (this.dialog.open && !this.dialog.contains(document.activeElement)) this.dialog.querySelector('.segmented button[aria-pressed="true"]').focus();
    });
    onClosed(this.dialog, () => {
      this.conv = null;
    });
  }

  get isOpen() {
    return this.dialog.open;
  }

  open(conv) {
    this.conv = conv;
    $('reports-title').textContent = `Reports in ${conv.name}`;
    openDialog(this.dialog, '.segmented button[aria-pressed="true"]');
    this.show('open');
  }

  async show(status) {
    const conv = this.conv;
    this.filter = status;
    this.done = '';
    for (const b of this.dialog.querySelectorAll('.segmented button')) b.setAttribute('aria-pressed', String(b.dataset.status === status));
    this.error.textContent = '';
    this.status.textContent = 'Loading reports…';
    this.reports.clear();
    this.list.replaceChildren();
    try {
      const reports = await this.hooks.list(conv, status);
      if (this.conv !== conv || this.filter !== status) return;
      for (const r of reports) this.reports.set(r.id, r);
      this.render();
    } catch (e) {
      this.status.textContent = '';
      this.error.textContent = describe(e, this.store.limits);
    }
  }

  clear() {
    this.reports.clear();
    this.list.replaceChildren();
    this.status.textContent = '';
    this.error.textContent = '';
  }

  // news applies a report_news frame to the open queue.
  news(r) {
    if (!this.conv || r.conv !== this.conv.id) return;
    if (r.status === this.filter) this.reports.set(r.id, r);
    else this.reports.delete(r.id);
    this.render();
  }

  render() {
    const conv = this.conv;
    const items = [...this.reports.values()].sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
    if (this.filter === 'resolved') items.reverse();
    const count = items.length ? `${plural(items.length, `${this.filter} report`, `${this.filter} reports`)}.` : `No ${this.filter} reports.`;
    this.status.textContent = this.done ? `${this.done} ${count}` : count;
    const focused = document.activeElement && this.list.contains(document.activeElement) ? document.activeElement.dataset.resolve : null;
    this.list.replaceChildren(...items.map((r) => {
      const about = r.user ? this.hooks.name(conv, r.user) : 'someone';
      const quote = r.seq ? this.hooks.quote(conv, r.seq) : '';
      return el('li', { class: `queue-item report cat-${r.category}`, 'data-report': r.id },
        el('div', { class: 'queue-text' },
          el('p', { class: 'queue-head' },
            el('span', { class: 'report-cat', text: CATEGORY[r.category] || r.category }),
            el('span', { text: r.seq ? `A message by ${about}` : `About ${about}` }),
            el('span', { class: 'queue-when', text: when(r.created_at) })),
          quote ? el('blockquote', { class: 'report-quote', text: quote }) : null,
          el('p', { class: 'queue-reason', text: r.reason ? `${r.reporter_name || r.reporter}: “${r.reason}”` : `Reported by ${r.reporter_name || r.reporter}` }),
          r.status === 'resolved' ? el('p', { class: 'queue-outcome', text: `${(OUTCOMES.find((o) => o.value === r.outcome) || {}).label || r.outcome}${r.resolved_by ? ` (${r.resolved_by})` : ''}${r.note ? `: ${r.note}` : ''}` }) : null),
        r.status === 'open' ? el('button', { type: 'button', class: 'secondary small', 'data-resolve': r.id, 'aria-haspopup': 'dialog' },
          'Resolve', el('span', { class: 'sr-only', text: ` the report about ${about}` })) : null);
    }));
    if (focused) this.list.querySelector(`button[data-resolve="${CSS.escape(focused)}"]`)?.focus();
  }
}
