// The ways into a video session from a conversation: "Start video" in its
// header for those who may start one, the start dialog (waiting room on or
// off), and the "Video session live — Join" banner under the header while
// a session is live there.

import { $, el } from '../dom.js';
import { FormDialog } from '../ui/dialogs.js';

const STARTERS = new Set(['specialist', 'supervisor', 'admin']);

// mayStart mirrors start_video (docs/moderation.md, "Video sessions: who
// hosts"): a room's owner, and staff who are members, in a DM too. The
// server checks again; this only decides whether to offer the button.
export function mayStart(me, conv) {
  if (!me || !conv) return false;
  if (STARTERS.has(me.role)) return true;
  return conv.kind === 'room' && conv.role === 'owner';
}

function startDialog() {
  const box = el('input', { id: 'video-start-waiting', type: 'checkbox', checked: true, 'aria-describedby': 'video-start-hint' });
  return el('dialog', { id: 'video-start-dialog', class: 'dialog', 'aria-labelledby': 'video-start-title' },
    el('form', { id: 'video-start-form', class: 'stack', novalidate: true },
      el('h2', { id: 'video-start-title', text: 'Start a video session' }),
      el('p', { id: 'video-start-text' }),
      el('div', { class: 'check' }, box, el('label', { for: 'video-start-waiting', text: 'Waiting room: people wait until you let them in' })),
      el('p', { id: 'video-start-hint', class: 'hint', text: 'Without it, members of the conversation join straight away.' }),
      el('p', { id: 'video-start-error', class: 'field-error', role: 'alert' }),
      el('div', { class: 'dialog-buttons' },
        el('button', { type: 'button', class: 'quiet', 'data-close': true, text: 'Cancel' }),
        el('button', { id: 'video-start-ok', type: 'submit', class: 'primary', text: 'Start video' }))));
}

// StartDialog asks whether the waiting room is on, then starts.
class StartDialog extends FormDialog {
  constructor(on) {
    super({ dialog: 'video-start-dialog', form: 'video-start-form', error: 'video-start-error', ok: 'video-start-ok' });
    this.on = on;
  }

  submit() {
    if (!this.ready()) return;
    const conv = this.current.conv;
    this.run(() => this.on.start(conv, $('video-start-waiting').checked), (e) => this.on.explain(e));
  }
}

export class Entry {
  // on: start(conv, waitingRoom) -> Promise, join(session info),
  // explain(error) -> text.
  constructor(on) {
    this.on = on;
    this.startBtn = el('button', { id: 'video-start', type: 'button', class: 'secondary', 'aria-haspopup': 'dialog', text: 'Start video', hidden: true });
    this.bannerText = el('p', { id: 'video-banner-text' });
    this.joinBtn = el('button', { id: 'video-join', type: 'button', class: 'primary small', text: 'Join' });
    this.banner = el('div', { id: 'video-banner', class: 'video-banner', hidden: true }, this.bannerText, this.joinBtn);
    this.dialogEl = startDialog();
    this.conv = null;
    this.live = null;
  }

  // mount places the button and banner in the conversation's header and
  // the dialog in the page (before setupDialogs wires every dialog).
  mount() {
    document.body.append(this.dialogEl);
    this.dialog = new StartDialog(this.on);
    $('members-open').before(this.startBtn);
    $('conv-header').after(this.banner);
    this.startBtn.addEventListener('click', () => this.openStart());
    this.joinBtn.addEventListener('click', () => {
      if (this.live) this.on.join(this.live);
    });
  }

  openStart() {
    const conv = this.conv;
    if (!conv || this.dialog.taken()) return;
    $('video-start-text').textContent = conv.kind === 'dm'
      ? `A video call with ${conv.name}. You host it: you can mute, stop a camera, and end it for both of you.`
      : `Members of ${conv.name} will see it is live and can ask to join. You host it: you let people in, and can mute, stop a camera, remove someone and end it for everyone.`;
    $('video-start-waiting').checked = conv.kind === 'room';
    this.dialog.show({ conv }, '#video-start-ok');
  }

  // render shows what fits conversation conv: live (its live session or
  // null), mine (the session this tab is in or waiting in), canStart.
  render(conv, live, mine, canStart) {
    this.conv = conv;
    this.live = live;
    const inIt = Boolean(live && mine && mine === live.session);
    this.startBtn.hidden = !conv || !canStart || Boolean(live) || Boolean(mine);
    this.banner.hidden = !conv || !live || inIt;
    if (live && !inIt) {
      const host = live.host_name || live.host;
      this.bannerText.textContent = `Video session live${host ? `, hosted by ${host}` : ''}${mine ? '. Leave your other video session to join this one.' : ''}`;
      this.joinBtn.setAttribute('aria-label', `Join the video session${host ? ` hosted by ${host}` : ''}`);
      this.joinBtn.disabled = Boolean(mine);
    }
  }

  clear() {
    if (this.dialog && this.dialog.dialog.open) this.dialog.dialog.close();
    this.render(null, null, null, false);
  }
}
