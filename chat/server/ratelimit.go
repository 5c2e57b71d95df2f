package server

import (
	"sync"
	"time"
)

// tokenBucket holds rate tokens per second, up to burst.
type tokenBucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, burst int, now time.Time) tokenBucket {
	return tokenBucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// take spends one token. When none is left it reports how long until one
// will be.
func (b *tokenBucket) take(now time.Time) (ok bool, wait time.Duration) {
	if b.rate <= 0 {
		return true, 0
	}
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

// bucket is one user's rate limits on this node, shared by all of the
// user's sessions there, so opening more tabs does not buy more: sends,
// edits and deletes; membership changes (join, leave, open_dm), each
// announced to a room or a person; and flags and concerns, each of which
// pages people.
type bucket struct {
	mu      sync.Mutex
	send    tokenBucket
	members tokenBucket
	reports tokenBucket
	refs    int
}

// take spends one send token.
func (b *bucket) take(now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.send.take(now)
}

// takeMembership spends one token for a join, leave or open_dm.
func (b *bucket) takeMembership(now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.members.take(now)
}

// takeReport spends one token for a flag or a concern.
func (b *bucket) takeReport(now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.reports.take(now)
}

// limits are the rates of a user's buckets.
type limits struct {
	sendRate       float64
	sendBurst      int
	memberRate     float64
	memberBurst    int
	reportsPerHour int
}

// buckets hands out per-user buckets and forgets them when the user's last
// connection on this node closes.
type buckets struct {
	mu     sync.Mutex
	limits limits
	m      map[string]*bucket
}

func (bs *buckets) acquire(user string) *bucket {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.m[user]
	if b == nil {
		l, now := bs.limits, time.Now()
		b = &bucket{
			send:    newTokenBucket(l.sendRate, l.sendBurst, now),
			members: newTokenBucket(l.memberRate, l.memberBurst, now),
			reports: newTokenBucket(float64(l.reportsPerHour)/3600, l.reportsPerHour, now),
		}
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
