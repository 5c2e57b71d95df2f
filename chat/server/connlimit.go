package server

import (
	"fmt"
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// maxRateAddrs bounds how many source addresses' connection-rate buckets a
// node keeps. Past it, buckets that have refilled (they hold nothing an
// empty one would not) are dropped; if that is not enough, arbitrary ones
// are, which only gives those addresses a fresh burst.
const maxRateAddrs = 65536

// connRetry is the retry_after_ms of a refusal for too many connections.
const connRetry = 5 * time.Second

// connLimits caps this node's WebSocket connections: in total, per source
// address, and new ones per address per second (a token bucket). A zero
// limit is no limit. One mutex guards the counts: it is taken twice per
// connection, never across I/O. These counts are per node by design
// (docs/security.md); sessions per user are counted across nodes
// (sessioncap.go).
type connLimits struct {
	maxTotal, maxPerAddr int
	rate                 rate
	maxAddrs             int

	mu      sync.Mutex
	total   int
	perAddr map[string]int
	rates   map[string]*tokenBucket
}

func newConnLimits(cfg *Config) *connLimits {
	return &connLimits{
		maxTotal: cfg.MaxConns, maxPerAddr: cfg.MaxConnsPerAddr,
		rate: rate{cfg.ConnRatePerAddr, float64(cfg.ConnBurstPerAddr)}, maxAddrs: maxRateAddrs,
		perAddr: make(map[string]int), rates: make(map[string]*tokenBucket),
	}
}

// admit counts a new connection from addr, or says why it is refused:
// rate_limited (429) for too many new connections from addr in a short
// time, too_many_connections (429) for too many open from addr, and
// server_busy (503) for too many on the node. Every admitted connection
// must be released.
func (l *connLimits) admit(addr string, now time.Time) *chat.Error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate.perSec > 0 {
		if ok, wait := l.bucket(addr, now).take(l.rate, now); !ok {
			return &chat.Error{Code: chat.CodeRateLimited, Message: "too many new connections from your address; wait a moment",
				Temporary: true, RetryAfterMS: max(wait.Milliseconds(), 1)}
		}
	}
	if l.maxPerAddr > 0 && l.perAddr[addr] >= l.maxPerAddr {
		return &chat.Error{Code: chat.CodeTooManyConnections, Temporary: true, RetryAfterMS: connRetry.Milliseconds(),
			Message: fmt.Sprintf("your address has %d connections open; close one first", l.maxPerAddr)}
	}
	if l.maxTotal > 0 && l.total >= l.maxTotal {
		return &chat.Error{Code: chat.CodeServerBusy, Temporary: true, RetryAfterMS: connRetry.Milliseconds(),
			Message: "the server has as many connections as it takes; try again shortly or another node"}
	}
	l.total++
	l.perAddr[addr]++
	return nil
}

// release uncounts a connection admit let in.
func (l *connLimits) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if n := l.perAddr[addr] - 1; n > 0 {
		l.perAddr[addr] = n
	} else {
		delete(l.perAddr, addr)
	}
}

// bucket is addr's connection-rate bucket, made (and room made for it)
// when addr has none. l.mu is held.
func (l *connLimits) bucket(addr string, now time.Time) *tokenBucket {
	if b, ok := l.rates[addr]; ok {
		return b
	}
	if len(l.rates) >= l.maxAddrs {
		l.evict(now)
	}
	b := newTokenBucket(l.rate, now)
	l.rates[addr] = &b
	return &b
}

// evict drops the buckets that have refilled; when fewer than a quarter
// go that way, it drops arbitrary ones down to three quarters full, so
// that a flood of new addresses costs one sweep per quarter of the map.
func (l *connLimits) evict(now time.Time) {
	full := int64(l.rate.burst / l.rate.perSec * float64(time.Second))
	for a, b := range l.rates {
		if mono(now)-b.last >= full {
			delete(l.rates, a)
		}
	}
	for a := range l.rates {
		if len(l.rates) <= l.maxAddrs*3/4 {
			break
		}
		delete(l.rates, a)
	}
}

// rateAddrs is how many addresses have a rate bucket (for tests).
func (l *connLimits) rateAddrs() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.rates)
}
