// The supervisor's escalation queue: what the server has said about each
// escalation, from the list it answers over HTTP and the `escalation`
// frames that keep it current over the WebSocket. Both overlap; an
// escalation's timeline only ever grows (it is an append-only audit
// trail), so of two copies the one with the longer timeline is the newer.
//
// The queue is held in memory only (it carries what people wrote) and is
// emptied on sign-out.

const RANK = { imminent: 3, high: 2, concern: 1, none: 0 };
// Not acknowledged yet (open, or handed off and waiting) comes first.
const STATUS_RANK = { open: 0, acknowledged: 1, resolved: 2 };

// The statuses the queue shows; a resolved escalation leaves it.
export const QUEUE_STATUSES = ['open', 'acknowledged'];

export function severityRank(s) {
  return RANK[s] ?? 0;
}

export function time(s) {
  const t = s ? Date.parse(s) : NaN;
  return Number.isNaN(t) ? null : t;
}

// compare orders the queue: what nobody has acknowledged first, then the
// most severe, then the oldest (the one waiting longest), then by id for a
// stable order.
export function compare(a, b) {
  return (STATUS_RANK[a.status] ?? 3) - (STATUS_RANK[b.status] ?? 3) ||
    severityRank(b.severity) - severityRank(a.severity) ||
    (time(a.created_at) ?? 0) - (time(b.created_at) ?? 0) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

const PAGE_STEPS = new Set(['notified', 'escalated', 'handed_off']);
const SUPERVISOR_STEPS = new Set(['acknowledged', 'joined_room', 'opened_dm', 'note', 'handed_off', 'resolved']);

function stepsOf(e) {
  return Array.isArray(e.timeline) ? e.timeline.length : 0;
}

export class EscalationQueue {
  constructor() {
    this.listeners = new Map();
    this.counter = 0;
    this.reset();
  }

  reset() {
    this.items = new Map(); // id -> {e, rev}
    this.loaded = false;
    this.generation = (this.generation || 0) + 1;
  }

  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
  }

  emit(type, detail) {
    for (const fn of this.listeners.get(type) || []) fn(detail);
  }

  get(id) {
    const it = this.items.get(id);
    return it ? it.e : null;
  }

  // upsert takes a copy of an escalation from the server and keeps the
  // fresher of it and the one known. It reports whether it was new to
  // this tab, and whether anything changed.
  upsert(e) {
    if (!e || typeof e.id !== 'string') return { isNew: false, changed: false };
    const have = this.items.get(e.id);
    if (have && stepsOf(have.e) > stepsOf(e)) return { isNew: false, changed: false };
    this.counter += 1;
    this.items.set(e.id, { e, rev: this.counter });
    this.emit('changed', { id: e.id });
    return { isNew: !have, changed: true };
  }

  // mark returns a position for replaceAll: what changed after it is
  // newer than a list fetched from here on.
  mark() {
    return this.counter;
  }

  // replaceAll merges the list the server answered (every open and
  // acknowledged escalation). One known here but missing from the list
  // was resolved meanwhile, unless a frame brought it after the list was
  // asked for (since `mark`).
  replaceAll(list, mark) {
    const present = new Set();
    for (const e of list) {
      present.add(e.id);
      const have = this.items.get(e.id);
      if (!have || stepsOf(have.e) <= stepsOf(e)) {
        this.counter += 1;
        this.items.set(e.id, { e, rev: this.counter });
      }
    }
    for (const [id, it] of [...this.items]) {
      if (!present.has(id) && it.rev <= mark && QUEUE_STATUSES.includes(it.e.status)) this.items.delete(id);
    }
    this.loaded = true;
    this.emit('changed', {});
  }

  // groups is what the dashboard shows: the queue grouped by person.
  groups() {
    return groupByPerson([...this.items.values()].map((it) => it.e)
      .filter((e) => QUEUE_STATUSES.includes(e.status)));
  }

  // queue lists what the dashboard shows, in order.
  queue() {
    return this.groups().flatMap((g) => g.items);
  }

  openCount() {
    let n = 0;
    for (const { e } of this.items.values()) if (e.status === 'open') n += 1;
    return n;
  }

  // people lists the supervisors seen in any escalation (paged, or acting
  // as only supervisors do), for choosing whom to hand one off to.
  people() {
    const ids = new Set();
    for (const { e } of this.items.values()) {
      for (const s of e.timeline || []) {
        if (SUPERVISOR_STEPS.has(s.kind) && s.actor && s.actor !== 'system') ids.add(s.actor);
        if (PAGE_STEPS.has(s.kind)) for (const r of s.recipients || []) ids.add(r);
      }
      if (e.assigned_to) ids.add(e.assigned_to);
    }
    return [...ids].sort();
  }
}

// groupByPerson groups escalations by the person they are about, each
// group's items in queue order (compare), and the groups by their most
// urgent item. An escalation without a subject is a group of its own.
export function groupByPerson(list) {
  const groups = new Map();
  for (const e of [...list].sort(compare)) {
    const key = e.subject ? `u:${e.subject}` : `e:${e.id}`;
    let g = groups.get(key);
    if (!g) {
      g = { key, subject: e.subject || '', name: e.subject_name || e.subject || 'Unknown person', items: [] };
      groups.set(key, g);
    }
    g.items.push(e);
  }
  // Created in the order of each group's first, most urgent, item.
  return [...groups.values()];
}

// withStep returns e with step in its timeline. A page is sent before the
// engine records it, so the frame's escalation may not list its own step
// yet.
export function withStep(e, step) {
  if (!e || !step || !step.kind) return e;
  const tl = Array.isArray(e.timeline) ? e.timeline : [];
  if (tl.some((s) => s.kind === step.kind && s.at === step.at)) return e;
  return { ...e, timeline: [...tl, step] };
}
