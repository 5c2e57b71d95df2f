//go:build linux

package crisis

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCPUCost reports thread CPU time per Detect (immune to a busy
// machine's scheduling). Diagnostic only: set CRISIS_CPU=1.
func TestCPUCost(t *testing.T) {
	if os.Getenv("CRISIS_CPU") == "" {
		t.Skip("set CRISIS_CPU=1")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	d := NewRuleDetector(nil)
	for i, msg := range benchMessages {
		const n = 20000
		for k := 0; k < 1000; k++ {
			d.Detect(msg)
		}
		t0 := threadCPU()
		for k := 0; k < n; k++ {
			d.Detect(msg)
		}
		t.Logf("message %d (%d bytes): %v CPU per call", i, len(msg), (threadCPU()-t0)/n)
	}
}

func TestCPUPhases(t *testing.T) {
	if os.Getenv("CRISIS_CPU") == "" {
		t.Skip("set CRISIS_CPU=1")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	d := NewRuleDetector(nil)
	sc := newScratch()
	msg := benchMessages[0]
	const n = 20000
	phase := func(name string, f func()) {
		for k := 0; k < 1000; k++ {
			f()
		}
		t0 := threadCPU()
		for k := 0; k < n; k++ {
			f()
		}
		t.Logf("%-10s %v", name, (threadCPU()-t0)/n)
	}
	phase("normalize", func() { sc.reset(); d.c.normalize(msg, sc) })
	phase("+match", func() { sc.reset(); d.c.normalize(msg, sc); d.c.findMatches(sc) })
	phase("+score", func() { sc.reset(); d.c.normalize(msg, sc); d.c.findMatches(sc); d.c.score(msg, sc) })
	phase("empty", func() { d.Detect("") })
}

// TestLatencyFloor reports, per benchmark message and phase, the fastest
// per-call wall time over many short batches: on a shared machine the
// minimum filters out preemption and neighbours' noise better than a mean.
// Diagnostic only: set CRISIS_CPU=1.
func TestLatencyFloor(t *testing.T) {
	if os.Getenv("CRISIS_CPU") == "" {
		t.Skip("set CRISIS_CPU=1")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	d := NewRuleDetector(nil)
	sc := newScratch()
	phases := []struct {
		name string
		f    func(string)
	}{
		{"normalize", func(m string) { sc.reset(); d.c.normalize(m, sc) }},
		{"+match", func(m string) { sc.reset(); d.c.normalize(m, sc); d.c.findMatches(sc) }},
		{"detect", func(m string) { d.Detect(m) }},
	}
	for i, msg := range benchMessages {
		line := ""
		for _, ph := range phases {
			best := time.Duration(1 << 62)
			for b := 0; b < 300; b++ {
				t0 := time.Now()
				for k := 0; k < 100; k++ {
					ph.f(msg)
				}
				best = min(best, time.Since(t0)/100)
			}
			line += fmt.Sprintf("  %s %v", ph.name, best)
		}
		t.Logf("message %d (%d bytes):%s", i, len(msg), line)
	}
}
