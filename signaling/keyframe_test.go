package signaling

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

// step is one call on a limiter at a time in ms since t0, and its result.
type step struct {
	call string // "want", "due", "got"
	at   int
	want bool
}

func runSteps(t *testing.T, k *keyframeLimiter, steps []step) {
	t.Helper()
	for i, s := range steps {
		var got bool
		switch s.call {
		case "want":
			got = k.want(ms(s.at))
		case "due":
			got = k.due(ms(s.at))
		case "got":
			k.got()
			continue
		}
		if got != s.want {
			t.Fatalf("step %d: %s at %d ms = %v, want %v", i, s.call, s.at, got, s.want)
		}
	}
}

func TestKeyframeLimiter(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"first request is sent at once", []step{
			{"want", 0, true}, {"due", 1, false}, {"due", 600, false},
		}},
		{"two requests within 500 ms give one PLI, the second when due", []step{
			{"want", 0, true}, {"want", 100, false},
			{"due", 499, false}, {"due", 500, true}, {"due", 501, false}, {"due", 2000, false},
		}},
		{"many requests inside the interval are one pending PLI", []step{
			{"want", 0, true}, {"want", 10, false}, {"want", 20, false}, {"want", 499, false},
			{"due", 500, true}, {"due", 900, false},
		}},
		{"a key frame in between cancels the pending request", []step{
			{"want", 0, true}, {"want", 100, false}, {"got", 200, false}, {"due", 500, false}, {"due", 1000, false},
		}},
		{"a request after the key frame waits again", []step{
			{"want", 0, true}, {"want", 100, false}, {"got", 200, false}, {"want", 300, false}, {"due", 500, true},
		}},
		{"the interval restarts at the pending PLI", []step{
			{"want", 0, true}, {"want", 100, false}, {"due", 700, true},
			{"want", 1000, false}, {"due", 1199, false}, {"due", 1200, true},
		}},
		{"requests an interval apart are each sent", []step{
			{"want", 0, true}, {"want", 500, true}, {"want", 1000, true}, {"due", 1500, false},
		}},
		{"a request read from the clock before the last PLI is not sent", []step{
			{"want", 1000, true}, {"want", 999, false}, {"due", 1499, false}, {"due", 1500, true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { runSteps(t, newKeyframeLimiter(0), tc.steps) })
	}
}

func TestKeyframeLimiterPending(t *testing.T) {
	k := newKeyframeLimiter(time.Second)
	if k.pending() {
		t.Fatal("pending on a new limiter")
	}
	k.want(ms(0))
	if k.pending() {
		t.Fatal("pending after a request that was sent")
	}
	k.want(ms(500)) // inside the 1 s interval
	if !k.pending() {
		t.Fatal("not pending after a request inside the interval")
	}
	if k.due(ms(999)) || !k.due(ms(1000)) || k.pending() {
		t.Fatal("a 1 s interval did not release the request at 1000 ms exactly once")
	}
}

// TestKeyframeLimiterConcurrent has many subscribers ask at once, with
// clock readings that reach the lock out of order: exactly one of them
// may send the PLI, and the rest wait for due.
func TestKeyframeLimiterConcurrent(t *testing.T) {
	k := newKeyframeLimiter(0)
	var sent atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 11; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if k.want(ms(i)) {
				sent.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := sent.Load(); n != 1 {
		t.Fatalf("%d PLIs sent for 11 simultaneous requests, want 1", n)
	}
	if !k.pending() || !k.due(ms(600)) {
		t.Fatal("the other 10 requests were not kept for due")
	}
}

// TestKeyframeLimiterReaderAndSubscribers runs the reader's per-packet
// calls (pending, due, got) against subscribers' requests under -race;
// whatever the interleaving, no more than one PLI goes out per interval.
func TestKeyframeLimiterReaderAndSubscribers(t *testing.T) {
	k := newKeyframeLimiter(0)
	var mu sync.Mutex
	var sentAt []time.Time
	send := func(at time.Time) { mu.Lock(); sentAt = append(sentAt, at); mu.Unlock() }
	var wg sync.WaitGroup
	for sub := 0; sub < 4; sub++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i += 7 {
				if k.want(ms(i)) {
					send(ms(i))
				}
			}
		}()
	}
	for i := 0; i < 2000; i++ { // the reader: a packet per ms
		if k.pending() && k.due(ms(i)) {
			send(ms(i))
		}
		if i%300 == 0 {
			k.got()
		}
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	slices.SortFunc(sentAt, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(sentAt); i++ {
		if d := sentAt[i].Sub(sentAt[i-1]); d < defaultKeyframeInterval {
			t.Fatalf("PLIs %v apart, want at least %v", d, defaultKeyframeInterval)
		}
	}
}
