// The WebSocket session (docs/protocol.md): hello with the token and the
// resume positions, then frames both ways. It reconnects by itself with
// exponential backoff and jitter, notices a dead network (browser offline
// events, and a ping when the line has been quiet), and reports its state:
// "connecting", "connected", "reconnecting", "offline", or "signed_out"
// after a 4001 or 4011 close that a renewed token (onAuthLost: a browser
// session's refresh, tried once) could not mend: a new sign-in is needed.
//
// Server frames arrive as one or more JSON objects per WebSocket message,
// separated by "\n".

export const Close = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL: 1011,
  UNAUTHORIZED: 4001,
  HELLO_TIMEOUT: 4002,
  SLOW_CONSUMER: 4008,
  POLICY: 4009,
  REVOKED: 4011,
});

// AUTH_CODES are the errors that end a sign-in rather than one request.
export const AUTH_CODES = new Set(['token_expired', 'token_invalid', 'token_revoked', 'auth_required', 'account_deactivated']);

const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const HELLO_TIMEOUT_MS = 15000;
const PING_AFTER_MS = 20000; // quiet this long: send a ping
const DEAD_AFTER_MS = 45000; // quiet this long: the line is dead
const REQUEST_TIMEOUT_MS = 15000;

let refCounter = 0;
export function newRef(prefix = 'r') {
  refCounter += 1;
  return `${prefix}${Date.now().toString(36)}${refCounter.toString(36)}`;
}

