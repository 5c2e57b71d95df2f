// One RTCPeerConnection to the node's SFU, and the signaling that goes
// with it (docs/protocol.md "Video sessions"). This is MDN's "perfect
// negotiation" with the browser as the polite side: whenever our tracks
// change the browser asks to negotiate and we send video_offer with the
// label of each media id; when the server's own offer (others' tracks came
// or went) crosses ours, we roll ours back, answer the server's, and the
// browser asks to negotiate again, so our change is offered afterwards.
// Candidates trickle both ways.
//
// It also watches the connection: "disconnected" is a poor connection
// (ICE often recovers by itself); if it lasts, or ICE fails, it restarts
// ICE; if that has not brought media back after REJOIN_AFTER_MS, it asks
// its owner to join the session afresh.

import { newRef } from '../connection.js';

const POOR_GRACE_MS = 5000;
const REJOIN_AFTER_MS = 10000;
const MAX_REFUSED_OFFERS = 3;

// remoteMedia maps each media id of a session description to the msid
// stream and track ids of its a=msid line. The SFU names a forwarded
// track by what it is ("audio", "camera", "screen") and its stream by its
// participant, so this says whose and what every incoming track is.
export function remoteMedia(sdp) {
  const out = new Map();
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const mid = /\r?\na=mid:(\S+)/.exec(section);
    const msid = /\r?\na=msid:(\S+) (\S+)/.exec(section);
    if (mid && msid) out.set(mid[1], { stream: msid[1], label: msid[2] });
  }
  return out;
}

export class Call {
  // opts: session, iceServers ([{urls, username, credential}]),
  // send(frame) (fire and forget), request(frame) -> Promise,
  // onTrack({stream, label, track}), onState(state) with state one of
  // 'connecting', 'connected', 'poor', 'reconnecting'; onRejoin() when a
  // fresh join is needed; onFailed(error) when the server keeps refusing
  // our offers.
  constructor(opts) {
    this.opts = opts;
    this.session = opts.session;
    this.labels = new Map(); // our MediaStreamTrack -> 'audio' | 'camera' | 'screen'
    this.senders = new Map(); // label -> RTCRtpSender
    this.remote = new Map(); // mid -> {stream, label}
    this.early = []; // the server's candidates before its description
    this.makingOffer = false; // between createOffer and its sending
    this.settingOffer = false; // our offer is being set as local description
    this.applying = false; // a server offer is being answered
    this.pending = false; // a change waits to be offered
    this.generation = 0; // bumped by every server offer
    this.refused = 0;
    this.state = 'connecting';
    this.poorTimer = 0;
    this.rejoinTimer = 0;
    this.closed = false;
    const servers = (opts.iceServers || []).map((s) => ({ urls: s.urls, username: s.username, credential: s.credential }));
    this.pc = new RTCPeerConnection({ iceServers: servers, bundlePolicy: 'max-bundle' });
    this.wire();
  }

  wire() {
    const pc = this.pc;
    pc.onnegotiationneeded = () => this.offer();
    pc.onicecandidate = (ev) => this.localCandidate(ev.candidate);
    pc.ontrack = (ev) => this.track(ev);
    pc.oniceconnectionstatechange = () => this.iceChanged();
  }

  // addTrack sends track as label; stream groups one person's tracks.
  addTrack(track, label, stream) {
    this.labels.set(track, label);
    this.senders.set(label, this.pc.addTrack(track, stream));
  }

  removeTrack(label) {
    const sender = this.senders.get(label);
    if (!sender) return;
    this.senders.delete(label);
    if (sender.track) this.labels.delete(sender.track);
    if (this.pc.signalingState !== 'closed') this.pc.removeTrack(sender);
  }

  // watchOnly makes the first offer when there is nothing to send (the
  // browser never asks to negotiate then): receive-only media sections,
  // so that ICE and DTLS start at once and the server's offer with the
  // others' tracks follows.
  watchOnly() {
    this.pc.addTransceiver('audio', { direction: 'recvonly' });
    this.pc.addTransceiver('video', { direction: 'recvonly' });
  }

  // mids labels each media id we send, as video_offer's labels.
  mids() {
    const out = {};
    for (const t of this.pc.getTransceivers()) {
      const label = t.sender.track && this.labels.get(t.sender.track);
      if (t.mid !== null && label) out[t.mid] = label;
    }
    return out;
  }

  // offer sends our changes. It only starts from "stable" and while no
  // server description is being applied; otherwise it leaves a note
  // (pending) and runs again once the exchange under way is over. The
  // browser does not always ask again by itself: a change whose offer was
  // rolled back, or that it asked about while we were answering, would
  // otherwise never be offered.
  async offer() {
    const pc = this.pc;
    if (this.closed) return;
    if (this.applying || this.makingOffer || pc.signalingState !== 'stable') {
      this.pending = true;
      return;
    }
    this.pending = false;
    const gen = this.generation;
    try {
      this.makingOffer = true;
      const offer = await pc.createOffer();
      // A server offer came in meanwhile: it goes first.
      if (gen !== this.generation || this.applying || pc.signalingState !== 'stable') {
        this.pending = true;
        return;
      }
      this.settingOffer = true;
      await pc.setLocalDescription(offer);
      if (gen !== this.generation || pc.signalingState !== 'have-local-offer' || this.closed) return;
      const frame = { type: 'video_offer', session: this.session, sdp: pc.localDescription.sdp, labels: this.mids() };
      this.opts.request(frame).then(() => { this.refused = 0; }, (e) => this.offerRefused(e, gen));
    } catch {
      // The state changed under us (closed, or a rollback).
      this.pending = true;
    } finally {
      this.makingOffer = false;
      this.settingOffer = false;
    }
  }

