// The video panel: beside the chat on a wide screen, over it on a phone
// (<= 600px, where "Chat" folds the video into a strip and the chat takes
// the screen, one tap from the video again). It holds a heading, a status
// line read out by screen readers, and one of four screens: the session
// (waiting list, tiles, toolbar), the waiting room, a problem with the
// camera or microphone, and the end.

import { $, el } from '../dom.js';

export const phone = window.matchMedia('(max-width: 600px)');

function screen(id, ...children) {
  return el('div', { id, class: 'video-screen', hidden: true }, ...children);
}

export class Panel {
  // controls: a Controls; gridRoot: the tiles' <ul>; on: { cancel(),
  // retry(), watch(), close() }.
  constructor(controls, gridRoot, on) {
    this.controls = controls;
    this.title = el('h2', { id: 'video-title', tabindex: '-1', text: 'Video session' });
    this.status = el('p', { id: 'video-status', class: 'video-status', role: 'status' });
    this.stage = screen('video-stage', controls.waiting, gridRoot, controls.hold, controls.bar);
    this.stage.classList.add('video-stage');

    this.waitText = el('p', { text: 'The host knows you are here. You can keep reading the chat meanwhile.' });
    this.waitRoom = screen('video-waiting-room',
      el('h3', { id: 'video-waiting-title', tabindex: '-1', text: 'Waiting for the host to let you in' }),
      this.waitText,
      el('div', { class: 'video-buttons' }, el('button', { id: 'video-cancel', type: 'button', class: 'secondary', text: 'Cancel' })));

    this.problemText = el('p', { id: 'video-problem-text' });
    this.problem = screen('video-problem',
      el('h3', { id: 'video-problem-title', tabindex: '-1', text: 'Camera and microphone' }),
      this.problemText,
      el('div', { class: 'video-buttons' },
        el('button', { id: 'video-retry', type: 'button', class: 'primary', text: 'Try again' }),
        el('button', { id: 'video-watch', type: 'button', class: 'secondary', text: 'Join to watch and listen' }),
        el('button', { id: 'video-problem-cancel', type: 'button', class: 'quiet', text: 'Cancel' })));

    this.endedText = el('p', { id: 'video-ended-text' });
    this.ended = screen('video-ended',
      el('h3', { id: 'video-ended-title', tabindex: '-1', text: 'The video session is over' }),
      this.endedText,
      el('div', { class: 'video-buttons' }, el('button', { id: 'video-close', type: 'button', class: 'secondary', text: 'Close' })));

    this.root = el('section', { id: 'video', class: 'video-panel', 'aria-labelledby': 'video-title', hidden: true },
      el('div', { class: 'video-head' }, this.title, this.status),
      this.stage, this.waitRoom, this.problem, this.ended);
    this.root.addEventListener('click', (ev) => {
      const id = ev.target.closest('button') && ev.target.closest('button').id;
      if (id === 'video-cancel' || id === 'video-problem-cancel') on.cancel();
      else if (id === 'video-retry') on.retry();
      else if (id === 'video-watch') on.watch();
      else if (id === 'video-close') on.close();
    });
    // The strip shown over the chat on a phone leads back to the video.
    this.back = el('button', { id: 'video-back', type: 'button', class: 'primary small video-back', text: 'Back to the video' });
    this.back.addEventListener('click', () => on.chat());
    this.root.querySelector('.video-head').append(this.back);
    this.chatOpen = false;
    phone.addEventListener('change', () => this.setChat(false));
  }

  // mount puts the panel beside the chat.
  mount() {
    $('layout').append(this.root);
  }

  // show opens the panel on screen name ('stage', 'waiting', 'problem',
  // 'ended'), naming the conversation.
  show(name, convName) {
    this.title.textContent = convName ? `Video: ${convName}` : 'Video session';
    const screens = { stage: this.stage, waiting: this.waitRoom, problem: this.problem, ended: this.ended };
    for (const [key, node] of Object.entries(screens)) node.hidden = key !== name;
    this.root.hidden = false;
    $('layout').classList.add('video-on');
    this.setChat(this.chatOpen);
  }

  // focusScreen moves focus to the current screen's heading (a change of
  // screen a screen-reader user must not miss).
  focusScreen() {
    const h = [this.waitRoom, this.problem, this.ended].find((s) => !s.hidden);
    const target = h ? h.querySelector('h3') : this.title;
    target.focus();
  }

  setStatus(text) {
    if (this.status.textContent !== text) this.status.textContent = text;
  }

  // setChat: on a phone, the chat over the video (true) or the video over
  // the chat; on a wider screen both are shown and this does nothing.
  setChat(open) {
    this.chatOpen = open && phone.matches;
    $('layout').classList.toggle('video-chat-open', this.chatOpen);
    this.controls.setChatOpen(this.chatOpen);
  }

  hide() {
    this.root.hidden = true;
    this.chatOpen = false;
    $('layout').classList.remove('video-on', 'video-chat-open');
    this.setStatus('');
  }
}