export class Connection {
  // opts: url, token, resume() -> {conv: seq}, onWelcome(frame),
  // onFrame(frame), onState(state, info), onSignedOut(code),
  // onAuthLost(code) -> Promise<boolean> (optional: true when there is a
  // new token to reconnect with).
  constructor(opts) {
    this.opts = opts;
    this.ws = null;
    this.state = 'idle';
    this.welcomed = false;
    this.stopped = true;
    this.authRetried = false; // a new token was tried since the last welcome
    this.renewing = false; // waiting for onAuthLost: no connecting meanwhile
    this.attempt = 0;
    this.retryTimer = 0;
    this.helloTimer = 0;
    this.heartbeat = 0;
    this.lastRx = 0;
    this.authError = '';
    this.nextRetryAt = 0;
    this.pending = new Map(); // ref -> {resolve, reject, timer}
    this.onOnline = () => this.online();
    this.onOffline = () => this.offline();
    this.onVisible = () => {
      if (document.visibilityState === 'visible' && this.state === 'reconnecting') this.retryNow();
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.heartbeat = setInterval(() => this.beat(), 5000);
    this.connect('connecting');
  }

  // stop closes the session for good (sign-out).
  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisible);
    clearInterval(this.heartbeat);
    clearTimeout(this.retryTimer);
    this.drop(Close.NORMAL);
    this.failPending('offline');
    this.setState('stopped');
  }

  get connected() {
    return this.state === 'connected';
  }

  // send writes a client frame if the session is up, and reports whether
  // it did.
  send(frame) {
    if (!this.ws || !this.welcomed || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // request sends frame with a fresh ref and resolves with the frame that
  // answers it, or rejects with the error frame ({code, ...}).
  request(frame) {
    const ref = newRef();
    return new Promise((resolve, reject) => {
      if (!this.send({ ...frame, ref })) {
        reject({ code: 'offline' });
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject({ code: 'timeout' });
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(ref, { resolve, reject, timer });
    });
  }

  retryNow() {
    if (this.stopped || this.state === 'connected') return;
    clearTimeout(this.retryTimer);
    this.connect('reconnecting');
  }

  // reconnect starts a new session now, resuming where this one is, for a
  // token the open session cannot take (another role, a new name).
  reconnect() {
    if (this.stopped) return;
    this.failPending('offline');
    this.connect('reconnecting');
  }

  connect(state) {
    if (this.stopped || this.renewing) return;
    clearTimeout(this.retryTimer);
    this.drop(Close.NORMAL);
    if (navigator.onLine === false) {
      this.setState('offline');
      return;
    }
    this.setState(state);
    this.welcomed = false;
    this.authError = '';
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/ws`);
    this.ws = ws;
    ws.onopen = () => {
      this.lastRx = Date.now();
      const hello = { type: 'hello', token: this.opts.token() };
      const resume = this.opts.resume();
      if (resume && Object.keys(resume).length > 0) hello.resume = resume;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.lastRx = Date.now();
      if (typeof ev.data !== 'string') return;
      for (const line of ev.data.split('\n')) {
        if (ws !== this.ws) return; // dropped while handling this message
        if (!line) continue;
        let frame;
        try {
          frame = JSON.parse(line);
        } catch {
          continue;
        }
        this.dispatch(frame);
      }
    };
    ws.onclose = (ev) => {
      if (ws === this.ws) this.closed(ev.code);
    };
    ws.onerror = () => {
      // A close event follows.
    };
    this.helloTimer = setTimeout(() => {
      if (ws === this.ws && !this.welcomed) this.lost();
    }, HELLO_TIMEOUT_MS);
  }

  dispatch(frame) {
    if (frame.type === 'welcome') {
      clearTimeout(this.helloTimer);
      this.welcomed = true;
      this.attempt = 0;
      this.authRetried = false;
      this.setState('connected');
      this.opts.onWelcome(frame);
      return;
    }
    if (frame.type === 'error' && AUTH_CODES.has(frame.code)) this.authError = frame.code;
    if (frame.ref && this.pending.has(frame.ref)) {
      const p = this.pending.get(frame.ref);
      this.pending.delete(frame.ref);
      clearTimeout(p.timer);
      if (frame.type === 'error') p.reject(frame);
      else p.resolve(frame);
    }
    this.opts.onFrame(frame);
  }

  // drop detaches and closes the current socket without reacting to it.
  drop(code) {
    clearTimeout(this.helloTimer);
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(code);
    } catch {
      // already closing
    }
  }

  closed(code) {
    this.drop(Close.NORMAL);
    this.failPending('offline');
    if (this.stopped) return;
    if (code === Close.UNAUTHORIZED || code === Close.REVOKED || this.authError) {
      // The token is missing, invalid, expired or revoked: a renewed one
      // may help (once), else only a new sign-in.
      const why = this.authError || (code === Close.REVOKED ? 'token_revoked' : 'token_expired');
      if (this.opts.onAuthLost && !this.authRetried) {
        this.authRetried = true;
        this.renewing = true;
        this.setState('reconnecting');
        const done = (renewed) => {
          this.renewing = false;
          if (this.stopped) return;
          if (renewed) this.connect('reconnecting');
          else this.signedOut(why);
        };
        this.opts.onAuthLost(why).then(done, () => done(false));
        return;
      }
      this.signedOut(why);
      return;
    }
    if (code === Close.SLOW_CONSUMER) {
      // We fell behind; nothing is lost. Resume right away.
      this.schedule(Math.random() * 300);
      return;
    }
    // 4009 means this client misbehaved: come back only after a long pause.
    this.schedule(this.backoff(code === Close.POLICY ? 60000 : 0));
  }

  signedOut(why) {
    this.stopped = true;
    clearInterval(this.heartbeat);
    this.setState('signed_out');
    this.opts.onSignedOut(why);
  }

  // resync drops the session and resumes, when the client finds its state
  // inconsistent with the stream.
  resync() {
    if (!this.stopped) this.lost();
  }

  // lost handles a line that went quiet or never answered the hello.
  lost() {
    this.drop(Close.NORMAL);
    this.failPending('offline');
    if (!this.stopped) this.schedule(this.backoff(0));
  }

  backoff(min) {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 10);
    // "Equal jitter": half fixed, half random, so a server restart does
    // not bring every client back in the same instant.
    return Math.max(min, ceiling / 2 + Math.random() * (ceiling / 2));
  }

  schedule(delay) {
    clearTimeout(this.retryTimer);
    if (navigator.onLine === false) {
      this.setState('offline');
      return;
    }
    this.nextRetryAt = Date.now() + delay;
    this.setState('reconnecting');
    this.retryTimer = setTimeout(() => this.connect('reconnecting'), delay);
  }

  offline() {
    if (this.stopped) return;
    // The socket would hang until a timeout; close it now and wait for
    // the network to return.
    clearTimeout(this.retryTimer);
    this.drop(Close.NORMAL);
    this.failPending('offline');
    this.setState('offline');
  }

  online() {
    if (this.stopped) return;
    this.attempt = 0;
    if (this.state !== 'connected') this.connect('reconnecting');
  }

  beat() {
    if (this.stopped || !this.ws || !this.welcomed) return;
    const quiet = Date.now() - this.lastRx;
    if (quiet > DEAD_AFTER_MS) this.lost();
    else if (quiet > PING_AFTER_MS) this.send({ type: 'ping' });
  }

  failPending(code) {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject({ code });
    }
    this.pending.clear();
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.opts.onState(state, { nextRetryAt: this.nextRetryAt });
  }
}
