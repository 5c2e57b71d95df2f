package escalation

import (
	"time"

	"github.com/kindred-health/kindred/chat/crisis"
)

// Policy says how long the engine waits for an acknowledgement before it
// widens the circle.
type Policy struct {
	// AckTimeout is the wait per severity. A severity missing from the map
	// (or a non-positive value) falls back to the default for it: 60s for
	// imminent, and for everything else the value for high, so concerns
	// are treated as high unless the operator sets a concern timeout.
	AckTimeout map[crisis.Severity]time.Duration
	// UnreachedRetry is how soon the engine tries again after a step that
	// reached nobody (nobody on call or online, or the Notifier failed),
	// when that is sooner than AckTimeout: a supervisor who comes online
	// a few seconds later should not wait out a five-minute timeout to
	// hear about a crisis. Default 15s.
	UnreachedRetry time.Duration
}

// Default timeouts.
const (
	DefaultImminentTimeout = 60 * time.Second
	DefaultHighTimeout     = 5 * time.Minute
	DefaultUnreachedRetry  = 15 * time.Second
)

// DefaultPolicy returns the default policy: imminent 60s, high (and
// concern) 5 minutes.
func DefaultPolicy() Policy {
	return Policy{
		AckTimeout: map[crisis.Severity]time.Duration{
			crisis.Imminent: DefaultImminentTimeout,
			crisis.High:     DefaultHighTimeout,
		},
		UnreachedRetry: DefaultUnreachedRetry,
	}
}

// Timeout returns the acknowledgement timeout for severity s.
func (p Policy) Timeout(s crisis.Severity) time.Duration {
	if d := p.AckTimeout[s]; d > 0 {
		return d
	}
	if s >= crisis.Imminent {
		return DefaultImminentTimeout
	}
	if d := p.AckTimeout[crisis.High]; d > 0 {
		return d
	}
	return DefaultHighTimeout
}

// retry returns the wait after a step that reached nobody.
func (p Policy) retry(s crisis.Severity) time.Duration {
	r := p.UnreachedRetry
	if r <= 0 {
		r = DefaultUnreachedRetry
	}
	return min(r, p.Timeout(s))
}
