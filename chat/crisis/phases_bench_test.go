package crisis

import (
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"
)

// BenchmarkPhases times the pipeline phase by phase for every benchmark
// message (sub-benchmarks msgN/PHASE): normalize; normalize and match;
// normalize, match and score; and the whole of Detect (scratch pool and
// the no-alarm shortcut included); "empty" is Detect of an empty message,
// the fixed cost. Besides ns/op each reports
//
//   - cpu-ns/op: the thread's CPU time per call, which a busy machine's
//     scheduling does not inflate (Linux only);
//   - floor-ns: the fastest per-call wall time over batches of 100 calls;
//     on a shared machine the minimum filters out preemption and the
//     neighbours' noise better than a mean.
//
// Run it alone with: go test -run '^$' -bench Phases ./chat/crisis
func BenchmarkPhases(b *testing.B) {
	d := NewRuleDetector(nil)
	md := NewModelDetector(d, DefaultModel())
	sc := newScratch()
	phases := []struct {
		name string
		f    func(string)
	}{
		{"normalize", func(m string) { sc.reset(); d.c.normalize(m, sc) }},
		{"match", func(m string) { sc.reset(); d.c.normalize(m, sc); d.c.findMatches(sc) }},
		{"score", func(m string) { sc.reset(); d.c.normalize(m, sc); d.c.findMatches(sc); d.c.score(m, sc) }},
		{"features", func(m string) {
			sc.reset()
			d.c.normalize(m, sc)
			sc.feats = appendFeatures(sc.feats[:0], m, sc.norm, sc.toks, md.model.bits)
		}},
		{"model", func(m string) {
			sc.reset()
			d.c.normalize(m, sc)
			sc.feats = appendFeatures(sc.feats[:0], m, sc.norm, sc.toks, md.model.bits)
			lg := md.model.severityLogits(sc.feats)
			md.model.sevOf(&lg, true)
		}},
		{"detect", func(m string) { d.Detect(m) }},
		{"detect+model", func(m string) { md.Detect(m) }},
	}
	for i, msg := range benchMessages {
		for _, ph := range phases {
			b.Run(fmt.Sprintf("msg%d/%s", i, ph.name), func(b *testing.B) {
				measureCalls(b, func() { ph.f(msg) })
			})
		}
	}
	b.Run("empty", func(b *testing.B) {
		measureCalls(b, func() { d.Detect("") })
	})
}

// measureCalls runs f in b's loop, on one OS thread, and reports cpu-ns/op
// and floor-ns (see BenchmarkPhases).
func measureCalls(b *testing.B, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const batch = 100
	floor := time.Duration(math.MaxInt64)
	n := 0
	cpu0, cpuOK := threadCPU()
	t0 := time.Now()
	for b.Loop() {
		f()
		if n++; n%batch == 0 {
			now := time.Now()
			floor = min(floor, now.Sub(t0)/batch)
			t0 = now
		}
	}
	if cpu1, ok := threadCPU(); ok && cpuOK && n > 0 {
		b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(n), "cpu-ns/op")
	}
	if n >= batch {
		b.ReportMetric(float64(floor.Nanoseconds()), "floor-ns")
	}
}
