// Video sessions in the client: takes the video_* frames, keeps which
// conversations have a live session, and runs the one session this tab
// takes part in (docs/protocol.md "Video sessions"), from asking to join
// through the waiting room to the end. The parts: entry.js (start and
// join from a conversation), panel.js (the panel and its screens),
// grid.js (tiles), controls.js (buttons, waiting list), roster.js (who is
// in, and their tracks), actions.js (what the buttons do), media.js
// (camera, microphone, screen) and call.js (the RTCPeerConnection).

import { $, el } from '../dom.js';
import { announce } from '../ui/announcer.js';
import { Actions } from './actions.js';
import { Call } from './call.js';
import { Controls } from './controls.js';
import { Entry, mayStart } from './entry.js';
import { Grid } from './grid.js';
import { LocalMedia, MediaError } from './media.js';
import { Panel } from './panel.js';
import { Roster } from './roster.js';
import { CALL_STATE, explain, MEDIA_NOTE, MEDIA_PROBLEM, reason } from './words.js';

export class Video {
  // ctx: store, request(frame) -> Promise, send(frame) -> bool.
  constructor(ctx) {
    this.ctx = ctx;
    this.live = new Map(); // conv id -> its video_session frame, while live
    this.cur = null; // the session this tab is in, waiting for or joining
    this.media = new LocalMedia();
    this.actions = new Actions(this);
    this.roster = new Roster(this);
    this.grid = new Grid(el('ul', { id: 'video-grid', class: 'video-grid', 'aria-label': 'People in the video session' }), {
      amHost: () => Boolean(this.cur && this.cur.me && this.cur.me.host),
      hostAction: (user, action, name) => this.actions.hostAction(user, action, name),
    });
    this.controls = new Controls({
      mic: () => this.actions.toggleMic(),
      camera: () => this.actions.toggleCamera(),
      screen: () => this.actions.toggleScreen(),
      chat: () => this.actions.toggleChat(),
      leave: () => this.leave(),
      end: () => this.actions.endForAll(),
      admit: (user) => this.actions.hostRequest(user ? { type: 'video_admit', user } : { type: 'video_admit', all: true }),
      deny: (user) => this.actions.hostRequest({ type: 'video_deny', user }),
    });
    this.panel = new Panel(this.controls, this.grid.root, {
      cancel: () => this.leave(),
      retry: () => this.prepare(false),
      watch: () => this.prepare(true),
      close: () => this.close(),
      chat: () => this.actions.toggleChat(),
    });
    this.entry = new Entry({
      start: (conv, waitingRoom) => this.start(conv, waitingRoom),
      join: (live) => this.join(live.session, live.conv),
      explain: (e) => explain(e, this.ctx.store.limits, true),
    });
    this.panel.mount();
    this.entry.mount();
  }

  get store() {
    return this.ctx.store;
  }

  request(frame) {
    return this.ctx.request(frame);
  }

  // frame takes a server frame; false if it is not about video.
  frame(f) {
    if (typeof f.type !== 'string' || !f.type.startsWith('video_')) return false;
    if (f.type === 'video_session') {
      this.sessionNews(f);
      return true;
    }
    const cur = this.cur;
    if (!cur || f.session !== cur.session || cur.phase === 'ended') return true;
    switch (f.type) {
      case 'video_joined': this.joined(f); break;
      case 'video_waiting': this.waiting(); break;
      case 'video_waiting_list': this.roster.waitingList(f.waiting || []); break;
      case 'video_participant': this.roster.participant(f); break;
      case 'video_speaking': this.grid.speaking(f.user); break;
      case 'video_offer':
      case 'video_answer':
      case 'video_candidate':
        if (cur.call) cur.call.handle(f);
        break;
      case 'video_removed':
        // Our own fresh join replaced our earlier place: expected.
        if (f.reason === 'replaced' && cur.rejoining) break;
        this.finish(reason(f));
        break;
      case 'video_denied':
      case 'video_ended':
        this.finish(reason(f));
        break;
      default:
        break; // video_ok answers a request
    }
    return true;
  }

