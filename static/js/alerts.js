// Alerts for supervisors being paged: a short tone made with the Web Audio
// API (no audio files) and a system notification.
//
// Browsers let a page make sound only after a person used it, so sound is
// off until the supervisor switches it on (a click is that gesture). The
// choice is kept for the tab; after a reload the tone needs one more click
// or key press anywhere before it can play again, and the dashboard says
// so. Notifications need the person's permission, asked for from a click.
//
// A notification never carries what anyone wrote: only the severity and
// where (a room's name), since it shows on the lock screen and to anyone
// near the device.

import { loadSound, saveSound } from './session.js';

const GESTURES = ['pointerdown', 'keydown'];

// Tones: alternating notes, more of them the more severe.
const NOTES = { imminent: 6, high: 4, concern: 2, none: 2 };

export class Alerts {
  // onChange() is called when the sound or notification state changes.
  constructor(onChange) {
    this.onChange = onChange || (() => {});
    this.ctx = null;
    this.wanted = false;
    this.played = 0;
    this.onGesture = () => this.resume();
  }

  // start restores the tab's choice at sign-in.
  start() {
    this.wanted = loadSound();
    if (this.wanted) this.arm();
    this.onChange();
  }

  // stop forgets the audio context (sign-out).
  stop() {
    this.disarm();
    this.wanted = false;
    if (this.ctx) this.ctx.close().catch(() => {});
    this.ctx = null;
  }

  get soundSupported() {
    return typeof window.AudioContext === 'function';
  }

  // soundState is "off", "on", or "blocked" (wanted, but the browser waits
  // for a click or key press before it lets the page play sound).
  get soundState() {
    if (!this.wanted) return 'off';
    return this.ctx && this.ctx.state === 'running' ? 'on' : 'blocked';
  }

  // setSound switches sound alerts on or off. Called from a click, which
  // is what lets the audio start; a short chime confirms it works.
  async setSound(on) {
    this.wanted = on;
    saveSound(on);
    if (!on) {
      this.disarm();
      this.onChange();
      return;
    }
    await this.resume();
    if (this.soundState === 'on') this.tone(['low', 'high'], 0.12, 0.12);
    else this.arm();
    this.onChange();
  }

  arm() {
    for (const g of GESTURES) window.addEventListener(g, this.onGesture, { capture: true, passive: true });
  }

  disarm() {
    for (const g of GESTURES) window.removeEventListener(g, this.onGesture, { capture: true });
  }

  async resume() {
    if (!this.wanted || !this.soundSupported) return;
    try {
      if (!this.ctx) {
        this.ctx = new AudioContext();
        this.ctx.addEventListener('statechange', () => this.onChange());
      }
      if (this.ctx.state !== 'running') await this.ctx.resume();
    } catch {
      // No audio device, or refused: the state stays "blocked".
    }
    if (this.soundState === 'on') this.disarm();
    this.onChange();
  }

  // page plays the alert for a page of the given severity.
  page(severity) {
    if (this.soundState !== 'on') return false;
    const n = NOTES[severity] || 2;
    const notes = [];
    for (let i = 0; i < n; i++) notes.push(i % 2 ? 'low' : 'high');
    this.tone(notes, 0.16, 0.3);
    return true;
  }

  tone(notes, dur, volume) {
    const ctx = this.ctx;
    if (!ctx) return;
    const freq = { high: 880, low: 660 };
    let t = ctx.currentTime + 0.02;
    for (const note of notes) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq[note];
      // A quick fade in and out: no clicks.
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(volume, t + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + dur);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(t);
      osc.stop(t + dur + 0.02);
      t += dur + 0.05;
    }
    this.played += 1;
  }

  // --- notifications ----------------------------------------------------

  // notificationState is "unsupported", "default" (not asked yet),
  // "granted" or "denied".
  get notificationState() {
    if (typeof window.Notification !== 'function') return 'unsupported';
    return Notification.permission;
  }

  // askNotifications asks for permission; call it from a click.
  async askNotifications() {
    if (this.notificationState !== 'default') return this.notificationState;
    try {
      await Notification.requestPermission();
    } catch {
      // Old callback-style API, or refused: the state says which.
    }
    this.onChange();
    return this.notificationState;
  }

  // notify shows a system notification. title and body must not carry
  // message text or names of people.
  notify({ title, body, tag, urgent, onClick }) {
    if (this.notificationState !== 'granted') return;
    try {
      const n = new Notification(title, { body, tag, renotify: true, requireInteraction: Boolean(urgent), silent: this.soundState === 'on' });
      n.onclick = () => {
        window.focus();
        n.close();
        if (onClick) onClick();
      };
    } catch {
      // Some browsers allow notifications only from a service worker.
    }
  }
}
