// The moderation features that arrive live: hiding and pinning messages,
// reports and their queue, pre-moderation's queue of held messages, and
// blocking. Each is switched on in `features` once the server has it; this
// module supplies the menu entries and actions for them and applies their
// frames (pins, report_news, pending, pending_done).

import { describe } from './errors.js';
import { moderates } from './perm.js';
import { announce } from './ui/announcer.js';
import { ComplaintDialog } from './ui/complaint.js';
import { PendingDialog } from './ui/pending.js';
import { PinsStrip } from './ui/pins.js';
import { OUTCOMES, ReportsDialog } from './ui/reports.js';

function excerpt(body) {
  const s = (body || '').replace(/\s+/g, ' ').trim();
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
}

export class ModLive {
  // ctx: store, mod (ModApi), actions (ActionDialog), features,
  // request(frame) -> Promise, flash(text), notice(text)
  constructor(ctx) {
    this.ctx = ctx;
    const s = ctx.store;
    this.blocked = new Set();
    this.openReports = new Map(); // conv id -> count of open reports known
    this.waiting = new Map(); // conv id -> ids of held messages known
    this.pins = new PinsStrip(s);
    this.complaint = new ComplaintDialog();
    this.reports = new ReportsDialog(s, {
      list: async (conv, status) => {
        const reports = await ctx.mod.reports(conv.id, status);
        if (status === 'open') this.openReports.set(conv.id, reports.length);
        return reports;
      },
      resolve: (r) => this.resolveReport(r),
      name: (conv, user) => this.nameOf(conv, user),
      quote: (conv, seq) => {
        const m = conv.messages.get(seq);
        return m && !m.deleted ? `“${excerpt(m.body)}”` : '';
      },
    });
    this.pending = new PendingDialog(s, {
      list: async (conv) => {
        const items = await ctx.mod.pending(conv.id);
        this.waiting.set(conv.id, new Set(items.map((p) => p.id)));
        return items;
      },
      approve: (conv, p) => ctx.mod.approve(conv.id, p.id),
      reject: (conv, p) => ctx.actions.open({
        title: `Reject ${p.name || p.sender}’s message?`,
        text: 'It is deleted and the group never sees it. The sender sees that a moderator didn’t approve it.',
        okLabel: 'Reject',
        danger: true,
        send: (v) => ctx.mod.reject(conv.id, p.id, v.reason),
      }),
    });
  }

  nameOf(conv, user) {
    const m = conv.memberList && conv.memberList.get(user);
    return (m && m.name) || user;
  }

  // --- the room menu -----------------------------------------------------

  roomEntries(conv) {
    const f = this.ctx.features;
    if (!moderates(this.ctx.store.me, conv)) return [];
    const out = [];
    if (f.reports) {
      const n = this.openReports.get(conv.id) || 0;
      out.push({ id: 'reports', label: n ? `Reports (${n} open)` : 'Reports', dialog: true });
    }
    const held = (this.waiting.get(conv.id) || new Set()).size;
    if (f.premod && (conv.premodMessages || held)) out.push({ id: 'pending', label: held ? `Awaiting approval (${held})` : 'Awaiting approval', dialog: true });
    return out;
  }

  roomPick(id, conv) {
    if (id === 'reports') this.reports.open(conv);
    else if (id === 'pending') this.pending.open(conv);
  }

  // --- messages ----------------------------------------------------------

  async report(m) {
    const conv = this.ctx.store.active;
    if (!conv) return;
    const sent = await this.complaint.open({
      text: `The moderators of ${conv.name} will look at ${m.name}’s message.`,
      quote: m.body,
      send: (category, reason) => this.ctx.request({ type: 'report', conv: conv.id, seq: m.seq, category, reason }),
    });
    if (sent) this.ctx.flash('Thank you. The moderators have your report.');
  }

  async reportPerson(member, conv) {
    const sent = await this.complaint.open({
      text: `The moderators of ${conv.name} will look into what you report about ${member.name}.`,
      send: (category, reason) => this.ctx.request({ type: 'report', conv: conv.id, user: member.id, category, reason }),
    });
    if (sent) this.ctx.flash('Thank you. The moderators have your report.');
  }

  async hide(m) {
    const conv = this.ctx.store.active;
    if (!conv) return;
    const ok = await this.ctx.actions.open({
      title: `Hide ${m.name}’s message?`,
      text: 'Its text is removed for everyone, from the history too. Members see “Removed by a moderator” in its place.',
      okLabel: 'Hide message',
      danger: true,
      send: (v) => this.ctx.mod.hide(conv.id, m.seq, v.reason),
    });
    if (ok) {
      this.ctx.store.localChange(conv.id, m.seq, { deleted: true, hidden: true });
      this.ctx.flash('The message is hidden.');
    }
  }