  sessionNews(f) {
    if (f.state === 'live') this.live.set(f.conv, f);
    else if (this.live.get(f.conv) && this.live.get(f.conv).session === f.session) this.live.delete(f.conv);
    const cur = this.cur;
    if (f.state === 'ended' && cur && cur.session === f.session && cur.phase !== 'ended') {
      this.finish(reason({ type: 'video_ended', reason: f.reason }));
    }
    if (f.state === 'live' && this.store.activeId === f.conv && !(cur && cur.session === f.session)) {
      announce(`A video session is live here${f.host_name ? `, hosted by ${f.host_name}` : ''}.`);
    }
    this.render();
  }

  // --- entry: start and join -------------------------------------------

  async start(conv, waitingRoom) {
    const ok = await this.request({ type: 'video_start', conv: conv.id, waiting_room: waitingRoom });
    const me = this.store.me;
    if (!this.live.has(conv.id)) this.live.set(conv.id, { session: ok.session, conv: conv.id, host: me.id, host_name: me.name, state: 'live' });
    this.join(ok.session, conv.id);
  }

  join(session, conv) {
    if (this.cur && this.cur.phase !== 'ended') return;
    if (this.cur) this.close();
    const c = this.store.convs.get(conv);
    this.cur = {
      session, conv, convName: c ? c.name : '', phase: 'media', me: null, call: null, rejoining: false,
      people: new Map(), byStream: new Map(), early: [], waitingList: [], sharing: false, selfView: null,
    };
    this.render();
    this.prepare(false);
  }

  // prepare gets camera and microphone (or, with watch, nothing), then
  // asks to join.
  async prepare(watch) {
    const cur = this.cur;
    if (!cur) return;
    cur.phase = 'media';
    this.panel.show('stage', cur.convName);
    this.panel.setStatus('Getting your camera and microphone ready…');
    let note = '';
    try {
      if (watch) this.media.watchOnly();
      else note = MEDIA_NOTE[await this.media.acquire()] || '';
    } catch (e) {
      if (this.cur !== cur) return;
      cur.phase = 'problem';
      $('video-problem-text').textContent = MEDIA_PROBLEM[e instanceof MediaError ? e.reason : 'unsupported'];
      this.panel.show('problem', cur.convName);
      this.panel.focusScreen();
      announce($('video-problem-text').textContent);
      return;
    }
    if (this.cur !== cur) {
      this.media.release();
      return;
    }
    cur.note = note;
    this.ask(cur);
  }

  async ask(cur) {
    cur.phase = 'joining';
    this.panel.setStatus(cur.rejoining ? CALL_STATE.reconnecting : 'Joining…');
    try {
      await this.request({ type: 'video_join', session: cur.session });
    } catch (e) {
      if (this.cur === cur && cur.phase === 'joining') this.finish(explain(e, this.store.limits));
    }
  }

  // rejoin joins afresh after the connection to the node or the media
  // was lost: the server forgot our place, or ICE could not recover.
  rejoin() {
    const cur = this.cur;
    if (!cur || cur.phase === 'ended' || cur.phase === 'problem' || cur.phase === 'media') return;
    if (cur.call) cur.call.close();
    cur.call = null;
    cur.rejoining = true;
    for (const user of cur.people.keys()) if (!this.isMe(user)) this.grid.remove(user);
    cur.people.clear();
    cur.byStream.clear();
    this.ask(cur);
  }

  // --- the session -------------------------------------------------------

  joined(f) {
    const cur = this.cur;
    const first = !cur.rejoining;
    cur.phase = 'joined';
    cur.rejoining = false;
    cur.call = this.newCall(cur, f.ice_servers);
    // Oneself first: whether one hosts decides the others' tile menus.
    const all = f.participants || [];
    for (const p of [...all.filter((x) => this.isMe(x.user)), ...all.filter((x) => !this.isMe(x.user))]) this.roster.person(p, false);
    this.publish(cur);
    this.panel.show('stage', cur.convName);
    this.panel.setStatus(CALL_STATE.connecting);
    if (first) {
      this.panel.focusScreen();
      announce(`You joined the video session.${cur.note ? ` ${cur.note}` : ''}`);
    }
    this.render();
  }

  newCall(cur, iceServers) {
    return new Call({
      session: cur.session,
      iceServers,
      send: (frame) => this.ctx.send(frame),
      request: (frame) => this.request(frame),
      onTrack: (t) => this.roster.remoteTrack(cur, t),
      onState: (state) => {
        if (this.cur === cur) this.panel.setStatus(CALL_STATE[state] ?? '');
      },
      onRejoin: () => {
        if (this.cur === cur) this.rejoin();
      },
      onFailed: (e) => {
        if (this.cur === cur) this.finish(explain(e, this.store.limits));
      },
    });
  }