  // offerRefused: the server did not take our offer (bad state, or
  // something in it). Roll back and offer again, and give up after a few
  // refusals in a row.
  async offerRefused(e, gen) {
    if (this.closed || gen !== this.generation || e.code === 'offline' || e.code === 'timeout') return;
    this.refused += 1;
    if (this.refused >= MAX_REFUSED_OFFERS) {
      this.opts.onFailed(e);
      return;
    }
    this.handle({ type: 'rollback' });
  }

  // settled runs once an exchange is over: what waited is offered now.
  settled() {
    if (this.pending && !this.closed && this.pc.signalingState === 'stable') this.offer();
  }

  // handle applies the server's video_offer, video_answer and
  // video_candidate frames, in the order they came.
  handle(f) {
    this.chain = (this.chain || Promise.resolve()).then(() => this.apply(f)).catch(() => this.settled());
    return this.chain;
  }

  async apply(f) {
    if (this.closed) return;
    const pc = this.pc;
    if (f.type === 'video_offer') {
      this.generation += 1;
      this.applying = true;
      try {
        await this.answer(f.sdp);
      } finally {
        this.applying = false;
      }
    } else if (f.type === 'video_answer') {
      // An answer to an offer we rolled back is stale: drop it.
      if (pc.signalingState !== 'have-local-offer') return;
      this.remote = remoteMedia(f.sdp);
      await pc.setRemoteDescription({ type: 'answer', sdp: f.sdp });
      await this.flushEarly();
    } else if (f.type === 'video_candidate') {
      await this.remoteCandidate(f);
    } else if (f.type === 'rollback' && pc.signalingState === 'have-local-offer') {
      this.pending = true;
      await pc.setLocalDescription({ type: 'rollback' });
    }
    this.settled();
  }

  async answer(sdp) {
    const pc = this.pc;
    const offer = { type: 'offer', sdp };
    // Known before the description is applied: ontrack fires during it.
    this.remote = remoteMedia(sdp);
    if (this.settingOffer || pc.signalingState === 'have-local-offer') {
      // Glare: we are polite, so ours yields, and is offered again after.
      this.pending = true;
      await Promise.all([pc.setLocalDescription({ type: 'rollback' }), pc.setRemoteDescription(offer)]);
    } else {
      await pc.setRemoteDescription(offer);
    }
    await this.flushEarly();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.opts.send({ type: 'video_answer', session: this.session, sdp: answer.sdp });
  }

  async remoteCandidate(f) {
    // An empty candidate only says the server has no more: nothing to do.
    if (!f.candidate) return;
    const c = { candidate: f.candidate, sdpMid: f.sdp_mid ?? null, sdpMLineIndex: f.sdp_mline_index ?? null };
    if (!this.pc.remoteDescription) {
      this.early.push(c);
      return;
    }
    try {
      await this.pc.addIceCandidate(c);
    } catch {
      // A candidate for a media section that is gone: harmless.
    }
  }

  async flushEarly() {
    const early = this.early;
    this.early = [];
    for (const c of early) {
      try {
        await this.pc.addIceCandidate(c);
      } catch {
        // As above.
      }
    }
  }

  localCandidate(c) {
    if (this.closed) return;
    // With a ref, a refused candidate (harmless: ICE states tell if the
    // connection suffers) is not shown as an unexplained notice.
    const frame = { type: 'video_candidate', session: this.session, candidate: c ? c.candidate : '', ref: newRef('vc') };
    if (c && c.sdpMid !== null) frame.sdp_mid = c.sdpMid;
    if (c && c.sdpMLineIndex !== null) frame.sdp_mline_index = c.sdpMLineIndex;
    this.opts.send(frame);
  }

  track(ev) {
    const mid = ev.transceiver && ev.transceiver.mid;
    const known = mid !== null ? this.remote.get(mid) : null;
    const stream = known ? known.stream : (ev.streams[0] && ev.streams[0].id);
    const label = known ? known.label : ev.track.kind === 'audio' ? 'audio' : ev.track.id;
    if (stream) this.opts.onTrack({ stream, label, track: ev.track });
  }

  iceChanged() {
    if (this.closed) return;
    switch (this.pc.iceConnectionState) {
      case 'connected':
      case 'completed':
        clearTimeout(this.poorTimer);
        clearTimeout(this.rejoinTimer);
        this.rejoinTimer = 0;
        this.setState('connected');
        break;
      case 'disconnected':
        // Often a blip on a poor network; ICE may recover on its own.
        if (this.rejoinTimer) break;
        this.setState('poor');
        clearTimeout(this.poorTimer);
        this.poorTimer = setTimeout(() => this.restart(), POOR_GRACE_MS);
        break;
      case 'failed':
        this.restart();
        break;
      default:
        break;
    }
  }

  // restart tries an ICE restart first (new candidates, same session),
  // then a fresh join if that does not bring the media back.
  restart() {
    if (this.closed || this.rejoinTimer) return;
    clearTimeout(this.poorTimer);
    this.setState('reconnecting');
    this.pc.restartIce();
    this.rejoinTimer = setTimeout(() => {
      if (!this.closed) this.opts.onRejoin();
    }, REJOIN_AFTER_MS);
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.opts.onState(state);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.poorTimer);
    clearTimeout(this.rejoinTimer);
    this.pc.onnegotiationneeded = this.pc.onicecandidate = this.pc.ontrack = this.pc.oniceconnectionstatechange = null;
    this.pc.close();
  }
}
