// The supervisor dashboard: the live escalation queue (what nobody has
// acknowledged first, then the most severe, then the one waiting longest;
// grouped by person, each group ranked by its most urgent item), and the
// context of the one selected (esclist.js draws the queue) —
// the flagged message with what the detector matched, the messages before
// it, why it was raised, its timeline — with the actions a supervisor
// takes: acknowledge, join the room, message the person, add a note, hand
// off, resolve.
//
// Items and the detail are updated in place, so focus and a half-written
// note survive the updates that arrive while a supervisor reads. Counts and
// countdowns tick once a second without re-rendering anything else.

import { $, el, plural, utf8Length } from '../dom.js';
import { describe } from '../errors.js';
import { severityRank, time, withStep } from '../escalations.js';
import { closeDialog, openDialog } from './dialogs.js';
import { EscList, severityLabel } from './esclist.js';
import { supervisorLabel } from './rota.js';

const narrow = window.matchMedia('(max-width: 760px)');

// Notes, joins and other supervisors' steps send no frame (docs/protocol.md),
// so while the dashboard is on screen the escalation shown is reloaded this
// often, and the whole queue less often.
const POLL_SELECTED_MS = 15000;
const POLL_QUEUE_MS = 60000;

// A page keeps sounding this often until the supervisor acknowledges or
// hands it off, or someone else acknowledges or resolves it.
const REPEAT_MS = 15000;

const CATEGORY = {
  suicide: 'Suicide',
  self_harm: 'Self-harm',
  overdose: 'Overdose',
  harm_others: 'Harm to others',
  abuse: 'Abuse',
  relapse: 'Relapse',
};

const clockFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit', second: '2-digit' });
const dayClockFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit', second: '2-digit' });

function where(e) {
  if (e.conv_kind === 'room') return `in ${e.conv_name || 'a room'}`;
  if (e.conv_kind === 'dm') return 'in a direct message';
  return 'about a person';
}

export { place, severityLabel } from './esclist.js';

// pageText is what a page says: to screen readers, in the banner.
export function pageText(e, step) {
  const sev = severityLabel(e.severity).toLowerCase();
  switch (step && step.kind) {
    case 'handed_off':
      return `Escalation handed to you: ${sev}, ${where(e)}`;
    case 'escalated':
      return `Still not acknowledged: ${sev} escalation ${where(e)}`;
    default:
      return `New ${sev} escalation ${where(e)}`;
  }
}

