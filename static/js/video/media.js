// The person's own media: camera and microphone from getUserMedia, and a
// screen from getDisplayMedia. A refusal is told apart from a missing
// device, because they call for different words and choices: permission
// denied can be changed in the browser's settings, a missing camera can
// not, and either way one may still join to listen and watch.

// Media kinds after acquire(): what the person will send.
export const FULL = 'full'; // camera and microphone
export const AUDIO_ONLY = 'audio'; // no camera found or usable
export const WATCH_ONLY = 'watch'; // neither (or the person chose so)

const CAMERA = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } };

// MediaError carries why own media could not be had: 'denied' (the
// person or a policy refused access) or 'unsupported' (no getUserMedia:
// an insecure page, or an old browser).
export class MediaError extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason;
  }
}

function denied(e) {
  return e && (e.name === 'NotAllowedError' || e.name === 'SecurityError');
}

// Missing, busy or unable to meet the constraints: the device is the
// problem, not a refusal.
function noDevice(e) {
  return e && (e.name === 'NotFoundError' || e.name === 'OverconstrainedError' || e.name === 'NotReadableError' || e.name === 'AbortError');
}

export class LocalMedia {
  constructor() {
    this.stream = null; // camera and microphone, when had
    this.screen = null; // the shared screen's stream, while sharing
    this.kind = WATCH_ONLY;
  }

  get audio() {
    return this.stream ? this.stream.getAudioTracks()[0] || null : null;
  }

  get camera() {
    return this.stream ? this.stream.getVideoTracks()[0] || null : null;
  }

  get screenTrack() {
    return this.screen ? this.screen.getVideoTracks()[0] || null : null;
  }

  // acquire asks for camera and microphone, falling back to the
  // microphone alone when there is no camera, and to nothing when there
  // is no device at all. It throws MediaError('denied') on a refusal,
  // so the caller can offer to try again or to watch only.
  async acquire() {
    this.release();
    const md = navigator.mediaDevices;
    if (!md || typeof md.getUserMedia !== 'function') throw new MediaError('unsupported');
    try {
      this.stream = await md.getUserMedia({ audio: true, video: CAMERA });
      this.kind = FULL;
      return this.kind;
    } catch (e) {
      if (denied(e)) throw new MediaError('denied');
      if (!noDevice(e)) throw new MediaError('unsupported');
    }
    try {
      this.stream = await md.getUserMedia({ audio: true });
      this.kind = AUDIO_ONLY;
    } catch (e) {
      if (denied(e)) throw new MediaError('denied');
      this.kind = WATCH_ONLY;
    }
    return this.kind;
  }

  // watchOnly joins without sending anything.
  watchOnly() {
    this.release();
    this.kind = WATCH_ONLY;
  }

  // shareScreen asks for a screen, window or tab; it resolves to the track,
  // or null when the person cancelled the browser's picker. onEnded runs
  // when sharing stops from the browser's own "Stop sharing" button.
  async shareScreen(onEnded) {
    const md = navigator.mediaDevices;
    if (!md || typeof md.getDisplayMedia !== 'function') throw new MediaError('unsupported');
    try {
      this.screen = await md.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
    } catch (e) {
      if (e && e.name === 'NotAllowedError') return null; // cancelled
      throw new MediaError('unsupported');
    }
    const track = this.screenTrack;
    track.contentHint = 'detail';
    track.addEventListener('ended', () => onEnded(), { once: true });
    return track;
  }

  stopScreen() {
    if (!this.screen) return;
    for (const t of this.screen.getTracks()) t.stop();
    this.screen = null;
  }

  // release stops every track, so the camera light goes off.
  release() {
    this.stopScreen();
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = null;
    this.kind = WATCH_ONLY;
  }
}
