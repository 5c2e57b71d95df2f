//go:build linux

package crisis

import (
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
