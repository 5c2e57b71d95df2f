package signaling

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// fwd is a packet the test forwards and the output it expects.
type fwd struct {
	src     uint16
	srcTS   uint32
	out     uint16
	outTS   uint32
	refused bool // rewrite must say ok=false
}

func mustRewrite(t *testing.T, r *seqRewriter, f fwd) {
	t.Helper()
	seq, ts, ok := r.rewrite(f.src, f.srcTS, false, 0)
	if f.refused {
		if ok {
			t.Fatalf("rewrite(%d) = %d, ok; want refused", f.src, seq)
		}
		return
	}
	if !ok || seq != f.out || ts != f.outTS {
		t.Fatalf("rewrite(%d, %d) = %d, %d, %v; want %d, %d", f.src, f.srcTS, seq, ts, ok, f.out, f.outTS)
	}
}

func mustSource(t *testing.T, r *seqRewriter, out, wantSrc uint16) {
	t.Helper()
	src, _, ok := r.source(out)
	if !ok || src != wantSrc {
		t.Fatalf("source(%d) = %d, %v; want %d", out, src, ok, wantSrc)
	}
}

func mustNotSource(t *testing.T, r *seqRewriter, out uint16) {
	t.Helper()
	if src, _, ok := r.source(out); ok {
		t.Fatalf("source(%d) = %d; want not mapped", out, src)
	}
}

func TestSeqRewriterPassThroughWraps(t *testing.T) {
	var r seqRewriter
	for i := 0; i < 10; i++ { // 65531 .. 65535, 0 .. 4
		seq := uint16(65531 + i)
		ts := uint32(4294967000 + i*3000) // wraps too
		mustRewrite(t, &r, fwd{src: seq, srcTS: ts, out: seq, outTS: ts})
	}
	for i := 0; i < 10; i++ {
		mustSource(t, &r, uint16(65531+i), uint16(65531+i))
	}
	mustNotSource(t, &r, 5)     // not sent yet
	mustNotSource(t, &r, 65530) // before the first packet
}

func TestSeqRewriterDropsCloseGaps(t *testing.T) {
	var r seqRewriter
	dropped := map[uint16]bool{65534: true, 65535: true, 0: true, 3: true, 6: true, 7: true}
	want := uint16(65530)
	for src := uint16(65530); src != 10; src++ {
		if dropped[src] {
			r.drop(src)
			continue
		}
		mustRewrite(t, &r, fwd{src: src, srcTS: uint32(src) * 100, out: want, outTS: uint32(src) * 100})
		mustSource(t, &r, want, src)
		want++
	}
	// Every output number maps to the packet sent under it, across drops.
	out := uint16(65530)
	for src := uint16(65530); src != 10; src++ {
		if !dropped[src] {
			mustSource(t, &r, out, src)
			out++
		}
	}
	mustNotSource(t, &r, out)
}

func TestSeqRewriterLossKeepsHole(t *testing.T) {
	var r seqRewriter
	mustRewrite(t, &r, fwd{src: 100, srcTS: 0, out: 100})
	// 101 lost upstream: not a drop, so its number stays free for it.
	mustRewrite(t, &r, fwd{src: 102, srcTS: 0, out: 102})
	mustSource(t, &r, 101, 101) // the subscriber's NACK finds it once resent
	mustRewrite(t, &r, fwd{src: 101, srcTS: 0, out: 101})
}

func TestSeqRewriterLateAfterDrop(t *testing.T) {
	var r seqRewriter
	mustRewrite(t, &r, fwd{src: 10, out: 10})
	// 11 delayed, 12 dropped, 13 and 14 forwarded, then 11 arrives.
	r.drop(12)
	mustRewrite(t, &r, fwd{src: 13, out: 12})
	mustRewrite(t, &r, fwd{src: 14, out: 13})
	mustRewrite(t, &r, fwd{src: 11, out: 11}) // its own number, no collision
	mustSource(t, &r, 11, 11)
	mustSource(t, &r, 12, 13)
	// A late copy of the dropped 12, or anything before the first packet,
	// is refused: it has no number.
	mustRewrite(t, &r, fwd{src: 12, refused: true})
	mustRewrite(t, &r, fwd{src: 9, refused: true})
	// A late drop cannot close up: 16 keeps its place after 15's hole.
	mustRewrite(t, &r, fwd{src: 16, out: 15})
	r.drop(15)
	mustRewrite(t, &r, fwd{src: 17, out: 16})
}

func TestSeqRewriterConsecutiveDropsOneEra(t *testing.T) {
	var r seqRewriter
	mustRewrite(t, &r, fwd{src: 1, out: 1})
	for src := uint16(2); src < 1002; src++ { // a long mute
		r.drop(src)
	}
	if r.count != 2 {
		t.Fatalf("a run of drops used %d eras, want 2", r.count)
	}
	mustRewrite(t, &r, fwd{src: 1002, out: 2})
	mustSource(t, &r, 1, 1)
	mustSource(t, &r, 2, 1002)
}

