// The room's own tools: the "Group options" menu in the header (the
// guidelines, settings, invite links and bans, and the queues moderators work
// through), the state shown above the message box, the guidelines a
// member accepts before posting, and invite links opened from the
// address (/#invite=<code>).

import { $ } from '../dom.js';
import { describe } from '../errors.js';
import { moderates, setsSettings } from '../perm.js';
import { BansDialog } from './bans.js';
import { GuidelinesDialog } from './guidelines.js';
import { InvitesDialog } from './invites.js';
import { menuKeydown, openMenu } from './menu.js';
import { isMuted, needsGuidelines, RoomState, untilText } from './roomstate.js';
import { SettingsDialog } from './settings.js';

export class RoomTools {
  // ctx: store, mod (ModApi), features, flash(text), notice(text),
  // openConversation(id), focusComposer(), leave(), rerender() (the
  // messages, whose menus changed), extraEntries(conv)
  // -> menu entries, extraPick(id, conv)
  constructor(ctx) {
    this.ctx = ctx;
    const s = ctx.store;
    this.shownGuidelines = new Set(); // rooms whose guidelines popped up once
    this.state = new RoomState(s, {
      showGuidelines: () => this.guidelines.open(s.active),
      muteEnded: () => ctx.rerender(),
    });
    this.guidelines = new GuidelinesDialog(s, {
      accept: (conv, version) => ctx.mod.acceptGuidelines(conv.id, version),
      exempt: (conv) => moderates(s.me, conv),
      accepted: (conv) => {
        this.state.render();
        ctx.flash(`Thank you. You can post in ${conv.name} now.`);
        if (s.active === conv) ctx.focusComposer();
      },
    });
    this.settings = new SettingsDialog(s, {
      save: (conv, changes) => ctx.mod.settings(conv.id, changes),
      saved: (conv, updated) => {
        if (updated) s.addConversation({ ...updated, role: updated.role || conv.role });
        ctx.flash('Settings saved.');
      },
      premod: () => Boolean(ctx.features.premod),
    });
    this.invites = new InvitesDialog(s, {
      list: (conv) => ctx.mod.invites(conv.id),
      create: (conv, minutes, uses) => ctx.mod.createInvite(conv.id, minutes, uses),
      revoke: (conv, id) => ctx.mod.revokeInvite(conv.id, id),
    });
    this.bans = new BansDialog(s, {
      list: (conv) => ctx.mod.bans(conv.id),
      unban: (conv, user) => ctx.mod.unban(conv.id, user),
    });
    const btn = $('room-menu');
    btn.addEventListener('click', () => this.openRoomMenu(false));
    btn.addEventListener('keydown', (ev) => menuKeydown(ev, (_b, last) => this.openRoomMenu(last)));
  }

  roomEntries(conv) {
    const me = this.ctx.store.me;
    const out = [];
    if (!conv) return out;
    if (conv.guidelines) out.push({ id: 'guidelines', label: 'Guidelines', dialog: true });
    if (setsSettings(me, conv)) out.push({ id: 'settings', label: 'Settings', dialog: true });
    if (moderates(me, conv)) out.push({ id: 'invites', label: 'Invite links', dialog: true });
    if (conv.kind === 'room' && moderates(me, conv)) out.push({ id: 'bans', label: 'Banned people', dialog: true });
    out.push(...this.ctx.extraEntries(conv));
    if (conv.kind === 'room') out.push({ id: 'leave', label: 'Leave this group', dialog: true });
    return out;
  }

  openRoomMenu(last) {
    const conv = this.ctx.store.active;
    if (!conv) return;
    openMenu($('room-menu'), this.roomEntries(conv), (id) => {
      if (id === 'guidelines') this.guidelines.open(conv);
      else if (id === 'settings') this.settings.open(conv);
      else if (id === 'invites') this.invites.open(conv);
      else if (id === 'bans') this.bans.open(conv);
      else if (id === 'leave') this.ctx.leave();
      else this.ctx.extraPick(id, conv);
    }, { last });
  }

  // render shows the menu button where it has entries, and the state.
  render() {
    const conv = this.ctx.store.active;
    $('room-menu').hidden = this.roomEntries(conv).length === 0;
    this.state.render();
  }

  // opened runs when a conversation comes on screen: its guidelines pop up
  // once per tab if they wait to be accepted.
  opened(conv) {
    this.render();
    if (needsGuidelines(conv) && !moderates(this.ctx.store.me, conv) && !this.shownGuidelines.has(conv.id)) {
      this.shownGuidelines.add(conv.id);
      this.guidelines.open(conv);
    }
  }

  // refusal says why a send was refused, with the end of a mute in local
  // time when this tab knows it.
  refusal(f) {
    const conv = this.ctx.store.convs.get(f.conv);
    if (f.code === 'muted' && conv && isMuted(conv)) {
      return `A moderator muted you in this group ${untilText(conv.mutedUntil)}. You can still read, and flag or report messages.`;
    }
    if (f.code === 'slow_mode' && conv) {
      conv.slowUntil = Date.now() + (f.retry_after_ms || 0);
      this.state.render();
    }
    if (f.code === 'guidelines_required' && conv && conv.guidelines && this.ctx.store.active === conv) {
      // Asked for now: show them.
      queueMicrotask(() => this.guidelines.open(conv));
    }
    return describe(f, this.ctx.store.limits);
  }

  // --- invite links ------------------------------------------------------

  // acceptInvite joins the room of an invite link, opens it and shows its
  // guidelines if any.
  async acceptInvite(code) {
    const ctx = this.ctx;
    try {
      const conv = await ctx.mod.acceptInvite(code);
      const s = ctx.store;
      if (!s.convs.has(conv.id)) s.addConversation(conv);
      else s.addConversation({ ...conv, role: conv.role || s.convs.get(conv.id).role });
      ctx.openConversation(conv.id);
      ctx.flash(`Welcome to ${conv.name}.`);
    } catch (e) {
      ctx.notice(describe(e, ctx.store.limits), true);
    }
  }

  clear() {
    this.shownGuidelines.clear();
    this.state.clear();
    this.guidelines.clear();
    this.invites.clear();
    this.bans.clear();
  }
}
