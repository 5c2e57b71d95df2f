// The client's model of the conversations: what the server has told this
// tab, merged from three sources that overlap —
//
//   - the WebSocket stream (message, edit and delete events in sequence
//     order, live or replayed after a resume),
//   - history pages from the HTTP API (messages in their current state),
//   - the outbox (messages written here and not yet acknowledged).
//
// Every conversation keeps `seen`, the highest sequence received on the
// stream; it is what hello sends as `resume`, so the server replays exactly
// what was missed. Messages are keyed by (conversation, sequence), so a
// replayed or re-fetched message is never shown twice, and the sender's own
// message is matched to its outbox entry by its client id.

const HISTORY_PAGE = 50;

function time(s) {
  const t = s ? Date.parse(s) : NaN;
  return Number.isNaN(t) ? null : t;
}

// fromWire converts a message event of the WebSocket protocol.
function fromWire(f) {
  return {
    seq: f.seq, id: f.id || '', from: f.from, name: f.name || f.from,
    body: f.body || '', ts: time(f.ts), editedAt: time(f.edited_at), deleted: Boolean(f.deleted), hidden: Boolean(f.hidden), rev: 0,
  };
}

// fromHistory converts a message of GET /api/conversations/{id}/messages.
// Servers send it shaped like the WebSocket event; older ones used the
// store's names (sender, client_id), which are accepted too.
function fromHistory(m) {
  const from = m.from || m.sender || '';
  return {
    seq: m.seq, id: m.id || m.client_id || '', from, name: m.name || from,
    body: m.body || '', ts: time(m.ts), editedAt: time(m.edited_at), deleted: Boolean(m.deleted), hidden: Boolean(m.hidden), rev: 0,
  };
}

// applyRoom takes the room's settings and, when the object is about this
// person's membership (it has a role), their role, mute, accepted
// guidelines and approved messages (docs/protocol.md, Conversation).
// Every room object carries all its settings: a missing one is off.
// forgetPurged moves conv past entries the retention purge removed (up
// to purged): they will not be replayed, and are no longer shown.
function forgetPurged(conv, purged) {
  if (purged <= conv.seen && (conv.order.length === 0 || conv.order[0] > purged)) return;
  conv.seen = Math.max(conv.seen, purged);
  conv.read = Math.max(conv.read, purged);
  for (const seq of conv.order) {
    if (seq <= purged) conv.messages.delete(seq);
  }
  conv.order = conv.order.filter((seq) => seq > purged);
  conv.loadedFrom = Math.max(conv.loadedFrom, purged + 1);
}

function applyRoom(conv, c) {
  if (c.role) {
    conv.role = c.role;
    conv.mutedUntil = mutedUntil(c.muted_until);
  } else if (!('role' in conv)) {
    conv.role = '';
    conv.mutedUntil = 0;
  }
  conv.guidelinesAccepted = Math.max(conv.guidelinesAccepted || 0, c.guidelines_accepted || 0);
  if (Number.isInteger(c.approved_messages)) conv.approvedMessages = Math.max(conv.approvedMessages || 0, c.approved_messages);
  else if (!('approvedMessages' in conv)) conv.approvedMessages = 0;
  if (c.kind !== 'room') return;
  conv.visibility = c.visibility || 'public';
  conv.history = c.history || 'shared';
  conv.guidelines = c.guidelines || '';
  conv.guidelinesVersion = c.guidelines_version || 0;
  conv.locked = Boolean(c.locked);
  conv.readOnly = Boolean(c.read_only);
  conv.slowModeSeconds = c.slow_mode_seconds || 0;
  conv.maxMembers = c.max_members || 0;
  conv.premodMessages = c.premod_messages || 0;
}

// mutedUntil converts the wire's unix nanoseconds to milliseconds;
// Infinity until a moderator lifts it (the largest int64, which JSON
// numbers round up), 0 when not muted.
// mutedUntil turns a muted_until (unix ns) into ms since the epoch,
// Infinity until lifted, 0 when not muted.
export function mutedUntil(ns) {
  if (!ns) return 0;
  if (ns >= 9.2e18) return Infinity;
  return Math.floor(ns / 1e6);
}