func TestSeqRewriterSwitch(t *testing.T) {
	var r seqRewriter
	// Layer A: seq 1000.., one frame of 3000 ticks per packet.
	for i := uint16(0); i < 5; i++ {
		mustRewrite(t, &r, fwd{src: 1000 + i, srcTS: 50000 + uint32(i)*3000, out: 1000 + i, outTS: 50000 + uint32(i)*3000})
	}
	r.drop(1005) // the last packet of A is not forwarded
	// Layer B: an unrelated seq and timestamp space; 3100 ticks passed
	// since A's last forwarded packet (ts 62000).
	seq, ts, ok := r.rewrite(40000, 7777777, true, 3100)
	if !ok || seq != 1005 || ts != 62000+3100 {
		t.Fatalf("first packet of B = %d, %d, %v; want 1005, 65100", seq, ts, ok)
	}
	mustRewrite(t, &r, fwd{src: 40001, srcTS: 7777777, out: 1006, outTS: 65100}) // same frame
	mustRewrite(t, &r, fwd{src: 40002, srcTS: 7780777, out: 1007, outTS: 68100}) // next frame
	// NACKs map into B; A's numbers are gone (B's cache cannot answer them).
	mustSource(t, &r, 1006, 40001)
	mustNotSource(t, &r, 1004)
	mustRewrite(t, &r, fwd{src: 39999, refused: true}) // B's packet from before the switch
	if _, tsOff, _ := r.source(1007); 7780777-tsOff != 68100 {
		t.Fatalf("tsOffset %d does not give B's output timestamp", tsOff)
	}
	// A switch with no elapsed time still moves the timestamp forward.
	if _, ts, _ := r.rewrite(5, 10, true, 0); ts != 68101 {
		t.Fatalf("switch with elapsed 0: ts %d, want 68101", ts)
	}
}

func TestSeqRewriterFirstPacketSwitchedPassesThrough(t *testing.T) {
	var r seqRewriter
	r.drop(7) // before any packet: nothing to close up
	if seq, ts, ok := r.rewrite(8, 80, true, 999); !ok || seq != 8 || ts != 80 {
		t.Fatalf("first packet = %d, %d, %v; want 8, 80", seq, ts, ok)
	}
}

func TestSeqRewriterLongRunWrapsWindow(t *testing.T) {
	var r seqRewriter
	mustRewrite(t, &r, fwd{src: 0, out: 0})
	r.drop(1)
	src := uint16(2)
	for i := 0; i < 3*65536; i++ { // several wraps with no more drops
		mustRewrite(t, &r, fwd{src: src, out: src - 1})
		src++
	}
	if r.count != 1 {
		t.Fatalf("%d eras kept, want 1: the drop is long out of the window", r.count)
	}
	mustRewrite(t, &r, fwd{src: src - 10, out: src - 11}) // still placed
	mustSource(t, &r, src-101, src-100)
	mustRewrite(t, &r, fwd{src: src - seqWindow - 1, refused: true})
	mustNotSource(t, &r, src-seqWindow-2)
}

// TestSeqRewriterConcurrentSource answers NACKs while the reader
// rewrites; -race checks the locking, and every mapping must be right.
func TestSeqRewriterConcurrentSource(t *testing.T) {
	var r seqRewriter
	r.rewrite(0, 0, false, 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for src := uint16(1); src < 20000; src++ {
			r.rewrite(src, 0, false, 0) // no drops: out == src
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		default:
		}
		if src, _, ok := r.source(uint16(i % 20000)); ok && src != uint16(i%20000) {
			t.Fatalf("source(%d) = %d", i%20000, src)
		}
	}
}

// TestSeqRewriterRandom forwards a long stream with random drops (in
// order or late), losses and reordering, and checks what a receiver
// relies on: output numbers are unique, in source order, map back to
// their source, and leave no hole but for a lost or late-dropped packet.
func TestSeqRewriterRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 3))
	var r seqRewriter
	const n = 20000
	order := make([]uint16, 0, n) // arrival order: delay ~5% by up to 6
	for i := 0; i < n; i++ {
		order = append(order, uint16(60000+i))
	}
	for i := range order {
		if rng.IntN(20) == 0 && i+6 < len(order) {
			j := i + 1 + rng.IntN(6)
			order[i], order[j] = order[j], order[i]
		}
	}
	outOf := map[uint16]uint16{} // src -> out
	holes, maxSeen, started := 0, uint16(0), false
	for _, src := range order {
		late := started && !seqNewer(src, maxSeen)
		if !late {
			maxSeen, started = src, true
		}
		switch k := rng.IntN(100); {
		case k < 2: // lost upstream
			holes++
		case k < 12:
			r.drop(src)
			if late {
				holes++
			}
		default:
			out, _, ok := r.rewrite(src, 0, false, 0)
			if !ok {
				t.Fatalf("late packet %d refused", src)
			}
			outOf[src] = out
		}
	}
	checkRandomRun(t, &r, outOf, holes)
}

func checkRandomRun(t *testing.T, r *seqRewriter, outOf map[uint16]uint16, holes int) {
	t.Helper()
	srcs := make([]uint16, 0, len(outOf))
	for s := range outOf {
		srcs = append(srcs, s)
	}
	// Sort in serial order from the first source seq (60000, wrapping).
	slices.SortFunc(srcs, func(a, b uint16) int { return int(a-60000) - int(b-60000) })
	for i := 1; i < len(srcs); i++ {
		a, b := outOf[srcs[i-1]], outOf[srcs[i]]
		if !seqNewer(b, a) {
			t.Fatalf("src %d -> %d, src %d -> %d: not unique and in order", srcs[i-1], a, srcs[i], b)
		}
	}
	first, last := outOf[srcs[0]], outOf[srcs[len(srcs)-1]]
	if span := int(last-first) + 1; span > len(srcs)+holes {
		t.Fatalf("outputs span %d numbers for %d packets and %d allowed holes", span, len(srcs), holes)
	}
	// A NACK maps to the packet sent under that number, or to nothing
	// once it is past the rewriter's memory; the last 400 (a NACK
	// window's worth, with a drop every 10 packets) are all mapped.
	mapped := 0
	for i, s := range srcs {
		got, _, ok := r.source(outOf[s])
		if ok && got != s || !ok && i >= len(srcs)-400 {
			t.Fatalf("source(%d) = %d, %v; want %d", outOf[s], got, ok, s)
		}
		if ok {
			mapped++
		}
	}
	t.Logf("%d of %d numbers still mapped", mapped, len(srcs))
}
