// Automatic sign-out on shared devices: after `timeoutMs` without any
// keyboard, pointer, touch or scroll activity the tab signs out. A warning
// comes first, so a person who is still there can stay signed in (WCAG
// 2.2.1). Time is measured from timestamps, not timer counts, so a tab
// that was asleep in the background signs out as soon as it wakes.

// Only what a person does counts: scrolling and focus changes can come
// from the page itself (new messages), which must not keep a tab signed in.
const EVENTS = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'];

export class IdleTimer {
  // opts: timeoutMs, onWarn(msLeft), onIdle(), onActivity() (optional:
  // activity here, for the other tabs of the session)
  constructor(opts) {
    this.opts = opts;
    this.setTimeoutMs(opts.timeoutMs);
    this.last = Date.now();
    this.warned = false;
    this.timer = 0;
    this.onActivity = (ev) => {
      // Pointer moves are frequent; a second's resolution is plenty.
      if (ev.type === 'pointermove' && Date.now() - this.last < 1000) return;
      this.touch();
    };
    this.onWake = () => this.check();
  }

  // setTimeoutMs changes the timeout, counted from the last activity as
  // before (the server's welcome says how long this person's role gets).
  setTimeoutMs(ms) {
    this.timeoutMs = ms;
    this.warnMs = Math.min(60000, Math.floor(ms / 3));
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = setInterval(() => this.check(), this.interval());
    }
  }

  interval() {
    return Math.min(1000, Math.max(250, this.timeoutMs / 10));
  }

  start() {
    this.stop();
    this.last = Date.now();
    this.warned = false;
    for (const e of EVENTS) window.addEventListener(e, this.onActivity, { capture: true, passive: true });
    document.addEventListener('visibilitychange', this.onWake);
    window.addEventListener('focus', this.onWake);
    this.timer = setInterval(() => this.check(), this.interval());
  }

  stop() {
    clearInterval(this.timer);
    this.timer = 0;
    for (const e of EVENTS) window.removeEventListener(e, this.onActivity, { capture: true });
    document.removeEventListener('visibilitychange', this.onWake);
    window.removeEventListener('focus', this.onWake);
  }

  touch() {
    // Once the warning is up, only its "Stay signed in" counts: a stray
    // pointer move must not keep an unattended tab open.
    if (this.warned) return;
    this.last = Date.now();
    if (this.opts.onActivity) this.opts.onActivity();
  }

  // elsewhere: the same person is active in another tab of this browser
  // session, so they are at the device; a warning shown here is answered.
  elsewhere() {
    if (this.timer) this.extend();
  }

  // extend answers the warning: the person is still there.
  extend() {
    this.warned = false;
    this.last = Date.now();
  }

  check() {
    if (!this.timer) return;
    const idle = Date.now() - this.last;
    if (idle >= this.timeoutMs) {
      this.stop();
      this.opts.onIdle();
    } else if (!this.warned && idle >= this.timeoutMs - this.warnMs) {
      this.warned = true;
      this.opts.onWarn(this.timeoutMs - idle);
    }
  }
}