  // publish sends our tracks, and tells the session what we had switched
  // off before a rejoin (the server starts everyone with both on).
  publish(cur) {
    const m = this.media;
    const stream = m.stream;
    if (m.audio) cur.call.addTrack(m.audio, 'audio', stream);
    if (m.camera) cur.call.addTrack(m.camera, 'camera', stream);
    if (m.screenTrack) cur.call.addTrack(m.screenTrack, 'screen', m.screen);
    if (!m.audio && !m.camera) cur.call.watchOnly();
    const me = this.store.me;
    const quiet = () => {}; // shown in the status line already
    if (!m.audio || !m.audio.enabled) this.actions.control(me.id, 'mute').catch(quiet);
    if (!m.camera || !m.camera.enabled) this.actions.control(me.id, 'stop_camera').catch(quiet);
  }

  isMe(user) {
    return Boolean(this.store.me && user === this.store.me.id);
  }

  waiting() {
    const cur = this.cur;
    const again = cur.phase === 'waiting';
    cur.phase = 'waiting';
    cur.rejoining = false;
    this.panel.show('waiting', cur.convName);
    this.panel.setStatus('');
    if (!again) {
      this.panel.focusScreen();
      announce('You are in the waiting room. The host will let you in.');
    }
    this.render();
  }

  async leave() {
    const cur = this.cur;
    if (!cur) return;
    if (cur.phase !== 'media' && cur.phase !== 'problem' && cur.phase !== 'ended') {
      this.request({ type: 'video_leave', session: cur.session }).catch(() => {});
    }
    this.teardown();
    this.cur = null;
    this.panel.hide();
    announce('You left the video session.');
    this.render();
    this.refocus();
  }

  // --- the end -------------------------------------------------------------

  finish(text) {
    const cur = this.cur;
    if (!cur) return;
    cur.phase = 'ended';
    this.teardown();
    $('video-ended-text').textContent = text;
    this.panel.show('ended', cur.convName);
    this.panel.setStatus('');
    this.panel.focusScreen();
    announce(text);
    this.render();
  }

  close() {
    this.cur = null;
    this.panel.hide();
    this.render();
    this.refocus();
  }

  refocus() {
    if (!$('video-join').closest('[hidden]')) $('video-join').focus();
    else if (!$('conv').hidden) $('composer-input').focus();
  }

  teardown() {
    const cur = this.cur;
    if (cur && cur.call) cur.call.close();
    if (cur) cur.call = null;
    this.media.release();
    this.grid.clear();
    this.controls.renderWaiting([], false);
  }

  // --- hooks from the app --------------------------------------------------

  // welcome: the WebSocket (re)connected. Live sessions are told again
  // right after it; the place this tab had in one was lost with the old
  // connection, so join again.
  welcome() {
    this.live.clear();
    if (this.cur && this.cur.phase !== 'ended') this.rejoin();
    this.render();
  }

  // left: this person is no longer a member of conversation conv.
  left(conv) {
    this.live.delete(conv);
    if (this.cur && this.cur.conv === conv && this.cur.phase !== 'ended') {
      this.finish('You are no longer a member of this conversation, so you left its video session.');
    }
    this.render();
  }

  // clear forgets everything (sign-out): the server drops our place when
  // the connection closes.
  clear() {
    this.teardown();
    this.cur = null;
    this.live.clear();
    this.panel.hide();
    this.entry.clear();
  }

  render() {
    const s = this.store;
    const conv = s.active;
    const limits = s.limits;
    const hasVideo = Boolean(limits && limits.max_video_frame_bytes > 0);
    const mine = this.cur && this.cur.phase !== 'ended' ? this.cur.session : null;
    this.entry.render(conv, conv ? this.live.get(conv.id) || null : null, mine, hasVideo && mayStart(s.me, conv));
    this.renderControls();
  }

  renderControls() {
    const cur = this.cur;
    const m = this.media;
    const has = { audio: Boolean(m.audio), camera: Boolean(m.camera), screen: Boolean(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia) };
    this.controls.render(cur && cur.me, has, Boolean(cur && cur.sharing), Boolean(cur && cur.me && cur.me.host));
  }
}
