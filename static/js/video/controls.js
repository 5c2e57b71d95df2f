// The buttons of a video session and the host's waiting list.
//
// The toolbar: microphone, camera and screen as toggle buttons
// (aria-pressed, with the state also written out), the chat (phones
// only), leave, and for hosts "End for everyone". While a host holds
// someone's microphone or camera, that button stays off, says why and
// does nothing. The waiting list names each person waiting, with Admit and
// Deny, and Admit all; newcomers are announced by the owner of this class.

import { el } from '../dom.js';

function toggle(id, label) {
  const state = el('span', { class: 'toggle-state', 'aria-hidden': 'true' });
  const btn = el('button', { id, type: 'button', class: 'secondary toggle video-toggle', 'aria-pressed': 'false' }, label, state);
  btn.stateEl = state;
  return btn;
}

export class Controls {
  // actions: mic(), camera(), screen(), chat(), leave(), end(),
  // admit(user | null for all), deny(user, name).
  constructor(actions) {
    this.actions = actions;
    this.mic = toggle('video-mic', 'Microphone');
    this.cam = toggle('video-cam', 'Camera');
    this.screen = toggle('video-screen', 'Share screen');
    this.chat = el('button', { id: 'video-chat', type: 'button', class: 'secondary video-chat-toggle', 'aria-pressed': 'false', text: 'Chat' });
    this.leave = el('button', { id: 'video-leave', type: 'button', class: 'danger', text: 'Leave' });
    this.end = el('button', { id: 'video-end', type: 'button', class: 'secondary', 'aria-haspopup': 'dialog', text: 'End for everyone', hidden: true });
    this.hold = el('p', { id: 'video-hold', class: 'video-hold', role: 'status' });
    this.bar = el('div', { class: 'video-controls', role: 'toolbar', 'aria-label': 'Video controls' },
      this.mic, this.cam, this.screen, this.chat, this.leave, this.end);
    this.mic.setAttribute('aria-describedby', 'video-hold');
    this.cam.setAttribute('aria-describedby', 'video-hold');
    this.bar.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button');
      if (!btn || btn.getAttribute('aria-disabled') === 'true') return;
      const act = { 'video-mic': 'mic', 'video-cam': 'camera', 'video-screen': 'screen', 'video-chat': 'chat', 'video-leave': 'leave', 'video-end': 'end' }[btn.id];
      if (act) actions[act]();
    });
    // Arrow keys move along the toolbar, as the pattern expects; Tab
    // still visits every button, which is simpler to discover.
    this.bar.addEventListener('keydown', (ev) => {
      if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
      const all = [...this.bar.querySelectorAll('button')].filter((b) => !b.hidden && b.offsetParent !== null);
      const i = all.indexOf(document.activeElement);
      if (i < 0) return;
      ev.preventDefault();
      all[(i + (ev.key === 'ArrowRight' ? 1 : all.length - 1)) % all.length].focus();
    });

    this.listTitle = el('h3', { id: 'video-wl-title' });
    this.list = el('ul', { id: 'video-wl', class: 'video-wl', 'aria-labelledby': 'video-wl-title' });
    this.admitAll = el('button', { id: 'video-admit-all', type: 'button', class: 'secondary small', text: 'Admit all' });
    this.waiting = el('section', { id: 'video-waiting-list', class: 'video-waiting-list', 'aria-labelledby': 'video-wl-title', hidden: true },
      el('div', { class: 'video-wl-head' }, this.listTitle, this.admitAll), this.list);
    this.admitAll.addEventListener('click', () => actions.admit(null));
    this.list.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-user]');
      if (!btn) return;
      if (btn.dataset.act === 'admit') actions.admit(btn.dataset.user);
      else actions.deny(btn.dataset.user, btn.dataset.name);
    });
  }

  // setToggle shows one toggle's state; held (a host's hold) keeps it off
  // and unusable, and says so.
  setToggle(btn, on, opts = {}) {
    btn.setAttribute('aria-pressed', on ? 'true' : 'false');
    btn.stateEl.textContent = opts.unavailable ? 'None' : on ? 'On' : 'Off';
    if (opts.unavailable || opts.held) btn.setAttribute('aria-disabled', 'true');
    else btn.removeAttribute('aria-disabled');
  }

  // render sets the toolbar from the person's own state: me (their
  // participant entry), has ({audio, camera}) and sharing.
  render(me, has, sharing, amHost) {
    const audioHeld = me && me.audio === 'off_by_host';
    const videoHeld = me && me.video === 'off_by_host';
    this.setToggle(this.mic, Boolean(me) && me.audio === 'on' && has.audio, { held: audioHeld, unavailable: !has.audio });
    this.setToggle(this.cam, Boolean(me) && me.video === 'on' && has.camera, { held: videoHeld, unavailable: !has.camera });
    this.setToggle(this.screen, sharing, { unavailable: !has.screen });
    const holds = [];
    if (audioHeld) holds.push('Muted by the host.');
    if (videoHeld) holds.push('Your camera was stopped by the host.');
    this.hold.textContent = holds.join(' ');
    this.end.hidden = !amHost;
  }

  setChatOpen(open) {
    this.chat.setAttribute('aria-pressed', open ? 'true' : 'false');
    this.chat.textContent = open ? 'Video' : 'Chat';
    this.chat.setAttribute('aria-label', open ? 'Back to the video' : 'Show the chat');
  }

  // renderWaiting shows the host's waiting list ([{user, name, since}]).
  renderWaiting(list, amHost) {
    this.waiting.hidden = !amHost || list.length === 0;
    this.listTitle.textContent = `Waiting to join (${list.length})`;
    this.admitAll.hidden = list.length < 2;
    const keep = document.activeElement && this.list.contains(document.activeElement) ? document.activeElement.dataset : null;
    this.list.replaceChildren(...list.map((w) => el('li', { class: 'video-wl-item' },
      el('span', { class: 'video-wl-name', text: w.name || w.user }),
      el('span', { class: 'video-wl-buttons' },
        el('button', { type: 'button', class: 'primary small', 'data-act': 'admit', 'data-user': w.user, 'aria-label': `Admit ${w.name || w.user}`, text: 'Admit' }),
        el('button', { type: 'button', class: 'secondary small', 'data-act': 'deny', 'data-user': w.user, 'data-name': w.name || w.user, 'aria-label': `Deny ${w.name || w.user}`, text: 'Deny' })))));
    // Focus stays in the list when the button it was on went away.
    if (keep) {
      const same = this.list.querySelector(`button[data-user="${CSS.escape(keep.user || '')}"][data-act="${keep.act}"]`);
      const next = same || this.list.querySelector('button') || this.admitAll;
      if (next && !next.hidden) next.focus();
    }
  }
}
