package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// syncWriter serialises writes: the progress line, warnings and worker
// processes all write to stderr.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	if s, ok := w.(*syncWriter); ok {
		w = s.w
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar draws a live status line on stderr a few times a second: on
// a terminal it redraws one line in place; otherwise (with --progress) it
// prints a line a second, which suits a log.
type progressBar struct {
	w     io.Writer
	tty   bool
	phase atomic.Pointer[string]
	// During setup the line counts joins; then the shards' connections.
	setupDone, setupTotal atomic.Int64
	shards                atomic.Pointer[[]shard]
	t0                    time.Time
	stop, done            chan struct{}
}

func startProgress(w io.Writer, tty, enabled bool) *progressBar {
	p := &progressBar{w: w, tty: tty, t0: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	if !enabled {
		close(p.done)
		return p
	}
	go p.loop()
	return p
}

func (p *progressBar) setPhase(s string) { p.phase.Store(&s) }

func (p *progressBar) setShards(s []shard) { p.shards.Store(&s) }

func (p *progressBar) loop() {
	defer close(p.done)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var lastDel int64
	last := time.Now()
	n := 0
	for {
		select {
		case <-p.stop:
			if p.tty {
				fmt.Fprint(p.w, "\r\x1b[K")
			}
			return
		case now := <-tick.C:
			var tot progressSnap
			if s := p.shards.Load(); s != nil {
				for _, sh := range *s {
					x := sh.progress()
					tot.Target += x.Target
					tot.Up += x.Up
					tot.ConnectErrors += x.ConnectErrors
					tot.Sent += x.Sent
					tot.Deliveries += x.Deliveries
				}
			}
			rate := float64(tot.Deliveries-lastDel) / now.Sub(last).Seconds()
			lastDel, last = tot.Deliveries, now
			n++
			if !p.tty && n%4 != 0 {
				continue
			}
			line := p.line(tot, rate, now)
			if p.tty {
				fmt.Fprint(p.w, "\r\x1b[K"+line)
			} else {
				fmt.Fprintln(p.w, line)
			}
		}
	}
}

func (p *progressBar) line(t progressSnap, rate float64, now time.Time) string {
	phase := ""
	if ph := p.phase.Load(); ph != nil {
		phase = *ph
	}
	done, total := t.Up, t.Target
	what := "conns"
	if t.Target == 0 {
		done, total, what = p.setupDone.Load(), p.setupTotal.Load(), "joins"
	}
	const width = 24
	fill := 0
	if total > 0 {
		fill = int(min(done, total) * width / total)
	}
	bar := strings.Repeat("█", fill) + strings.Repeat("░", width-fill)
	return fmt.Sprintf("%-8s [%s] %d/%d %s  %d errors | sent %d  %.0f msg/s | %s",
		phase, bar, done, total, what, t.ConnectErrors, t.Sent, rate, now.Sub(p.t0).Truncate(time.Second))
}

// finish stops the line and clears it.
func (p *progressBar) finish() {
	select {
	case <-p.done:
		return
	default:
	}
	close(p.stop)
	<-p.done
}
