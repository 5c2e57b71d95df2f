package signaling

import (
	"sync"
	"sync/atomic"
	"time"
)

// defaultKeyframeInterval is the least time between two PLIs sent to one
// publisher's track. A key frame is several times the size of a delta
// frame; a publisher asked for one per joining or recovering subscriber
// would spend its uplink on key frames (docs/decisions/0002, "Key
// frames").
const defaultKeyframeInterval = 500 * time.Millisecond

// keyframeLimiter coalesces subscribers' key-frame requests (PLI or FIR)
// for one incoming track into at most one PLI per interval to its
// publisher, without losing a request: one made inside the interval is
// remembered and sent when the interval is over, unless a key frame has
// arrived in the meantime and answered it.
//
// Use: a subscriber's RTCP goroutine calls want(now) for each PLI or FIR
// and sends a PLI upstream when it returns true; the track's reader calls
// got() when isKeyframe finds the start of a key frame, and on a timer
// (every interval, or while pending() is true) calls due(now) and sends a
// PLI when it returns true. Time is passed in so tests need no clock.
// Safe for concurrent use; the mutex guards a few words and no I/O.
// waiting is written under mu but read without it, so the reader's check
// on every packet (pending, or due and got when nothing waits) is one
// atomic load.
type keyframeLimiter struct {
	interval time.Duration

	mu      sync.Mutex
	sent    time.Time   // when the last PLI was allowed; zero: never
	waiting atomic.Bool // a request arrived inside the interval
}

// newKeyframeLimiter returns a limiter allowing one PLI per interval;
// interval <= 0 means defaultKeyframeInterval.
func newKeyframeLimiter(interval time.Duration) *keyframeLimiter {
	if interval <= 0 {
		interval = defaultKeyframeInterval
	}
	return &keyframeLimiter{interval: interval}
}

// want records a key-frame request made at now. It returns true when the
// caller must send a PLI now; false when one was sent less than an
// interval ago, in which case the request waits for due.
func (k *keyframeLimiter) want(now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.open(now) {
		k.sent = now
		k.waiting.Store(false)
		return true
	}
	k.waiting.Store(true)
	return false
}

// due reports whether a waiting request may be sent at now; when it
// returns true the caller must send the PLI, and the interval restarts.
func (k *keyframeLimiter) due(now time.Time) bool {
	if !k.waiting.Load() {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.waiting.Load() || !k.open(now) {
		return false
	}
	k.sent = now
	k.waiting.Store(false)
	return true
}

// got records that a key frame arrived: it answers every waiting request,
// so none is sent. The interval is not reset; it limits PLIs, not frames.
func (k *keyframeLimiter) got() {
	if !k.waiting.Load() {
		return
	}
	k.mu.Lock()
	k.waiting.Store(false)
	k.mu.Unlock()
}

// pending reports whether a request is waiting for due, so the reader
// can run its timer only then.
func (k *keyframeLimiter) pending() bool { return k.waiting.Load() }

// open reports whether a PLI may be sent at now. A now before sent is not
// open: callers read the clock before taking mu, so two subscribers' times
// can arrive out of order, and the later-locked one must not send a
// second PLI. (time.Now's monotonic reading never goes back otherwise.)
// Called with mu held.
func (k *keyframeLimiter) open(now time.Time) bool {
	return k.sent.IsZero() || now.Sub(k.sent) >= k.interval
}