const SUPERVISOR_ROLES = new Set(['supervisor', 'admin']);

// memberNote says who joined or left. A supervisor is not named: members
// see that one is there for them, not who.
function memberNote(f) {
  if (SUPERVISOR_ROLES.has(f.user.role)) return f.joined ? 'A supervisor joined' : 'A supervisor left';
  const name = f.user.name || f.user.id;
  return f.joined ? `${name} joined` : `${name} left`;
}

export class Store {
  constructor() {
    this.listeners = new Map();
    this.reset();
  }

  // reset forgets everything (sign-out). generation lets late answers to
  // requests made before the reset be ignored.
  reset() {
    this.generation = (this.generation || 0) + 1;
    this.me = null;
    this.limits = null;
    this.convs = new Map();
    this.outbox = []; // {id, conv, body, created, state, error, retryAt}
    this.pausedUntil = 0;
    this.marks = {};
    this.presence = new Map(); // user id -> online
    this.activeId = null;
    this.viewing = false; // the active conversation is on screen
  }

  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
  }

  emit(type, detail) {
    for (const fn of this.listeners.get(type) || []) fn(detail);
  }

  // --- conversations -------------------------------------------------

  setMarks(marks) {
    this.marks = marks || {};
  }

  // resume is the hello's resume map: the highest sequence received per
  // conversation, in memory or (after a reload) from the tab's marks.
  resume() {
    const r = {};
    for (const [id, m] of Object.entries(this.marks)) {
      if (m && Number.isInteger(m.seen) && m.seen >= 0) r[id] = m.seen;
    }
    for (const c of this.convs.values()) r[c.id] = c.seen;
    return r;
  }

  marksSnapshot() {
    const out = {};
    for (const c of this.convs.values()) out[c.id] = { seen: c.seen, unread: c.unread, read: c.read };
    return out;
  }

  welcome(frame) {
    this.me = frame.user;
    this.limits = frame.limits || null;
    const present = new Set();
    for (const c of frame.conversations || []) {
      present.add(c.id);
      this.upsertConv(c);
    }
    for (const id of [...this.convs.keys()]) {
      if (!present.has(id)) this.removeConv(id);
    }
    this.marks = {};
    for (const c of this.convs.values()) {
      c.memberListStale = true;
      c.typing.clear();
    }
    this.requeueInflight();
    this.emit('convs');
    this.emit('marks');
  }

  upsertConv(c) {
    let conv = this.convs.get(c.id);
    if (conv && c.last_seq < conv.seen) {
      // The server's log is behind what we saw (its data was replaced):
      // start this conversation afresh rather than hide new messages.
      this.convs.delete(c.id);
      conv = null;
    }
    if (conv) {
      conv.kind = c.kind;
      if (c.name) conv.name = c.name;
      conv.topic = c.topic || '';
      conv.memberCount = c.members || conv.memberCount;
      conv.lastSeq = Math.max(conv.lastSeq, c.last_seq || 0);
      applyRoom(conv, c);
      forgetPurged(conv, c.purged_seq || 0);
      return conv;
    }
    const mark = this.marks[c.id];
    let seen = c.last_seq || 0;
    let unread = 0;
    let read = seen;
    if (mark && Number.isInteger(mark.seen) && mark.seen <= seen) {
      seen = mark.seen;
      unread = Number.isInteger(mark.unread) ? mark.unread : 0;
      read = Number.isInteger(mark.read) && mark.read >= 0 && mark.read <= seen ? mark.read : seen;
    }
    // The retention purge removed the log up to purged_seq: the replay
    // starts after it (docs/protocol.md, Resume).
    const purged = c.purged_seq || 0;
    if (seen < purged) {
      seen = purged;
      read = Math.max(read, purged);
    }
    conv = {
      id: c.id,
      kind: c.kind,
      name: c.name || '',
      topic: c.topic || '',
      memberCount: c.members || 0,
      lastSeq: c.last_seq || 0,
      seen,
      unread,
      // read: the highest sequence that was on this person's screen.
      // newAfter/newUpTo: when the conversation came on screen with
      // messages not seen yet, those in (newAfter, newUpTo] are "new since
      // you left" (null: none).
      read,
      newAfter: null,
      newUpTo: null,
      messages: new Map(), // seq -> message
      order: [], // seqs, ascending
      changes: new Map(), // target seq -> latest edit/delete not yet applied
      loadedFrom: seen + 1, // every message with seq >= loadedFrom is known
      atStart: seen === 0,
      loading: false,
      memberList: null, // Map user id -> member, once fetched
      memberListStale: true,
      typing: new Map(), // user id -> {name, until}
      // extras are shown between messages but are not in the log: who
      // joined or left, and the private support card. They live in this
      // tab's memory only. {key, kind, after (seq), text, resources}
      extras: [],
      pins: new Map(), // seq -> {seq, by, at}
    };
    applyRoom(conv, c);
    this.convs.set(c.id, conv);
    return conv;
  }

  // addConversation handles a conversation frame (joined a room, or a DM
  // was opened). One without a role is news of a room's settings: it
  // updates a room this tab has and never adds one.
  addConversation(c) {
    const isNew = !this.convs.has(c.id);
    if (isNew && !c.role) return null;
    const conv = this.upsertConv(c);
    this.emit('convs');
    if (isNew) this.emit('marks');
    return conv;
  }

  removeConv(id) {
    this.convs.delete(id);
    const dropped = this.outbox.filter((o) => o.conv === id);
    if (dropped.length) this.outbox = this.outbox.filter((o) => o.conv !== id);
    if (this.activeId === id) this.activeId = null;
  }

  leftConversation(id) {
    if (!this.convs.has(id)) return;
    this.removeConv(id);
    this.emit('convs');
    this.emit('marks');
  }

  get active() {
    return this.activeId ? this.convs.get(this.activeId) || null : null;
  }

  setActive(id) {
    const conv = this.convs.get(id);
    if (conv && id !== this.activeId) {
      conv.newAfter = null;
      conv.newUpTo = null;
    }
    this.activeId = id;
    if (conv) this.visit(conv);
    this.markRead();
  }

  setViewing(viewing) {
    const back = viewing && !this.viewing;
    this.viewing = viewing;
    if (back && this.active) this.visit(this.active);
    this.markRead();
  }

  // visit is called when a conversation comes on screen: opened, shown
  // again, or back after a reconnect. If it has messages this person has
  // not seen, they are marked "new since you left" until the next visit.
  visit(conv) {
    if (conv.read < conv.lastSeq) {
      conv.newAfter = conv.read;
      conv.newUpTo = conv.lastSeq;
    }
  }

  // firstNew is the sequence of the first message not seen on the last
  // visit (someone else's, not deleted), or 0.
  firstNew(conv) {
    if (conv.newAfter === null) return 0;
    for (const seq of conv.order) {
      if (seq <= conv.newAfter) continue;
      if (seq > conv.newUpTo) break;
      const m = conv.messages.get(seq);
      if (!m.deleted && !(this.me && m.from === this.me.id)) return seq;
    }
    return 0;
  }

  markRead() {
    const conv = this.active;
    if (!conv || !this.viewing) return;
    if (conv.read < conv.seen) {
      conv.read = conv.seen;
      this.emit('marks');
    }
    if (conv.unread) {
      conv.unread = 0;
      this.emit('convs');
      this.emit('marks');
    }
  }

  totalUnread() {
    let n = 0;
    for (const c of this.convs.values()) n += c.unread;
    return n;
  }

  sortedConvs(kind) {
    return [...this.convs.values()]
      .filter((c) => c.kind === kind)
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || a.id.localeCompare(b.id));
  }

  // --- the event stream ----------------------------------------------

  // applyEvent handles a message, edit or delete event from the stream.
  // Events arrive in sequence order per conversation; one at or below
  // `seen` was already handled (a replay overlap) and is dropped.
  //
  // It returns false when the event skips a sequence number: something was
  // missed, and the caller must resume from `seen` (the event is not
  // applied, so it comes again with the replay).
  applyEvent(f) {
    const conv = this.convs.get(f.conv);
    if (!conv || !(f.seq > conv.seen)) return true;
    if (f.seq !== conv.seen + 1) return false;
    conv.seen = f.seq;
    conv.lastSeq = Math.max(conv.lastSeq, f.seq);
    if (this.activeId === conv.id && this.viewing) conv.read = f.seq;
    if (f.type === 'message') {
      const m = fromWire(f);
      const inserted = this.insert(conv, m);
      if (conv.typing.delete(m.from)) this.emit('typing', { conv });
      const mine = this.me && m.from === this.me.id;
      if (inserted && !mine && !m.deleted) {
        const onScreen = this.activeId === conv.id && this.viewing;
        if (!onScreen) conv.unread += 1;
        this.emit('incoming', { conv, message: m, onScreen });
      }
    } else if (f.type === 'edit') {
      this.change(conv, f.target, { body: f.body || '', editedAt: time(f.ts) }, f.seq);
    } else if (f.type === 'delete') {
      this.change(conv, f.target, { deleted: true }, f.seq);
    } else if (f.type === 'hide') {
      this.change(conv, f.target, { deleted: true, hidden: true }, f.seq);
    }
    this.emit('messages', { conv });
    this.emit('convs');
    this.emit('marks');
    return true;
  }

  synced(f) {
    const conv = this.convs.get(f.conv);
    if (!conv) return;
    if (f.seq > conv.seen) conv.seen = f.seq;
    conv.lastSeq = Math.max(conv.lastSeq, f.seq);
    if (this.activeId === conv.id && this.viewing && conv.read < conv.seen) conv.read = conv.seen;
    this.emit('marks');
  }

  // insert adds message m to conv unless its sequence is known already,
  // in which case the fresher state of the two is kept. It reports whether
  // m was new.
  insert(conv, m) {
    const have = conv.messages.get(m.seq);
    if (have) {
      if (m.hidden && !have.hidden) this.applyChange(have, { deleted: true, hidden: true });
      else if (m.deleted && !have.deleted) this.applyChange(have, { deleted: true });
      else if (!have.deleted && m.editedAt && (!have.editedAt || m.editedAt > have.editedAt)) {
        this.applyChange(have, { body: m.body, editedAt: m.editedAt });
      }
      return false;
    }
    if (this.me && m.from === this.me.id && m.id) {
      const i = this.outbox.findIndex((o) => o.conv === conv.id && o.id === m.id);
      if (i >= 0) this.outbox.splice(i, 1);
    }
    const pending = conv.changes.get(m.seq);
    if (pending) {
      conv.changes.delete(m.seq);
      this.applyChange(m, pending);
    }
    conv.messages.set(m.seq, m);
    const order = conv.order;
    if (order.length === 0 || order[order.length - 1] < m.seq) order.push(m.seq);
    else {
      let lo = 0;
      let hi = order.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (order[mid] < m.seq) lo = mid + 1;
        else hi = mid;
      }
      order.splice(lo, 0, m.seq);
    }
    return true;
  }

  change(conv, target, ch, seq) {
    const m = conv.messages.get(target);
    if (m) {
      this.applyChange(m, ch);
      return;
    }
    // The message is older than what is loaded: remember the latest
    // change, for when a history page brings the message in.
    const prev = conv.changes.get(target);
    if (!prev || (!prev.deleted && prev.seq < seq) || (ch.hidden && !prev.hidden)) conv.changes.set(target, { ...ch, seq });
  }

  applyChange(m, ch) {
    if (ch.hidden && !m.hidden) {
      // A moderator's hide wins over the author's delete: it is what
      // happened last to the text, whoever deleted first.
      m.hidden = true;
      m.deleted = true;
      m.body = '';
      m.rev += 1;
      return;
    }
    if (m.deleted) return;
    if (ch.deleted) {
      m.deleted = true;
      m.body = '';
    } else if (ch.body) {
      m.body = ch.body;
      m.editedAt = ch.editedAt || Date.now();
    } else {
      return;
    }
    m.rev += 1;
  }

  // localChange applies an acknowledged edit or delete at once, before its
  // event comes back on the stream.
  localChange(convId, seq, ch) {
    const conv = this.convs.get(convId);
    const m = conv && conv.messages.get(seq);
    if (!m) return;
    this.applyChange(m, ch);
    this.emit('messages', { conv });
  }

  typing(f) {
    const conv = this.convs.get(f.conv);
    if (!conv || (this.me && f.from === this.me.id)) return;
    conv.typing.set(f.from, { name: f.name || f.from, until: Date.now() + 5000 });
    this.emit('typing', { conv });
  }

  expireTyping() {
    const now = Date.now();
    for (const conv of this.convs.values()) {
      let changed = false;
      for (const [id, t] of conv.typing) {
        if (t.until <= now) {
          conv.typing.delete(id);
          changed = true;
        }
      }
      if (changed) this.emit('typing', { conv });
    }
  }

  typingNames(conv) {
    return [...conv.typing.values()].map((t) => t.name);
  }

  // --- members and presence -------------------------------------------

  setMembers(convId, members) {
    const conv = this.convs.get(convId);
    if (!conv) return;
    conv.memberList = new Map(members.map((m) => [m.id, { ...m }]));
    conv.memberListStale = false;
    conv.memberCount = members.length;
    for (const m of members) this.presence.set(m.id, Boolean(m.online));
    this.emit('members', { conv });
    this.emit('convs');
  }

  presenceEvent(f) {
    this.presence.set(f.user, Boolean(f.online));
    const conv = this.convs.get(f.conv);
    if (conv && conv.memberList && conv.memberList.has(f.user)) {
      conv.memberList.get(f.user).online = Boolean(f.online);
    }
    if (conv) this.emit('members', { conv });
    this.emit('convs');
  }

  memberEvent(f) {
    const conv = this.convs.get(f.conv);
    if (!conv) return;
    if (f.user && !(this.me && f.user.id === this.me.id)) {
      const text = memberNote(f);
      this.addExtra(conv, { key: `m${conv.extras.length}:${f.user.id}`, kind: 'note', text });
      this.emit('note', { conv, text });
    }
    if (conv.memberList) {
      if (f.joined) {
        if (!conv.memberList.has(f.user.id)) {
          conv.memberList.set(f.user.id, { ...f.user, online: Boolean(this.presence.get(f.user.id)) });
        }
      } else {
        conv.memberList.delete(f.user.id);
      }
      conv.memberCount = conv.memberList.size;
      // Presence is not announced on joining: ask again for fresh flags.
      conv.memberListStale = true;
    } else {
      conv.memberCount = Math.max(0, conv.memberCount + (f.joined ? 1 : -1));
    }
    this.emit('members', { conv, refresh: true });
    this.emit('convs');
  }

  // addExtra puts a line after the newest message received so far.
  addExtra(conv, extra) {
    conv.extras.push({ after: conv.seen, ...extra });
    conv.extras.sort((a, b) => a.after - b.after);
    this.emit('messages', { conv });
  }

  // support handles a support frame: this user's private note about a
  // message of theirs that signals a crisis, shown after that message
  // until dismissed. A frame for a note already shown updates it when it
  // is newer (its state changed). It reports whether the text is new.
  support(f) {
    const conv = this.convs.get(f.conv);
    if (!conv || !f.text) return false;
    const key = f.note ? `n${f.note}` : `s${f.seq}`;
    const fields = {
      note: f.note || '', state: f.state || '', updated: f.updated_at || '', text: f.text,
      resources: Array.isArray(f.resources) ? f.resources : [],
    };
    const had = conv.extras.find((x) => x.key === key);
    if (had) {
      if (had.text === fields.text || Date.parse(fields.updated) < Date.parse(had.updated)) return false;
      Object.assign(had, fields);
    } else {
      conv.extras.push({ key, kind: 'support', after: f.seq || conv.seen, ...fields });
      conv.extras.sort((a, b) => a.after - b.after);
    }
    this.emit('messages', { conv });
    return true;
  }

  // supportDismissed removes a support note dismissed on any device.
  supportDismissed(note) {
    for (const conv of this.convs.values()) {
      if (conv.extras.some((x) => x.key === `n${note}`)) this.dismissExtra(conv.id, `n${note}`);
    }
  }

  // dismissExtra removes a support note the person has read, and returns
  // it (null if it was not shown).
  dismissExtra(convId, key) {
    const conv = this.convs.get(convId);
    if (!conv) return null;
    const gone = conv.extras.find((x) => x.key === key) || null;
    conv.extras = conv.extras.filter((x) => x.key !== key);
    this.emit('messages', { conv });
    return gone;
  }

  // dmPartner returns the other member of a DM, once its members are known.
  dmPartner(conv) {
    if (!conv || conv.kind !== 'dm' || !conv.memberList || !this.me) return null;
    for (const m of conv.memberList.values()) if (m.id !== this.me.id) return m;
    return null;
  }

  // memberRole looks a user's role up in conv's member list, if loaded.
  memberRole(conv, userId) {
    const m = conv.memberList && conv.memberList.get(userId);
    return m ? m.role : '';
  }

  // --- history --------------------------------------------------------

  // loadOlder fetches the page of messages before the oldest one known.
  async loadOlder(api, convId) {
    const conv = this.convs.get(convId);
    if (!conv || conv.loading || conv.atStart) return;
    const gen = this.generation;
    conv.loading = true;
    this.emit('history', { conv });
    try {
      const page = await api.history(conv.id, conv.loadedFrom, HISTORY_PAGE);
      if (gen !== this.generation || this.convs.get(convId) !== conv) return;
      for (const m of page) this.insert(conv, fromHistory(m));
      if (page.length < HISTORY_PAGE) conv.atStart = true;
      else conv.loadedFrom = page[0].seq;
      conv.historyError = null;
    } catch (e) {
      if (gen !== this.generation) return;
      conv.historyError = e;
    } finally {
      conv.loading = false;
    }
    this.emit('messages', { conv, prepended: true });
    this.emit('history', { conv });
  }

  // --- the outbox -----------------------------------------------------

  enqueue(convId, id, body) {
    this.outbox.push({ id, conv: convId, body, created: Date.now(), state: 'queued', error: null });
    const conv = this.convs.get(convId);
    if (conv) this.emit('messages', { conv, own: true });
  }

  // flush sends queued messages in the order they were written, unless the
  // server asked us to wait. It returns the delay until the next try, or 0.
  flush(conn) {
    const now = Date.now();
    if (this.pausedUntil > now) return this.pausedUntil - now;
    let wait = 0;
    for (const o of this.outbox) {
      if (o.state !== 'queued') continue;
      if (o.retryAt && o.retryAt > now) {
        wait = wait ? Math.min(wait, o.retryAt - now) : o.retryAt - now;
        continue;
      }
      if (!conn.send({ type: 'send', conv: o.conv, id: o.id, body: o.body, ref: o.id })) break;
      o.state = 'inflight';
    }
    return wait;
  }

  // requeueInflight: after a reconnect nothing is known about messages
  // that were sent without an ack; they are sent again with the same ids,
  // which the server answers with duplicate acks if they were stored.
  requeueInflight() {
    for (const o of this.outbox) if (o.state === 'inflight') o.state = 'queued';
  }

  ack(f) {
    if (!f.id) return;
    const i = this.outbox.findIndex((o) => o.conv === f.conv && o.id === f.id);
    if (i < 0) return;
    const o = this.outbox[i];
    if (f.pending) {
      // Held for a moderator's approval (pre-moderation): it stays here,
      // marked, until it arrives as a message or is rejected.
      o.state = 'awaiting';
      o.pendingId = f.pending_id || '';
      o.error = null;
      const awaiting = this.convs.get(f.conv);
      if (awaiting) this.emit('messages', { conv: awaiting });
      return;
    }
    if (f.held) {
      // Stored, but held for a supervisor by the room's policy: it stays
      // here, marked, until it arrives as a message if it is released.
      o.state = 'held';
      const held = this.convs.get(f.conv);
      if (held) this.emit('messages', { conv: held });
      return;
    }
    this.outbox.splice(i, 1);
    const conv = this.convs.get(f.conv);
    if (!conv) return;
    if (!f.duplicate) conv.lastSentAt = Date.now(); // slow mode counts from here
    if (!conv.messages.has(f.seq)) {
      this.insert(conv, {
        seq: f.seq, id: o.id, from: this.me.id, name: this.me.name, body: o.body,
        ts: time(f.ts) || Date.now(), editedAt: null, deleted: false, rev: 0,
      });
    }
    this.emit('messages', { conv });
  }

  // sendRefused handles an error frame answering one of our sends. It
  // returns the outbox entry, or null if the error is not about one.
  sendRefused(f, temporary) {
    const o = this.outbox.find((x) => x.conv === f.conv && x.id === f.id);
    if (!o) return null;
    if (temporary) {
      const wait = f.retry_after_ms || 2000;
      o.state = 'queued';
      o.error = f;
      if (f.code === 'rate_limited') this.pausedUntil = Math.max(this.pausedUntil, Date.now() + wait);
      else o.retryAt = Date.now() + wait;
    } else {
      o.state = 'failed';
      o.error = f;
    }
    const conv = this.convs.get(f.conv);
    if (conv) this.emit('messages', { conv });
    return o;
  }

  // rejected handles a moderator's rejection of a held message.
  rejected(f) {
    const o = this.outbox.find((x) => x.conv === f.conv && (x.pendingId === f.pending_id || (f.id && x.id === f.id)));
    if (!o) return;
    o.state = 'rejected';
    const conv = this.convs.get(f.conv);
    if (conv) this.emit('messages', { conv });
  }

  // setPins replaces a room's pinned messages ([{seq, by, at}]).
  setPins(convId, pins) {
    const conv = this.convs.get(convId);
    if (!conv) return;
    conv.pins = new Map((pins || []).filter((p) => p && p.seq > 0).map((p) => [p.seq, p]));
    this.emit('pins', { conv });
    this.emit('messages', { conv });
  }

  retry(convId, id) {
    const o = this.outbox.find((x) => x.conv === convId && x.id === id);
    if (!o) return;
    o.state = 'queued';
    o.error = null;
    o.retryAt = 0;
    const conv = this.convs.get(convId);
    if (conv) this.emit('messages', { conv });
  }

  discard(convId, id) {
    this.outbox = this.outbox.filter((x) => !(x.conv === convId && x.id === id));
    const conv = this.convs.get(convId);
    if (conv) this.emit('messages', { conv });
  }

  // display is what the message list shows: the timeline with the extras
  // placed after the message each follows, before unsent messages.
  display(conv) {
    const items = this.timeline(conv);
    if (conv.extras.length === 0) return items;
    const out = [];
    let x = 0;
    for (const item of items) {
      const seq = item.state === 'sent' ? item.message.seq : Infinity;
      while (x < conv.extras.length && conv.extras[x].after < seq) out.push({ extra: conv.extras[x++] });
      out.push(item);
    }
    while (x < conv.extras.length) out.push({ extra: conv.extras[x++] });
    return out;
  }

  // timeline lists what conv shows: stored messages by sequence, then this
  // tab's unsent ones in the order they were written.
  timeline(conv) {
    const items = conv.order.map((seq) => ({ message: conv.messages.get(seq), state: 'sent' }));
    for (const o of this.outbox) {
      if (o.conv !== conv.id) continue;
      items.push({
        message: {
          seq: 0, id: o.id, from: this.me ? this.me.id : '', name: this.me ? this.me.name : '',
          body: o.body, ts: o.created, editedAt: null, deleted: false, rev: 0,
        },
        state: ['failed', 'held', 'awaiting', 'rejected'].includes(o.state) ? o.state : 'pending',
        error: o.error,
      });
    }
    return items;
  }
}
