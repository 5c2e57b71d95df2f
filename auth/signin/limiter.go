package signin

import (
	"sync"
	"time"
)

// limiter counts requests per key in fixed windows: at most n per window.
// It forgets keys whose window ended, and holds at most maxKeys at once
// (beyond that, new keys share one count).
type limiter struct {
	n      int
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	keys map[string]*windowCount
}

type windowCount struct {
	start time.Time
	count int
}

const maxKeys = 10000

func newLimiter(n int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{n: n, window: window, now: now, keys: make(map[string]*windowCount)}
}

// allow counts one request for key and reports whether it is within the
// limit, and if not, how long until the window ends.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.keys[key]
	if c == nil || now.Sub(c.start) >= l.window {
		if c == nil && len(l.keys) >= maxKeys {
			l.sweep(now)
			if len(l.keys) >= maxKeys {
				key = "*"
				c = l.keys[key]
			}
		}
		if c == nil || now.Sub(c.start) >= l.window {
			c = &windowCount{start: now}
			l.keys[key] = c
		}
	}
	if c.count >= l.n {
		return false, c.start.Add(l.window).Sub(now)
	}
	c.count++
	return true, 0
}

// sweep forgets the keys whose window ended.
func (l *limiter) sweep(now time.Time) {
	for k, c := range l.keys {
		if now.Sub(c.start) >= l.window {
			delete(l.keys, k)
		}
	}
}
