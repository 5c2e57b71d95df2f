// Command altlog measures an alternative engine for the event log against
// the SQLite store the embedded default runs (issue 15, docs/decisions/
// 0004-event-log-engine.md). It is a diagnostic, in a module of its own so
// that the engine it measures is not a dependency of the server.
//
// Both engines take the same work: batches of messages scattered over as
// many rooms as the batch has messages, as the committer sees them under
// kindred-bench's `rooms` workload, on top of a seeded history. Each
// message is sealed (encryption at rest), checked against the sender's
// earlier client ids, stored, and the batch is committed durably (fsync).
// Run one engine per process, alternating, so that one engine's deferred
// work (checkpoints, compactions) is never charged to the other:
//
//	go build -o /tmp/altlog .
//	for i in 1 2 3 4 5; do
//	  for e in sqlite pebble; do /tmp/altlog -engine $e -batches 300; done
//	done
//
// It prints, per run, the process's CPU per stored message while the
// batches ran and again with the engine's deferred work drained (Pebble's
// memtable flushes and compactions; SQLite's last checkpoint), the
// allocations per message, and the wall time of each Append (statements
// and commit). The batches and their client ids are made before the clock
// starts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sealer"
)

// engine is what the measurement drives: the store under test.
type engine interface {
	// seed creates the rooms and their members and stores history
	// batches; fsync may be skipped (it is setup).
	seed(ctx context.Context, w *workload) error
	// append stores one batch durably, as chat.Store.Append does.
	append(ctx context.Context, items []chat.AppendItem) error
	// drain finishes the work the engine deferred (flushes, compactions,
	// checkpoints), so that its CPU can be counted.
	drain(ctx context.Context) error
	close() error
}

func main() {
	var (
		name    = flag.String("engine", "sqlite", "sqlite or pebble")
		dir     = flag.String("dir", "", "a directory for the databases (default: a temporary one, removed)")
		batches = flag.Int("batches", 300, "batches measured")
	)
	w := defaultWorkload()
	flag.IntVar(&w.rooms, "rooms", w.rooms, "rooms")
	flag.IntVar(&w.batch, "batch", w.batch, "messages per batch, each in a room of its own")
	flag.IntVar(&w.history, "history", w.history, "events per room stored before measuring")
	flag.Parse()
	if *batches < 1 || w.batch < 1 || w.batch > w.rooms || w.members < 1 {
		log.Fatal("want -batches >= 1 and 1 <= -batch <= -rooms")
	}
	if err := run(*name, *dir, *batches, w); err != nil {
		log.Fatal(err)
	}
}

func run(name, dir string, batches int, w *workload) (err error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "altlog")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	dir = filepath.Join(dir, fmt.Sprintf("%s-%d", name, time.Now().UnixNano()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	keys, err := testKeys()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background()) // one that can end, as the committer's
	defer cancel()
	e, err := open(ctx, name, dir, keys)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, e.close()) }()
	if err := e.seed(ctx, w); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	r, err := measure(ctx, e, w.measured(batches))
	if err != nil {
		return err
	}
	r.print(name, w)
	if p, ok := e.(*pebbleLog); ok {
		return p.compactAll(ctx, r.msgs)
	}
	return nil
}

func open(ctx context.Context, name, dir string, keys *sealer.Ring) (engine, error) {
	switch name {
	case "sqlite":
		return openSQLite(ctx, filepath.Join(dir, "kindred.db"), keys)
	case "pebble":
		return openPebble(filepath.Join(dir, "pebble"), keys)
	}
	return nil, fmt.Errorf("unknown engine %q (sqlite or pebble)", name)
}

// testKeys is a key ring of one fixed key: what is measured is the cost of
// sealing, not the key.
func testKeys() (*sealer.Ring, error) {
	return sealer.Parse("k1:" + strings.Repeat("A", 43) + "=")
}

// result is one run's figures.
type result struct {
	msgs           int
	cpu, cpuDrain  time.Duration
	mallocs, bytes uint64
	lat            []time.Duration
}

func measure(ctx context.Context, e engine, batches [][]chat.AppendItem) (result, error) {
	r := result{lat: make([]time.Duration, 0, len(batches))}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	c0 := cpuTime()
	for _, items := range batches {
		t := time.Now()
		if err := e.append(ctx, items); err != nil {
			return r, err
		}
		r.lat = append(r.lat, time.Since(t))
		for i := range items {
			if items[i].Err != nil || items[i].Duplicate {
				return r, fmt.Errorf("item refused: %+v", items[i])
			}
		}
		r.msgs += len(items)
	}
	r.cpu = cpuTime() - c0
	runtime.ReadMemStats(&m1)
	if err := e.drain(ctx); err != nil {
		return r, err
	}
	r.cpuDrain = cpuTime() - c0
	r.mallocs, r.bytes = m1.Mallocs-m0.Mallocs, m1.TotalAlloc-m0.TotalAlloc
	return r, nil
}

func (r result) print(name string, w *workload) {
	slices.Sort(r.lat)
	q := func(p float64) float64 {
		return float64(r.lat[int(p*float64(len(r.lat)-1))].Microseconds()) / 1000
	}
	n := float64(r.msgs)
	fmt.Printf("%-6s msgs %d (batches of %d over %d rooms, %d events of history each): "+
		"CPU/msg %.1f µs, with deferred work %.1f µs; allocs/msg %.1f, bytes/msg %.0f; "+
		"Append p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		name, r.msgs, w.batch, w.rooms, w.history,
		float64(r.cpu.Nanoseconds())/n/1000, float64(r.cpuDrain.Nanoseconds())/n/1000,
		float64(r.mallocs)/n, float64(r.bytes)/n, q(0.5), q(0.99), q(1))
}

// cpuTime is the CPU time (user and system) of the process, background
// goroutines included.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
