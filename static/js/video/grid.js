// The tiles of a video session: one per participant (camera, or their
// name when the camera is off), one more per shared screen. The grid's
// shape follows the number of tiles (data-count: 1, 2, 2x2, 3x3, 3x4; see
// video.css). Each tile names its person, shows a crossed-out microphone
// when they are muted (and says whether by a host), and is outlined while
// they are the loudest speaker. Hosts get a menu on every other person's
// tile: mute, stop camera, remove.
//
// Remote sound plays through one <audio> element per person, apart from
// the <video>, so that a muted autoplaying video never holds up sound and
// a person with their camera off is still heard.

import { el } from '../dom.js';
import { menuButton, openMenu } from '../ui/menu.js';

const MIC_TEXT = { off: 'Microphone off', off_by_host: 'Muted by the host' };

function initials(name) {
  const parts = (name || '?').trim().split(/\s+/).slice(0, 2);
  return parts.map((p) => p.charAt(0).toUpperCase()).join('');
}

export class Grid {
  // root: the element that holds the tiles. ctx: me() -> user id,
  // amHost() -> bool, hostAction(user, action, name).
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.tiles = new Map(); // key (user, or user + ':screen') -> {li, video, ...}
    this.audio = new Map(); // user -> <audio>
    this.speaker = '';
    root.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-tile-menu]');
      if (btn) this.menu(btn);
    });
  }

  // person creates or updates the tile of participant p ({user, name,
  // audio, video, screen, host}); self marks one's own tile.
  person(p, self = false) {
    let t = this.tiles.get(p.user);
    if (!t) {
      t = this.tile(p.user, p.name, self ? 'self' : 'camera');
      if (self) t.video.muted = true;
    }
    t.p = p;
    t.name.textContent = self ? `${p.name} (you)` : p.name;
    t.li.dataset.user = p.user;
    const camOff = p.video !== 'on';
    t.li.classList.toggle('cam-off', camOff || !t.video.srcObject);
    t.mic.hidden = p.audio === 'on';
    t.mic.textContent = MIC_TEXT[p.audio] || '';
    t.mic.classList.toggle('by-host', p.audio === 'off_by_host');
    t.camState.textContent = p.video === 'off_by_host' ? 'Camera stopped by the host' : camOff ? 'Camera off' : '';
    this.renderMenu(t, self);
    if (p.screen !== 'on') this.removeTile(`${p.user}:screen`);
    this.layout();
  }

  renderMenu(t, self) {
    const want = !self && this.ctx.amHost();
    if (want && !t.menuBtn) {
      t.menuBtn = menuButton(`Host actions for ${t.p.name}`, { 'data-tile-menu': t.p.user });
      t.tools.append(t.menuBtn);
    } else if (!want && t.menuBtn) {
      t.menuBtn.remove();
      t.menuBtn = null;
    }
  }

  menu(btn) {
    const t = this.tiles.get(btn.dataset.tileMenu);
    if (!t || !t.p) return;
    const p = t.p;
    const entries = [
      p.audio === 'off_by_host' ? { id: 'unmute', label: 'Allow their microphone' } : { id: 'mute', label: 'Mute microphone' },
      p.video === 'off_by_host' ? { id: 'start_camera', label: 'Allow their camera' } : { id: 'stop_camera', label: 'Stop camera' },
      { id: 'remove', label: 'Remove from the session', danger: true },
    ];
    openMenu(btn, entries, (id) => this.ctx.hostAction(p.user, id, p.name));
  }

  tile(key, name, kind) {
    const video = el('video', { autoplay: true, playsinline: true, 'aria-hidden': 'true' });
    video.muted = true; // sound plays through the person's <audio>
    const li = el('li', { class: `tile ${kind}` });
    const nameEl = el('span', { class: 'tile-name' });
    nameEl.textContent = name;
    const mic = el('span', { class: 'tile-mic', hidden: true });
    const camState = el('span', { class: 'tile-cam' });
    const avatar = el('span', { class: 'tile-avatar', 'aria-hidden': 'true', text: initials(name) });
    const tools = el('span', { class: 'tile-tools menu-wrap' });
    li.append(video, avatar, el('span', { class: 'tile-label' }, nameEl, mic, camState), tools);
    const t = { li, video, name: nameEl, mic, camState, tools, menuBtn: null, p: null };
    this.tiles.set(key, t);
    this.root.append(li);
    return t;
  }

  // setVideo shows a camera or screen track: label 'camera' on the
  // person's tile, 'screen' on a tile of its own.
  setVideo(user, name, label, stream) {
    let t;
    if (label === 'screen') {
      const key = `${user}:screen`;
      t = this.tiles.get(key) || this.tile(key, `${name}’s screen`, 'screen');
      t.li.dataset.user = user;
      // The shared screen goes first: it is what people look at.
      this.root.prepend(t.li);
    } else {
      t = this.tiles.get(user);
      if (!t) return;
      t.li.classList.toggle('cam-off', !stream || (t.p && t.p.video !== 'on'));
    }
    if (t.video.srcObject !== stream) {
      t.video.srcObject = stream;
      if (stream) t.video.play().catch(() => {});
    }
    this.layout();
  }

  // setAudio plays user's sound.
  setAudio(user, stream) {
    let a = this.audio.get(user);
    if (!a) {
      a = el('audio', { autoplay: true });
      this.audio.set(user, a);
      this.root.after(a);
    }
    if (a.srcObject !== stream) {
      a.srcObject = stream;
      a.play().catch(() => {
        // Autoplay refused before any click on the page: the person's
        // click on Join or Admit normally allows it. Nothing to add here.
      });
    }
  }

  removeScreen(user) {
    this.removeTile(`${user}:screen`);
    this.layout();
  }

  // remove takes a person's tiles and sound away.
  remove(user) {
    this.removeTile(user);
    this.removeTile(`${user}:screen`);
    const a = this.audio.get(user);
    if (a) {
      a.srcObject = null;
      a.remove();
      this.audio.delete(user);
    }
    this.layout();
  }

  removeTile(key) {
    const t = this.tiles.get(key);
    if (!t) return;
    t.video.srcObject = null;
    t.li.remove();
    this.tiles.delete(key);
  }

  speaking(user) {
    this.speaker = user || '';
    for (const [key, t] of this.tiles) t.li.classList.toggle('speaking', key === this.speaker);
  }

  // layout sets the grid's shape from the number of tiles.
  layout() {
    const n = this.tiles.size;
    this.root.dataset.count = String(n);
    // 1, 2, 2x2, 3x3, then 4 across (3 rows of 4 for 12): CSS reads these.
    const cols = n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4;
    this.root.dataset.cols = String(cols);
    this.root.dataset.rows = String(Math.max(1, Math.ceil(n / cols)));
    this.speaking(this.speaker);
  }

  clear() {
    for (const key of [...this.tiles.keys()]) this.removeTile(key);
    for (const a of this.audio.values()) {
      a.srcObject = null;
      a.remove();
    }
    this.audio.clear();
    this.speaker = '';
    this.layout();
  }
}
