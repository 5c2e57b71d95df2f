// What a person does in a video session from its toolbar and tile menus:
// their own microphone, camera and screen, the phone's chat toggle,
// ending the session, and a host's admit, deny, mute, stop camera and
// remove. Muting disables the track here at once (nothing leaves the
// browser) and tells the server, which stops forwarding it and shows
// everyone the state.

import { $ } from '../dom.js';
import { announce } from '../ui/announcer.js';
import { confirmDialog } from '../ui/dialogs.js';
import { explain } from './words.js';

export class Actions {
  // v: the Video this acts for.
  constructor(v) {
    this.v = v;
  }

  control(user, action) {
    const cur = this.v.cur;
    return this.v.request({ type: 'video_control', session: cur.session, user, action }).catch((e) => {
      if (this.v.cur === cur) this.v.panel.setStatus(explain(e, this.v.store.limits));
      throw e;
    });
  }

  async toggleMic() {
    const cur = this.v.cur;
    const a = this.v.media.audio;
    if (!cur || !cur.me || !a || cur.me.audio === 'off_by_host') return;
    const on = cur.me.audio !== 'on';
    // Off at once here, whatever the server does with it.
    a.enabled = on;
    cur.me = { ...cur.me, audio: on ? 'on' : 'off' };
    this.v.grid.person(cur.me, true);
    this.v.renderControls();
    announce(on ? 'Microphone on.' : 'Microphone off.');
    await this.control(cur.me.user, on ? 'unmute' : 'mute').catch(() => {});
  }

  async toggleCamera() {
    const cur = this.v.cur;
    const cam = this.v.media.camera;
    if (!cur || !cur.me || !cam || cur.me.video === 'off_by_host') return;
    const on = cur.me.video !== 'on';
    cam.enabled = on;
    cur.me = { ...cur.me, video: on ? 'on' : 'off' };
    this.v.grid.person(cur.me, true);
    this.v.renderControls();
    announce(on ? 'Camera on.' : 'Camera off.');
    await this.control(cur.me.user, on ? 'start_camera' : 'stop_camera').catch(() => {});
  }

  async toggleScreen() {
    const cur = this.v.cur;
    if (!cur || !cur.call) return;
    if (cur.sharing) {
      this.stopShare(cur);
      return;
    }
    let track;
    try {
      track = await this.v.media.shareScreen(() => this.stopShare(cur));
    } catch {
      this.v.panel.setStatus('This browser can’t share a screen.');
      return;
    }
    if (!track || this.v.cur !== cur || !cur.call) {
      if (track) this.v.media.stopScreen();
      return;
    }
    cur.sharing = true;
    cur.call.addTrack(track, 'screen', this.v.media.screen);
    if (cur.me) this.v.grid.setVideo(cur.me.user, cur.me.name, 'screen', this.v.media.screen);
    announce('You are sharing your screen.');
    this.v.renderControls();
  }

  stopShare(cur) {
    if (!cur.sharing) return;
    cur.sharing = false;
    if (cur.call) cur.call.removeTrack('screen');
    this.v.media.stopScreen();
    if (cur.me) this.v.grid.removeScreen(cur.me.user);
    announce('You stopped sharing your screen.');
    this.v.renderControls();
  }

  toggleChat() {
    const open = !this.v.panel.chatOpen;
    this.v.panel.setChat(open);
    if (open && !$('conv').hidden) $('composer-input').focus();
    else this.v.controls.chat.focus();
  }

  async endForAll() {
    const cur = this.v.cur;
    const ok = await confirmDialog('End the video session for everyone?', 'Everyone in it leaves at once, and the conversation is told it ended.', 'End for everyone');
    if (!ok || this.v.cur !== cur) return;
    this.v.request({ type: 'video_end', session: cur.session }).catch((e) => this.v.panel.setStatus(explain(e, this.v.store.limits)));
  }

  // Host actions.

  hostRequest(frame) {
    const cur = this.v.cur;
    if (!cur) return;
    this.v.request({ ...frame, session: cur.session }).catch((e) => {
      if (this.v.cur === cur) this.v.panel.setStatus(explain(e, this.v.store.limits));
    });
  }

  async hostAction(user, action, name) {
    if (action === 'remove') {
      const ok = await confirmDialog(`Remove ${name} from the video session?`, 'They leave the video at once. They stay a member of the conversation.', 'Remove');
      if (!ok) return;
    }
    this.hostRequest({ type: 'video_control', user, action });
  }
}
