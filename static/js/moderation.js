// What a person may do to a message or to a member, as the entries of
// their "⋯" menus, and doing it: the member's own edit, delete and "ask
// for help"; flagging for the crisis team; and for a room's moderators
// (and supervisors and admins) muting, removing, banning and naming
// moderators (docs/moderation.md). Menus list only what the viewer may do
// (perm.js); the server decides again.

import { mayActOn, moderates } from './perm.js';
import { memberMuted } from './ui/members.js';
import { isMuted } from './ui/roomstate.js';

const CAN_RAISE_CONCERNS = new Set(['specialist', 'supervisor', 'admin']);

const MUTE_FOR = [
  { value: '10', label: '10 minutes' },
  { value: '60', label: '1 hour' },
  { value: '1440', label: '1 day' },
  { value: '0', label: 'Until I lift it' },
];
const BAN_FOR = [
  { value: '1440', label: '1 day' },
  { value: '10080', label: '1 week' },
  { value: '0', label: 'For good' },
];

function forText(choices, value) {
  const c = choices.find((x) => x.value === value);
  if (!c) return '';
  return value === '0' ? (choices === MUTE_FOR ? 'until you lift it' : 'for good') : `for ${c.label}`;
}

export class Moderation {
  // ctx: store, mod (ModApi), actions (ActionDialog), flash(text),
  // notice(text), refreshMembers(conv id), edit/remove/flag(message),
  // concern(member, conv), features {reports, hide, pins, blocks}, and
  // the hooks each feature adds (report, hide, pin, block).
  constructor(ctx) {
    this.ctx = ctx;
  }

  get me() {
    return this.ctx.store.me;
  }

  // --- messages ----------------------------------------------------------

  messageActions(m) {
    const s = this.ctx.store;
    const conv = s.active;
    const f = this.ctx.features;
    if (!conv || !m.seq || m.deleted) return [];
    const mine = this.me && m.from === this.me.id;
    const out = [];
    if (mine) {
      if (!isMuted(conv)) out.push({ id: 'edit', label: 'Edit' });
      out.push({ id: 'delete', label: 'Delete', dialog: true });
      out.push({ id: 'flag', label: 'Ask a supervisor for help', dialog: true });
    } else {
      out.push({ id: 'flag', label: 'Flag for the crisis team', dialog: true });
      // Moderators act themselves rather than report to each other.
      if (f.reports && !moderates(this.me, conv)) out.push({ id: 'report', label: 'Report to the moderators', dialog: true });
    }
    if (moderates(this.me, conv)) {
      if (f.pins) out.push(conv.pins.has(m.seq) ? { id: 'unpin', label: 'Unpin' } : { id: 'pin', label: 'Pin' });
      if (f.hide) out.push({ id: 'hide', label: 'Hide from the group', dialog: true, danger: true });
    }
    return out;
  }

  // messageActionsKey changes whenever messageActions would.
  messageActionsKey(m) {
    const conv = this.ctx.store.active;
    return conv ? `${conv.role}|${isMuted(conv)}|${conv.pins && conv.pins.has(m.seq)}` : '';
  }

  messagePick(id, m, btn) {
    const c = this.ctx;
    switch (id) {
      case 'delete': return c.remove(m, btn);
      case 'flag': return c.flag(m, btn);
      default:
        if (c[id]) return c[id](m, btn);
        return null;
    }
  }

  // --- members -----------------------------------------------------------

  memberActions(m, conv) {
    const me = this.me;
    const f = this.ctx.features;
    if (!me || m.id === me.id) return [];
    const out = [];
    if (CAN_RAISE_CONCERNS.has(me.role)) out.push({ id: 'concern', label: 'Raise a concern', dialog: true });
    if (f.reports && conv.kind === 'room' && !moderates(me, conv)) out.push({ id: 'report-person', label: 'Report to the moderators', dialog: true });
    if (f.blocks) {
      out.push(this.ctx.isBlocked(m.id) ? { id: 'unblock', label: 'Unblock' } : { id: 'block', label: 'Block', dialog: true });
    }
    if (conv.kind !== 'room') return out;
    if (mayActOn(me, conv, m, 'role')) {
      out.push(m.room_role === 'moderator'
        ? { id: 'make-member', label: 'Make a member again', dialog: true }
        : { id: 'make-moderator', label: 'Make a moderator', dialog: true });
    }
    if (mayActOn(me, conv, m, 'moderate')) {
      // A moderator's list says who is muted: offer what applies.
      out.push(memberMuted(m) ? { id: 'unmute', label: 'Unmute', dialog: true } : { id: 'mute', label: 'Mute…', dialog: true });
      out.push({ id: 'remove', label: 'Remove from the group…', dialog: true, danger: true });
      out.push({ id: 'ban', label: 'Ban…', dialog: true, danger: true });
    }
    return out;
  }

  async memberPick(id, m, conv) {
    const c = this.ctx;
    const name = m.name || m.id;
    const specs = {
      'make-moderator': {
        title: `Make ${name} a moderator?`,
        text: `${name} will be able to mute, remove and ban members, hide messages and work through reports in ${conv.name}.`,
        okLabel: 'Make moderator',
        send: (v) => c.mod.setRole(conv.id, m.id, 'moderator', v.reason),
        done: `${name} is now a moderator.`,
      },
      'make-member': {
        title: `Make ${name} a member again?`,
        text: `${name} will no longer moderate ${conv.name}.`,
        okLabel: 'Make member',
        send: (v) => c.mod.setRole(conv.id, m.id, 'member', v.reason),
        done: `${name} is a member again.`,
      },
      mute: {
        title: `Mute ${name}?`,
        text: `${name} can still read ${conv.name}, but can’t post until the mute ends. They see until when.`,
        choices: MUTE_FOR,
        choiceDefault: 1,
        okLabel: 'Mute',
        send: (v) => c.mod.mute(conv.id, m.id, Number(v.choice), v.reason),
        done: (v) => `${name} is muted ${forText(MUTE_FOR, v.choice)}.`,
      },
      unmute: {
        title: `Unmute ${name}?`,
        text: `${name} can post in ${conv.name} again.`,
        okLabel: 'Unmute',
        send: (v) => c.mod.unmute(conv.id, m.id, v.reason),
        done: `${name} can post again.`,
      },
      remove: {
        title: `Remove ${name} from ${conv.name}?`,
        text: `${name} leaves the group at once. They can join again${conv.visibility === 'private' ? ' with an invite link' : ''}; to keep them out, ban them instead.`,
        okLabel: 'Remove',
        danger: true,
        send: (v) => c.mod.remove(conv.id, m.id, v.reason),
        done: `${name} was removed from the group.`,
      },
      ban: {
        title: `Ban ${name} from ${conv.name}?`,
        text: `${name} leaves the group at once and can’t come back, even with an invite link, until the ban ends.`,
        choices: BAN_FOR,
        okLabel: 'Ban',
        danger: true,
        send: (v) => c.mod.ban(conv.id, m.id, Number(v.choice), v.reason),
        done: (v) => `${name} is banned ${forText(BAN_FOR, v.choice)}.`,
      },
    };
    const spec = specs[id];
    if (!spec) {
      if (id === 'concern') c.concern(m, conv);
      else if (c[id]) c[id](m, conv);
      return;
    }
    let values = null;
    const ok = await c.actions.open({
      ...spec,
      send: async (v) => {
        values = v;
        await spec.send(v);
      },
    });
    if (!ok) return;
    c.flash(typeof spec.done === 'function' ? spec.done(values) : spec.done);
    c.refreshMembers(conv.id);
  }
}
