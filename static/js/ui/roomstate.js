// What a member needs to know before writing in a room, shown above the
// message box in plain words: a mute and when it ends (local time),
// read-only, guidelines to accept first, slow mode with a countdown, and
// pre-moderation of a newcomer's first messages. While one of the first
// three applies, the message box is disabled; the server refuses the send
// anyway (docs/moderation.md), so this only saves a refusal.

import { $, el, formatTime, plural } from '../dom.js';
import { exempt } from '../perm.js';

const dayTimeFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', hour: 'numeric', minute: '2-digit' });

// untilText says when a mute ends: "14:05" today, else with the day.
export function untilText(ms, now = Date.now()) {
  if (ms === Infinity) return 'until a moderator lifts it';
  const d = new Date(ms);
  const n = new Date(now);
  const today = d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
  return `until ${today ? formatTime(d) : dayTimeFmt.format(d)}`;
}

export function isMuted(conv, now = Date.now()) {
  return Boolean(conv && conv.mutedUntil && conv.mutedUntil > now);
}

export function needsGuidelines(conv) {
  return Boolean(conv && conv.kind === 'room' && conv.guidelines && (conv.guidelinesAccepted || 0) < conv.guidelinesVersion);
}

// slowWait is how long until this person may send again in a slow room.
export function slowWait(conv, now = Date.now()) {
  if (!conv || !conv.slowModeSeconds) return 0;
  const next = Math.max((conv.lastSentAt || 0) + conv.slowModeSeconds * 1000, conv.slowUntil || 0);
  return Math.max(0, next - now);
}

export class RoomState {
  // hooks: showGuidelines(), muteEnded()
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.box = $('room-state');
    this.input = $('composer-input');
    this.sendBtn = $('send');
    this.timer = 0;
    this.sig = '';
    this.box.addEventListener('click', (ev) => {
      if (ev.target.closest('[data-state-act="guidelines"]')) this.hooks.showGuidelines();
    });
  }

  clear() {
    clearTimeout(this.timer);
    this.sig = '';
    this.muted = false;
    this.box.replaceChildren();
    this.box.hidden = true;
    this.setBlocked(false);
  }

  // lines returns [{text, kind, act}] for conv and whether sending is off.
  lines(conv, now) {
    const out = [];
    let blocked = false;
    let tick = false;
    const me = this.store.me;
    if (!conv || conv.kind !== 'room') return { out, blocked, tick };
    const free = exempt(me, conv);
    if (isMuted(conv, now)) {
      blocked = true;
      tick = conv.mutedUntil !== Infinity;
      out.push({ kind: 'stop', text: `You are muted in this group ${untilText(conv.mutedUntil, now)}. You can still read, and flag or report messages.` });
    }
    if (conv.readOnly && !free) {
      blocked = true;
      out.push({ kind: 'stop', text: 'This group is read-only for now: only its facilitators post here.' });
    }
    if (needsGuidelines(conv) && !free) {
      blocked = true;
      out.push({ kind: 'stop', text: 'Please read and accept this group’s guidelines before you post.', act: 'guidelines', actLabel: 'Read the guidelines' });
    }
    if (!free && conv.premodMessages > (conv.approvedMessages || 0)) {
      out.push({ kind: 'info', text: `Your first ${plural(conv.premodMessages, 'message is', 'messages are')} reviewed by a moderator before the group sees them.` });
    }
    if (conv.slowModeSeconds && !free) {
      const wait = slowWait(conv, now);
      tick = tick || wait > 0;
      const every = plural(conv.slowModeSeconds, 'second', 'seconds');
      out.push({
        kind: 'info',
        text: wait > 0
          ? `Slow mode: one message every ${every}. You can send again in ${plural(Math.ceil(wait / 1000), 'second', 'seconds')}.`
          : `Slow mode: one message every ${every}.`,
      });
    }
    return { out, blocked, tick };
  }

  render() {
    clearTimeout(this.timer);
    const conv = this.store.active;
    const now = Date.now();
    const { out, blocked, tick } = this.lines(conv, now);
    // A mute that just ended gives back what the message menus offer.
    const muted = isMuted(conv, now);
    if (this.muted && !muted && this.hooks.muteEnded) this.hooks.muteEnded();
    this.muted = muted;
    const sig = JSON.stringify(out) + blocked;
    if (sig !== this.sig) {
      this.sig = sig;
      const focused = this.box.contains(document.activeElement);
      this.box.replaceChildren(...out.map((l) => el('p', { class: `state-line ${l.kind}` },
        el('span', { text: l.text }),
        l.act ? el('button', { type: 'button', class: 'secondary small', 'data-state-act': l.act, 'aria-haspopup': 'dialog', text: l.actLabel }) : null)));
      this.box.hidden = out.length === 0;
      if (focused) this.box.querySelector('button')?.focus();
    }
    this.setBlocked(blocked);
    if (tick) this.timer = setTimeout(() => this.render(), 1000 - (now % 1000) + 20);
  }

  setBlocked(blocked) {
    this.input.disabled = blocked;
    this.sendBtn.disabled = blocked;
    this.input.placeholder = blocked ? 'Can’t post right now' : 'Write a message';
  }
}
