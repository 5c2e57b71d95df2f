package server

import (
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens per second, up to burst. One bucket
// is shared by all of a user's connections on this node, so opening more
// tabs does not buy more sends.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	refs   int
}

func newBucket(rate float64, burst int) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// take spends one token. When none is left it reports how long until one
// will be.
func (b *bucket) take(now time.Time) (ok bool, wait time.Duration) {
	if b.rate <= 0 {
		return true, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens += now.Sub(b.last).Seconds() * b.rate
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// buckets hands out per-user buckets and forgets them when the user's last
// connection on this node closes.
type buckets struct {
	mu    sync.Mutex
	rate  float64
	burst int
	m     map[string]*bucket
}

func (bs *buckets) acquire(user string) *bucket {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.m[user]
	if b == nil {
		b = newBucket(bs.rate, bs.burst)
		bs.m[user] = b
	}
	b.refs++
	return b
}

func (bs *buckets) release(user string) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if b := bs.m[user]; b != nil {
		b.refs--
		if b.refs <= 0 {
			delete(bs.m, user)
		}
	}
}
