package signaling

import (
	"strings"
	"testing"
	"time"
)

// A publisher sends three simulcast layers; the subscriber gets the best
// while it has said nothing, the lowest after a low REMB estimate, the
// best again after a high one, with one gap-free sequence across the
// switches.
func TestSimulcastLayerFollowsEstimate(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, _, sub := pubSub(t, s, "conv-sim", "a", func(pub *testClient) { pub.simulcast = true }, nil)
	key := streamIDs(t, s, info.ID)["h"] + "/" + LabelCamera
	layerIs := func(rid string) func() bool {
		return func() bool {
			_, body := sub.count(streamIDs(t, s, info.ID)["h"], LabelCamera)
			return strings.HasPrefix(body, "h:"+rid+"|")
		}
	}
	eventually(t, 10*time.Second, "the best layer without an estimate", layerIs("f"))
	deadline := time.Now().Add(10 * time.Second)
	for !layerIs("q")() && time.Now().Before(deadline) {
		sub.sendREMB(key, 60_000)
		time.Sleep(100 * time.Millisecond)
	}
	eventually(t, time.Second, "the lowest layer under a 60 kbit/s estimate", layerIs("q"))
	deadline = time.Now().Add(10 * time.Second)
	for !layerIs("f")() && time.Now().Before(deadline) {
		sub.sendREMB(key, 5_000_000)
		time.Sleep(100 * time.Millisecond)
	}
	eventually(t, time.Second, "the best layer under a 5 Mbit/s estimate", layerIs("f"))
	sub.mu.Lock()
	seqs := append([]uint16(nil), sub.order[key]...)
	sub.mu.Unlock()
	checkGapFree(t, seqs)
}

// checkGapFree fails unless seqs, the sequence numbers in the order they
// arrived, hold every number from the first to the last exactly once.
// Two readers forward a switching subscriber's packets (the old layer's
// and the new one's) and each writes outside the subscriber's lock, so
// the old layer's last packet may arrive just after the new layer's
// first; a receiver's jitter buffer puts them back in order, but a hole
// would make it ask for a packet nobody sent. So a packet may arrive at
// most maxEarly places before its turn.
func checkGapFree(t *testing.T, seqs []uint16) {
	t.Helper()
	const maxEarly = 2
	if len(seqs) == 0 {
		t.Fatal("no packets received")
	}
	seen := map[uint16]bool{}
	next := seqs[0] // the lowest number not yet received, in order
	for i, s := range seqs {
		if seen[s] {
			t.Fatalf("sequence number %d received twice (packet %d of %d: %v)", s, i, len(seqs), around(seqs, i))
		}
		seen[s] = true
		if d := s - next; d > maxEarly && d < 1<<15 {
			t.Fatalf("sequence number %d arrived %d before its turn (packet %d of %d: %v)", s, d, i, len(seqs), around(seqs, i))
		}
		for seen[next] {
			next++
		}
	}
	last := seqs[0]
	for _, s := range seqs {
		if int16(s-last) > 0 {
			last = s
		}
	}
	if last+1 != next {
		t.Fatalf("sequence has a hole at %d (received up to %d): %v", next, last, around(seqs, len(seqs)-1))
	}
}

// around is seqs near index i, for a failure message.
func around(seqs []uint16, i int) []uint16 {
	return seqs[max(0, i-5):min(len(seqs), i+5)]
}
