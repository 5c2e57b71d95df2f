// Who is in the video session, as this page sees it: participants as
// they join, change and leave (with their tiles, and what is announced),
// the host's holds on one's own microphone and camera, the incoming
// tracks matched to their person by msid stream, and the host's waiting
// list.

import { announce } from '../ui/announcer.js';

export class Roster {
  // v: the Video this keeps the roster of.
  constructor(v) {
    this.v = v;
  }

  // person records participant p and shows them; announce says so.
  person(p, announceIt) {
    const cur = this.v.cur;
    const isNew = !cur.people.has(p.user);
    cur.people.set(p.user, p);
    if (p.stream) cur.byStream.set(p.stream, p.user);
    const self = this.v.isMe(p.user);
    if (self) {
      const wasHost = Boolean(cur.me && cur.me.host);
      cur.me = p;
      this.applyHolds(p);
      // Became a host, or stopped being one: the tile menus follow.
      if (wasHost !== Boolean(p.host)) for (const o of cur.people.values()) if (!this.v.isMe(o.user)) this.v.grid.person(o);
    }
    this.v.grid.person(p, self);
    if (self) {
      // One stream for the self view, so that updates do not restart it.
      if (this.v.media.camera && !cur.selfView) cur.selfView = new MediaStream([this.v.media.camera]);
      if (cur.selfView) this.v.grid.setVideo(p.user, p.name, 'camera', cur.selfView);
      if (this.v.media.screenTrack) this.v.grid.setVideo(p.user, p.name, 'screen', this.v.media.screen);
    }
    const waiting = cur.early.filter((t) => t.stream === p.stream);
    cur.early = cur.early.filter((t) => t.stream !== p.stream);
    for (const t of waiting) this.attach(cur, p.user, t);
    if (isNew && announceIt && !self) announce(`${p.name} joined the video session.`);
    this.v.renderControls();
  }

  participant(f) {
    const cur = this.v.cur;
    if (cur.phase !== 'joined') return;
    if (f.left) {
      const p = cur.people.get(f.user);
      cur.people.delete(f.user);
      if (p && p.stream) cur.byStream.delete(p.stream);
      this.v.grid.remove(f.user);
      if (p) announce(`${p.name} left the video session.`);
      return;
    }
    const before = cur.people.get(f.user);
    const { type: _t, session: _s, left: _l, ...p } = f;
    this.person(p, true);
    if (this.v.isMe(f.user) && before) this.announceHolds(before, p);
  }

  // applyHolds keeps a held microphone or camera off here too.
  applyHolds(p) {
    if (p.audio === 'off_by_host' && this.v.media.audio) this.v.media.audio.enabled = false;
    if (p.video === 'off_by_host' && this.v.media.camera) this.v.media.camera.enabled = false;
  }

  announceHolds(before, p) {
    if (p.audio === 'off_by_host' && before.audio !== 'off_by_host') announce('A host muted your microphone.');
    if (before.audio === 'off_by_host' && p.audio !== 'off_by_host') announce('A host allowed your microphone again. Turn it on when you want to speak.');
    if (p.video === 'off_by_host' && before.video !== 'off_by_host') announce('A host stopped your camera.');
    if (before.video === 'off_by_host' && p.video !== 'off_by_host') announce('A host allowed your camera again.');
  }

  remoteTrack(cur, t) {
    if (this.v.cur !== cur) return;
    const user = cur.byStream.get(t.stream);
    if (user) this.attach(cur, user, t);
    else cur.early.push(t);
  }

  attach(cur, user, t) {
    const p = cur.people.get(user);
    if (!p || this.v.isMe(user)) return;
    const stream = new MediaStream([t.track]);
    if (t.label === 'audio' || t.track.kind === 'audio') this.v.grid.setAudio(user, stream);
    else this.v.grid.setVideo(user, p.name, t.label === 'screen' ? 'screen' : 'camera', stream);
  }

  waitingList(list) {
    const cur = this.v.cur;
    const known = new Set(cur.waitingList.map((w) => w.user));
    cur.waitingList = list;
    const amHost = Boolean(cur.me && cur.me.host);
    if (amHost) {
      for (const w of list) if (!known.has(w.user)) announce(`${w.name || w.user} is waiting to join the video session.`);
    }
    this.v.controls.renderWaiting(list, amHost);
  }
}