  async pin(m, btn, on = true) {
    const conv = this.ctx.store.active;
    if (!conv) return;
    try {
      if (on) await this.ctx.mod.pin(conv.id, m.seq);
      else await this.ctx.mod.unpin(conv.id, m.seq);
      this.ctx.flash(on ? 'Pinned for everyone in the group.' : 'Unpinned.');
    } catch (e) {
      this.ctx.notice(describe(e, this.ctx.store.limits));
    }
  }

  unpin(m, btn) {
    return this.pin(m, btn, false);
  }

  // --- members: blocking ---------------------------------------------------

  isBlocked(user) {
    return this.blocked.has(user);
  }

  async loadBlocks() {
    if (!this.ctx.features.blocks) return;
    try {
      const list = await this.ctx.mod.blocks();
      this.blocked = new Set(list.map((b) => (typeof b === 'string' ? b : b.user || b.id)).filter(Boolean));
    } catch {
      // The menus offer "Block" until the list is known.
    }
  }

  async block(member) {
    const ok = await this.ctx.actions.open({
      title: `Block ${member.name}?`,
      text: `${member.name} won’t be able to message you one-on-one or see when you are online. They aren’t told.`,
      okLabel: 'Block',
      danger: true,
      noReason: true,
      send: () => this.ctx.mod.block(member.id),
    });
    if (ok) {
      this.blocked.add(member.id);
      this.ctx.flash(`You blocked ${member.name}.`);
    }
  }

  async unblock(member) {
    try {
      await this.ctx.mod.unblock(member.id);
      this.blocked.delete(member.id);
      this.ctx.flash(`You unblocked ${member.name}.`);
    } catch (e) {
      this.ctx.notice(describe(e, this.ctx.store.limits));
    }
  }

  // --- live frames -------------------------------------------------------

  // opened loads what a room shows besides its messages: its pins.
  async opened(conv) {
    this.pins.render();
    if (!this.ctx.features.pins || conv.kind !== 'room') return;
    try {
      const pins = await this.ctx.mod.pins(conv.id);
      this.ctx.store.setPins(conv.id, pins);
    } catch {
      // The strip stays as it was; live pins frames still update it.
    }
  }

  // frame handles the moderation frames; it returns false for others.
  frame(f) {
    const s = this.ctx.store;
    switch (f.type) {
      case 'pins':
        s.setPins(f.conv, f.pins);
        return true;
      case 'blocks':
        // Blocked or unblocked from any of this person's sessions.
        if (f.blocked) this.blocked.add(f.user);
        else this.blocked.delete(f.user);
        return true;
      case 'report_news': {
        const r = f.report;
        if (!r) return true;
        const n = this.openReports.get(r.conv) || 0;
        this.openReports.set(r.conv, Math.max(0, n + (r.status === 'open' ? 1 : -1)));
        this.reports.news(r);
        const conv = s.convs.get(r.conv);
        if (r.status === 'open' && conv) announce(`New report in ${conv.name}.`);
        return true;
      }
      case 'pending':
      case 'pending_done': {
        const ids = this.waiting.get(f.conv) || new Set();
        if (f.type === 'pending' && f.pending) ids.add(f.pending.id);
        else ids.delete(f.id);
        this.waiting.set(f.conv, ids);
        this.pending.news(f);
        if (f.type === 'pending' && s.convs.get(f.conv)) announce(`A message awaits approval in ${s.convs.get(f.conv).name}.`);
        return true;
      }
      default:
        return false;
    }
  }

  async resolveReport(r) {
    const conv = this.ctx.store.convs.get(r.conv);
    return this.ctx.actions.open({
      title: 'Resolve this report?',
      text: conv ? `Say what was done in ${conv.name}. The reporter isn’t told.` : 'Say what was done. The reporter isn’t told.',
      choices: OUTCOMES,
      choiceLabel: 'Outcome',
      reasonLabel: 'Note for the other moderators ',
      reasonHint: 'Kept with the report; members don’t see it.',
      okLabel: 'Resolve',
      send: async (v) => {
        await this.ctx.mod.resolveReport(r.id, v.choice, v.reason);
      },
    });
  }

  clear() {
    this.blocked.clear();
    this.openReports.clear();
    this.waiting.clear();
    this.pins.clear();
    this.complaint.clear();
    this.reports.clear();
    this.pending.clear();
  }
}
