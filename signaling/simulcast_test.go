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
	defer sub.mu.Unlock()
	seqs := sub.order[key]
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("sequence jumps from %d to %d at packet %d of %d", seqs[i-1], seqs[i], i, len(seqs))
		}
	}
}