// countdown formats the time left: 0:42, 12:05, 1:02:03.
export function countdown(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function age(ms) {
  const m = Math.floor(ms / 60000);
  if (m < 1) return 'just now';
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min ago`;
  return plural(Math.floor(h / 24), 'day ago', 'days ago');
}

// segments splits body into plain and matched parts. Evidence spans are
// byte ranges of the UTF-8 text (what the server's detector saw), which a
// JavaScript string does not index, so the text is cut as bytes. Spans
// out of range are ignored; overlapping ones are merged.
export function segments(body, spans) {
  const bytes = new TextEncoder().encode(body);
  const ranges = (spans || [])
    .filter((s) => Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.end > s.start && s.end <= bytes.length)
    .map((s) => ({ start: s.start, end: s.end, rules: [s.rule].filter(Boolean) }))
    .sort((a, b) => a.start - b.start);
  const merged = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end) {
      last.end = Math.max(last.end, r.end);
      last.rules.push(...r.rules);
    } else {
      merged.push(r);
    }
  }
  const dec = new TextDecoder();
  const out = [];
  let at = 0;
  for (const r of merged) {
    if (r.start > at) out.push({ text: dec.decode(bytes.subarray(at, r.start)), match: false });
    out.push({ text: dec.decode(bytes.subarray(r.start, r.end)), match: true, rules: r.rules });
    at = r.end;
  }
  if (at < bytes.length) out.push({ text: dec.decode(bytes.subarray(at)), match: false });
  return out;
}

// evidenceText says in words why the detector flagged a message: the
// phrases it matched in body (null: no message to quote) and, when the
// statistical model raised the verdict (a span with rule "model" and no
// text, docs/protocol.md), that it did, since it has no words to highlight.
export function evidenceText(body, spans) {
  const parts = [];
  const matched = body === null ? [] : segments(body, spans).filter((s) => s.match).map((s) => `“${s.text}”`);
  if (matched.length) parts.push(`The detector matched ${matched.join(', ')}.`);
  if ((spans || []).some((s) => s.rule === 'model' && !s.text)) parts.push('Raised by the statistical model (no phrase to highlight).');
  return parts.join(' ');
}

function formatClock(t, now) {
  const d = new Date(t);
  const today = new Date(now);
  return d.toDateString() === today.toDateString() ? clockFmt.format(d) : dayClockFmt.format(d);
}

export class Dashboard {
  // hooks: api (Api), me() -> user, openRoom(convId), openDM(conversation),
  // announce(text), urgent(text), showBanner(text, id), visible() -> bool
  constructor(queue, alerts, hooks) {
    this.queue = queue;
    this.alerts = alerts;
    this.hooks = hooks;
    this.api = hooks.api;
    this.root = $('dashboard');
    this.list = new EscList($('esc-list'), {
      status: (e) => this.statusShort(e),
      me: () => this.me,
      select: (id, opts) => this.select(id, opts),
    });
    this.reloadTimer = 0;
    this.selectedId = null;
    this.selected = null; // a copy, so a resolved escalation stays readable
    this.detailOpen = false; // on a phone: the detail covers the queue
    this.renderedMessages = '';
    this.tickTimer = 0;
    this.loading = false;
    this.unavailable = '';
    this.polledSelected = 0;
    this.polledQueue = 0;
    this.paging = new Set(); // ids of escalations this user is paged for
    this.pageKeys = new Set(); // (id, step kind, step time) of pages seen
    this.repeatTimer = 0;

    queue.on('changed', () => {
      this.render();
      this.updatePaging();
    });

    $('esc-back').addEventListener('click', () => this.back());
    this.root.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && narrow.matches && this.root.classList.contains('detail-open') && !document.querySelector('dialog[open]')) {
        ev.preventDefault();
        this.back();
      }
    });
    $('dash-retry').addEventListener('click', () => this.refresh());
    $('sound-toggle').addEventListener('click', () => this.alerts.setSound(this.alerts.soundState === 'off'));
    $('notify-enable').addEventListener('click', () => this.alerts.askNotifications());

    $('esc-ack').addEventListener('click', (ev) => this.act(ev.currentTarget, 'ack'));
    $('esc-join').addEventListener('click', (ev) => this.join(ev.currentTarget));
    $('esc-dm').addEventListener('click', (ev) => this.message(ev.currentTarget));
    $('esc-handoff').addEventListener('click', () => this.openHandoff());
    $('esc-resolve').addEventListener('click', () => this.openResolve());
    $('note-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.addNote();
    });
    $('note-text').addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        this.addNote();
      }
    });
    $('handoff-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.handoff();
    });
    $('resolve-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.resolve();
    });
  }

  get me() {
    const u = this.hooks.me();
    return u ? u.id : '';
  }

  who(id) {
    if (!id) return '';
    if (id === 'system') return 'Kindred';
    return id === this.me ? 'you' : id;
  }

  // --- loading -----------------------------------------------------------

  // refresh loads the queue; called on every (re)connection, so that what
  // changed while the tab was away is caught up.
  async refresh() {
    const gen = this.queue.generation;
    const mark = this.queue.mark();
    this.loading = true;
    $('dash-retry').hidden = true;
    $('dash-error').textContent = '';
    if (!this.queue.loaded) $('dash-status').textContent = 'Loading escalations…';
    try {
      const list = await this.api.escalations(['open', 'acknowledged']);
      if (gen !== this.queue.generation) return;
      this.unavailable = '';
      this.loading = false;
      this.queue.replaceAll(list, mark);
      if (this.selectedId && !this.queue.get(this.selectedId)) this.reloadSelected();
    } catch (e) {
      if (gen !== this.queue.generation) return;
      this.loading = false;
      $('dash-status').textContent = '';
      if (e.status === 404 || e.code === 'unavailable') {
        this.unavailable = 'Escalations aren’t set up on this server, so nothing can be shown here.';
        $('dash-error').textContent = this.unavailable;
      } else if (e.code === 'forbidden') {
        $('dash-error').textContent = 'Your role can’t see escalations.';
      } else {
        $('dash-error').textContent = `Escalations couldn’t be loaded. ${describe(e)}`;
        $('dash-retry').hidden = false;
      }
      this.render();
    }
  }

  // reloadSelected fetches the selected escalation on its own: it left the
  // queue (resolved) while the tab was away.
  async reloadSelected() {
    const id = this.selectedId;
    const gen = this.queue.generation;
    try {
      const e = await this.api.escalation(id);
      if (gen === this.queue.generation && this.selectedId === id) {
        this.selected = e;
        this.renderDetail();
      }
    } catch {
      // Keep what is shown.
    }
  }

  // onFrame handles an `escalation` frame.
  onFrame(f) {
    if (!f.escalation) return;
    const e = withStep(f.escalation, f.step);
    this.queue.upsert(e);
    if (f.page) this.page(this.queue.get(e.id) || e, f.step);
  }

  page(e, step) {
    // The same page may come twice (a retry); alert once.
    const key = `${e.id}|${step ? step.kind : ''}|${step ? step.at : ''}`;
    if (this.pageKeys.has(key)) return;
    this.pageKeys.add(key);
    this.paging.add(e.id);
    this.updatePaging();
    if (!this.paging.has(e.id)) return; // already acknowledged meanwhile
    const text = pageText(e, step);
    this.hooks.urgent(text);
    this.alerts.page(e.severity);
    // Nothing from the conversation, nor a name: a notification leaves
    // the signed-in view (lock screens, other people nearby).
    this.alerts.notify({
      title: `Kindred: ${severityLabel(e.severity).toLowerCase()} crisis alert`,
      body: 'Open Kindred to respond.',
      tag: `kindred-${e.id}`,
      urgent: e.severity === 'imminent' || e.severity === 'high',
      onClick: () => this.hooks.show(e.id),
    });
    if (!this.hooks.visible()) this.hooks.showBanner(text, e.id);
  }

  // updatePaging stops the alert for escalations that no longer need
  // this user: acknowledged, resolved, or handed to someone else.
  updatePaging() {
    const me = this.me;
    for (const id of [...this.paging]) {
      const e = this.queue.get(id);
      if (!e || e.status !== 'open' || (e.assigned_to && e.assigned_to !== me)) this.paging.delete(id);
    }
    if (this.paging.size > 0 && !this.repeatTimer) {
      this.repeatTimer = setInterval(() => this.repeat(), REPEAT_MS);
    } else if (this.paging.size === 0 && this.repeatTimer) {
      clearInterval(this.repeatTimer);
      this.repeatTimer = 0;
    }
    this.hooks.pagingChanged(this.paging.size > 0);
  }

  repeat() {
    let worst = null;
    for (const id of this.paging) {
      const e = this.queue.get(id);
      if (e && (!worst || severityRank(e.severity) > severityRank(worst.severity))) worst = e;
    }
    if (worst) this.alerts.page(worst.severity);
  }

  clear() {
    this.stopTicking();
    clearInterval(this.repeatTimer);
    this.repeatTimer = 0;
    this.paging.clear();
    this.pageKeys.clear();
    this.list.clear();
    clearTimeout(this.reloadTimer);
    this.selectedId = null;
    this.selected = null;
    this.detailOpen = false;
    this.renderedMessages = '';
    this.unavailable = '';
    $('esc-messages').replaceChildren();
    $('esc-flagged').replaceChildren();
    $('esc-timeline').replaceChildren();
    $('esc-facts').replaceChildren();
    $('handoff-people').replaceChildren();
    for (const id of ['esc-title', 'esc-status', 'esc-evidence', 'esc-sev', 'esc-where']) $(id).textContent = '';
    for (const id of ['note-text', 'handoff-to', 'resolve-outcome']) $(id).value = '';
    this.noteFor = null;
    for (const id of ['dash-status', 'dash-error', 'dash-summary', 'esc-error', 'note-error']) $(id).textContent = '';
    this.root.classList.remove('detail-open');
    $('esc-detail').hidden = true;
  }

  // --- showing -------------------------------------------------------------

  // shown is called when the dashboard becomes visible or hidden.
  shown(visible) {
    if (visible) {
      this.render();
      this.startTicking();
    } else {
      this.stopTicking();
    }
  }

  startTicking() {
    if (this.tickTimer) return;
    this.tick();
    this.polledQueue = Date.now();
    this.tickTimer = setInterval(() => {
      this.tick();
      this.poll();
    }, 1000);
  }

  poll() {
    if (document.visibilityState !== 'visible' || this.unavailable) return;
    const now = Date.now();
    if (now - this.polledQueue >= POLL_QUEUE_MS) {
      this.polledQueue = now;
      this.polledSelected = now;
      this.refresh();
    } else if (this.selectedId && now - this.polledSelected >= POLL_SELECTED_MS) {
      this.polledSelected = now;
      this.reload(this.selectedId);
    }
  }

  stopTicking() {
    clearInterval(this.tickTimer);
    this.tickTimer = 0;
  }

  select(id, opts = {}) {
    const e = this.queue.get(id);
    if (!e) return;
    this.selectedId = id;
    this.selected = e;
    this.detailOpen = true;
    $('esc-error').textContent = '';
    $('note-error').textContent = '';
    if (this.noteFor !== id) {
      $('note-text').value = '';
      this.noteFor = id;
    }
    this.render();
    if (opts.focus) $('esc-title').focus();
    // What others added since (notes, joins) comes with a reload; moving
    // through the queue with the arrow keys reloads only where one stops.
    this.polledSelected = Date.now();
    clearTimeout(this.reloadTimer);
    if (opts.browsing) this.reloadTimer = setTimeout(() => this.reload(id), 600);
    else this.reload(id);
  }

  back() {
    const id = this.selectedId;
    this.detailOpen = false;
    this.renderLayout();
    if (!this.list.focus(id)) $('dash-title').focus();
  }

  // --- rendering -------------------------------------------------------------

  render() {
    const groups = this.queue.groups();
    const queue = groups.flatMap((g) => g.items);
    // Focus on an item that left the list goes to the list's heading.
    if (this.list.render(groups, this.selectedId)) $('dash-title').focus();

    const open = queue.filter((e) => e.status === 'open').length;
    const acked = queue.length - open;
    $('dash-summary').textContent = this.queue.loaded || queue.length
      ? `${open} open, ${acked} acknowledged`
      : '';
    if (this.queue.loaded) $('dash-status').textContent = '';
    $('esc-empty').hidden = queue.length > 0 || !this.queue.loaded || Boolean(this.unavailable);

    if (this.selectedId) {
      const fresh = this.queue.get(this.selectedId);
      if (fresh) this.selected = fresh;
    }
    this.renderDetail();
    this.renderAlerts();
    this.tick();
  }

  renderLayout() {
    const hasDetail = Boolean(this.selected);
    $('esc-detail').hidden = !hasDetail;
    $('esc-none').hidden = hasDetail;
    // Only narrow screens use it (app.css): the detail covers the queue.
    this.root.classList.toggle('detail-open', hasDetail && this.detailOpen);
  }

  statusShort(e) {
    if (e.status === 'acknowledged') return `Acknowledged by ${this.who(e.assigned_to)}`;
    if (e.status === 'resolved') return 'Resolved';
    if (e.assigned_to) return `Handed to ${this.who(e.assigned_to)}, not acknowledged`;
    return 'Open, not acknowledged';
  }

  // tick updates ages and countdowns, and nothing else.
  tick() {
    const now = this.api.now();
    for (const node of this.root.querySelectorAll('[data-since]')) {
      const t = time(node.dataset.since);
      const text = t ? age(now - t) : '';
      if (node.textContent !== text) node.textContent = text;
    }
    for (const node of this.root.querySelectorAll('[data-deadline]')) {
      const t = time(node.dataset.deadline);
      let text = '';
      if (t) text = t > now ? `escalates in ${countdown(t - now)}` : 'escalating now';
      if (node.textContent !== text) node.textContent = text;
    }
  }

  renderAlerts() {
    const sound = this.alerts.soundState;
    const toggle = $('sound-toggle');
    toggle.setAttribute('aria-pressed', sound === 'off' ? 'false' : 'true');
    toggle.hidden = !this.alerts.soundSupported;
    $('sound-state').textContent = sound === 'off' ? 'Off' : 'On';
    const perm = this.alerts.notificationState;
    $('notify-enable').hidden = perm !== 'default';
    const hints = [];
    if (sound === 'blocked') hints.push('Sound alerts resume after your next click or key press on this page.');
    else if (sound === 'off' && this.alerts.soundSupported) hints.push('Turn sound on to hear new pages.');
    if (perm === 'granted') hints.push('Desktop notifications are on.');
    else if (perm === 'denied') hints.push('Desktop notifications are blocked in this browser’s settings.');
    $('alert-hint').textContent = hints.join(' ');
  }

  renderDetail() {
    const e = this.selected;
    this.renderLayout();
    this.list.markCurrent(this.selectedId);
    if (!e) return;
    const sev = e.severity || 'none';
    const sevNode = $('esc-sev');
    sevNode.className = `sev sev-${sev}`;
    sevNode.textContent = `${severityLabel(sev)} severity`;
    $('esc-where').textContent = e.conv_kind === 'room' ? (e.conv_name || 'Room') : e.conv_kind === 'dm' ? 'Direct message' : 'No conversation';
    $('esc-title').textContent = `${e.subject_name || e.subject} ${where(e)}`;

    const status = $('esc-status');
    status.className = `esc-status state-${e.status}`;
    const statusText = this.statusShort(e);
    if (e.status === 'open' && e.ack_deadline) {
      let span = status.querySelector('[data-deadline]');
      const first = status.firstChild;
      if (!span || !first || first.nodeType !== Node.TEXT_NODE) {
        span = el('span', { 'data-deadline': e.ack_deadline });
        status.replaceChildren(document.createTextNode(`${statusText} · `), span);
      } else {
        first.textContent = `${statusText} · `;
        span.dataset.deadline = e.ack_deadline;
      }
    } else {
      status.textContent = statusText;
    }

    this.renderFacts(e);
    this.renderMessages(e);
    this.renderTimeline(e);
    this.renderActions(e);
    this.tick();
  }

  renderFacts(e) {
    const rows = [];
    const add = (term, value) => {
      if (value) rows.push(el('div', { class: 'fact' }, el('dt', { text: term }), el('dd', { text: value })));
    };
    add('Person', e.subject_name && e.subject_name !== e.subject ? `${e.subject_name} (${e.subject})` : e.subject);
    add('Raised', e.source === 'detector' ? 'Detected automatically in a message'
      : e.source === 'flag' ? `Message flagged by ${this.who(e.reported_by) || 'a member'}`
        : `Concern raised by ${this.who(e.reported_by) || 'a specialist'}`);
    add('Reason', e.reason);
    add('Signals', (e.categories || []).map((c) => CATEGORY[c] || c).join(', '));
    const created = time(e.created_at);
    if (created) add('Opened', formatClock(created, this.api.now()));
    if (e.tier >= 0) add('Paged', e.tier === 0 ? 'On-call supervisor' : e.tier === 1 ? 'Backup and every online supervisor' : 'Every supervisor and the admins');
    add('Outcome', e.outcome);
    $('esc-facts').replaceChildren(...rows);
  }

  renderMessages(e) {
    const msg = e.message && e.message.seq ? e.message : null;
    const key = `${e.id}|${msg ? msg.seq : 0}|${(e.context || []).length}|${(e.evidence || []).length}`;
    if (this.renderedMessages === key) return;
    this.renderedMessages = key;
    const context = (e.context || []).filter((m) => !m.kind || m.kind === 'message').map((m) => this.messageItem(m, false, null));
    $('esc-messages').replaceChildren(...context);
    $('esc-context').hidden = context.length === 0;
    $('esc-flagged').replaceChildren(...(msg ? [this.messageItem(msg, true, e.evidence)] : []));
    $('esc-no-message').hidden = Boolean(msg);
    $('esc-evidence').textContent = evidenceText(msg ? msg.body || '' : null, e.evidence);
  }

  messageItem(m, flagged, evidence) {
    const t = time(m.ts);
    const body = el('p', { class: 'esc-msg-body' });
    if (m.deleted) {
      body.classList.add('tombstone');
      body.textContent = 'message deleted';
    } else if (flagged && evidence && evidence.length) {
      for (const s of segments(m.body || '', evidence)) {
        body.append(s.match ? el('mark', { class: 'evidence', title: s.rules.join(', ') || null, text: s.text }) : s.text);
      }
    } else {
      body.textContent = m.body || '';
    }
    return el(flagged ? 'div' : 'li', { class: `esc-msg${flagged ? ' flagged' : ''}` },
      el('p', { class: 'msg-meta' },
        el('span', { class: 'msg-author', text: m.name || m.sender }),
        t ? el('time', { datetime: new Date(t).toISOString(), text: formatClock(t, this.api.now()) }) : null),
      body);
  }

  renderTimeline(e) {
    const now = this.api.now();
    const steps = e.timeline || [];
    const list = $('esc-timeline');
    if (list.childElementCount === steps.length && list.dataset.esc === e.id) return;
    list.dataset.esc = e.id;
    list.replaceChildren(...steps.map((s) => {
      const t = time(s.at);
      const { what, detail } = this.describeStep(s);
      return el('li', { class: `step step-${s.kind}` },
        t ? el('time', { datetime: new Date(t).toISOString(), text: formatClock(t, now) }) : null,
        el('p', { class: 'step-what', text: what }),
        detail ? el('p', { class: 'step-detail', text: detail }) : null);
    }));
  }

  describeStep(s) {
    const who = this.who(s.actor);
    const to = (s.recipients || []).map((r) => this.who(r)).join(', ');
    switch (s.kind) {
      case 'created': return { what: s.actor === 'system' ? 'Opened by the detector' : `Opened by ${who}`, detail: s.detail };
      case 'notified': return { what: to ? `Paged ${to}` : 'Nobody could be paged', detail: s.detail };
      case 'escalated': return { what: to ? `Escalated: paged ${to}` : 'Escalated: nobody could be paged', detail: s.detail };
      case 'acknowledged': return { what: `Acknowledged by ${who}`, detail: '' };
      case 'joined_room': return { what: `${cap(who)} joined the room`, detail: '' };
      case 'opened_dm': return { what: `${cap(who)} messaged the person`, detail: '' };
      case 'note': return { what: `Note by ${who}`, detail: s.detail };
      case 'handed_off': return { what: `Handed off by ${who} to ${to || 'another supervisor'}`, detail: '' };
      case 'resolved': return { what: `Resolved by ${who}`, detail: s.detail };
      case 'webhook_sent': return { what: 'Sent to the paging system', detail: s.detail };
      case 'webhook_failed': return { what: 'The paging system could not be reached', detail: s.detail };
      default: return { what: `${cap(s.kind || 'step').replace(/_/g, ' ')} by ${who}`, detail: s.detail };
    }
  }

  renderActions(e) {
    const me = this.me;
    const resolved = e.status === 'resolved';
    const show = (id, visible) => {
      const b = $(id);
      if (!visible && document.activeElement === b) $('esc-status').focus();
      b.hidden = !visible;
    };
    show('esc-ack', e.status === 'open');
    $('esc-ack-hint').hidden = e.status !== 'open';
    $('esc-ack').textContent = e.assigned_to === me && e.status === 'open' ? 'Acknowledge hand-off' : 'Acknowledge';
    show('esc-join', e.conv_kind === 'room' && Boolean(e.conv) && !resolved);
    $('esc-join').textContent = this.hooks.isMember(e.conv) ? 'Open the room' : 'Join room';
    show('esc-dm', Boolean(e.subject) && e.subject !== me);
    $('esc-dm').textContent = `Message ${e.subject_name || 'the person'}`;
    show('esc-handoff', !resolved && (!e.assigned_to || e.assigned_to === me));
    show('esc-resolve', !resolved);
  }

  // --- actions ---------------------------------------------------------------

  async run(btn, fn) {
    const e = this.selected;
    if (!e) return null;
    $('esc-error').textContent = '';
    if (btn) {
      btn.disabled = true;
      btn.setAttribute('aria-busy', 'true');
    }
    // An answer that comes after a sign-out belongs to nobody.
    const gen = this.queue.generation;
    try {
      const r = await fn(e);
      return gen === this.queue.generation ? r : null;
    } catch (err) {
      if (gen !== this.queue.generation) return null;
      $('esc-error').textContent = this.explain(err);
      if (err && err.code === 'conflict') this.reload(e.id);
      return null;
    } finally {
      if (btn) {
        btn.disabled = false;
        btn.removeAttribute('aria-busy');
      }
    }
  }

  explain(err) {
    switch (err && err.code) {
      case 'conflict': return err.detail && err.detail.message && /resolved/.test(err.detail.message)
        ? 'This escalation was already resolved.'
        : 'Someone else already has this escalation. The view now shows who.';
      case 'not_found': return 'That escalation, or the person, no longer exists.';
      case 'forbidden': return 'Your role doesn’t allow that.';
      default: return describe(err);
    }
  }

  async reload(id) {
    const gen = this.queue.generation;
    try {
      const e = await this.api.escalation(id);
      if (gen !== this.queue.generation) return;
      this.queue.upsert(e);
      if (this.selectedId === id) {
        this.selected = e;
        this.renderDetail();
      }
    } catch {
      // Keep what is shown.
    }
  }

  // took records an escalation an action answered with.
  took(e) {
    if (!e || !e.id) return;
    this.queue.upsert(e);
    if (this.selectedId === e.id) {
      this.selected = this.queue.get(e.id) || e;
      this.renderDetail();
    }
  }

  // ackFrom acknowledges the escalation id from outside the dashboard (the
  // page banner); errors go to the caller.
  async ackFrom(id) {
    const gen = this.queue.generation;
    const e = await this.api.escalationAction(id, 'ack');
    if (gen === this.queue.generation) this.took(e);
    return e;
  }

  async act(btn, action) {
    const e = await this.run(btn, (x) => this.api.escalationAction(x.id, action));
    if (!e) return;
    this.took(e);
    if (action === 'ack') {
      this.hooks.announce('Acknowledged. The escalation is yours; paging has stopped.');
      $('esc-status').focus();
    }
  }

  async join(btn) {
    const sel = this.selected;
    if (!sel) return;
    if (this.hooks.isMember(sel.conv)) {
      this.hooks.openRoom(sel.conv);
      return;
    }
    const e = await this.run(btn, (x) => this.api.escalationAction(x.id, 'join'));
    if (!e) return;
    this.took(e);
    this.hooks.openRoom(e.conv);
  }

  async message(btn) {
    const res = await this.run(btn, (x) => this.api.escalationAction(x.id, 'dm'));
    if (!res || !res.conversation) return;
    const sel = this.selected;
    if (sel) this.reload(sel.id);
    const conv = res.conversation;
    if (!conv.name && sel) conv.name = sel.subject_name || sel.subject;
    this.hooks.openDM(conv);
  }

  async addNote() {
    const input = $('note-text');
    const text = input.value.trim();
    const error = $('note-error');
    error.textContent = '';
    if (!text) {
      error.textContent = 'Write the note first.';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    if (utf8Length(text) > 4000) {
      error.textContent = 'This note is too long. Please shorten it.';
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    const form = $('note-form');
    form.setAttribute('aria-busy', 'true');
    try {
      const gen = this.queue.generation;
      const e = await this.api.escalationAction(this.selected.id, 'notes', { text });
      if (gen !== this.queue.generation) return;
      input.value = '';
      this.took(e);
      this.hooks.announce('Note added to the timeline.');
    } catch (err) {
      error.textContent = this.explain(err);
    } finally {
      form.removeAttribute('aria-busy');
    }
  }

  openHandoff() {
    $('handoff-error').textContent = '';
    $('handoff-to').value = '';
    $('handoff-to').removeAttribute('aria-invalid');
    const sel = this.selected;
    const other = (id) => id !== this.me && (!sel || id !== sel.subject);
    const people = this.queue.people().filter(other);
    $('handoff-people').replaceChildren(...people.map((id) => el('option', { value: id })));
    openDialog($('handoff-dialog'), '#handoff-to');
    // Every supervisor, with who is on call and online, when the server
    // can say; until then (or if not) those seen in the queue.
    const gen = this.queue.generation;
    this.api.request('GET', '/api/supervisors').then((d) => {
      if (gen !== this.queue.generation || !$('handoff-dialog').open) return;
      const list = (d.supervisors || []).filter((s) => other(s.id));
      $('handoff-people').replaceChildren(...list.map((s) => el('option', { value: s.id, label: supervisorLabel(s) })));
    }).catch(() => {});
  }

  async handoff() {
    const input = $('handoff-to');
    const to = input.value.trim();
    const error = $('handoff-error');
    error.textContent = '';
    if (!to) {
      error.textContent = 'Enter the user id of the supervisor to hand it to.';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    if (to === this.me) {
      error.textContent = 'Choose another supervisor than yourself.';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    const form = $('handoff-form');
    form.setAttribute('aria-busy', 'true');
    try {
      const gen = this.queue.generation;
      const e = await this.api.escalationAction(this.selected.id, 'handoff', { to });
      if (gen !== this.queue.generation) return;
      closeDialog($('handoff-dialog'));
      this.took(e);
      this.hooks.announce(`Handed off to ${to}. They have been paged.`);
    } catch (err) {
      error.textContent = err && err.code === 'not_found'
        ? 'There is no one with that user id.'
        : err && err.code === 'invalid_field' ? 'That person isn’t a supervisor. Hand off to a supervisor.' : this.explain(err);
    } finally {
      form.removeAttribute('aria-busy');
    }
  }

  openResolve() {
    $('resolve-error').textContent = '';
    $('resolve-outcome').value = '';
    $('resolve-outcome').removeAttribute('aria-invalid');
    openDialog($('resolve-dialog'), '#resolve-outcome');
  }

  async resolve() {
    const input = $('resolve-outcome');
    const outcome = input.value.trim();
    const error = $('resolve-error');
    error.textContent = '';
    if (!outcome) {
      error.textContent = 'Say what happened before resolving.';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    const form = $('resolve-form');
    form.setAttribute('aria-busy', 'true');
    try {
      const gen = this.queue.generation;
      const e = await this.api.escalationAction(this.selected.id, 'resolve', { outcome });
      if (gen !== this.queue.generation) return;
      closeDialog($('resolve-dialog'));
      this.took(e);
      this.hooks.announce('Resolved. It has left the queue.');
      $('esc-status').focus();
    } catch (err) {
      error.textContent = this.explain(err);
    } finally {
      form.removeAttribute('aria-busy');
    }
  }
}

function cap(s) {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}
