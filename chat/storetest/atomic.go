package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/kindred-health/kindred/chat"
)

// countdownCtx is a context that reports itself canceled once Done or Err
// has been consulted more than n times: a way to make a store fail in the
// middle of a batch without knowing how it is built.
type countdownCtx struct {
	context.Context
	left atomic.Int64
	done chan struct{}
	once atomic.Bool
}

func newCountdownCtx(parent context.Context, n int64) *countdownCtx {
	c := &countdownCtx{Context: parent, done: make(chan struct{})}
	c.left.Store(n)
	return c
}

func (c *countdownCtx) tick() {
	if c.left.Add(-1) < 0 && c.once.CompareAndSwap(false, true) {
		close(c.done)
	}
}

func (c *countdownCtx) Done() <-chan struct{} {
	c.tick()
	return c.done
}

func (c *countdownCtx) Err() error {
	c.tick()
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}

func testAppendAtomic(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Room", alice, bob)
	f.send(msg(r.ID, alice, f.id("first"), "first"))

	// A canceled context stores nothing.
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	items := []chat.AppendItem{msg(r.ID, alice, f.id("c1"), "x"), msg(r.ID, bob, f.id("c2"), "y")}
	if err := f.s.Append(ctx, items); err == nil {
		f.Error("Append with a canceled context returned nil")
	}
	if n := f.lastSeq(r.ID); n != 1 {
		f.Errorf("LastSeq = %d after a failed Append, want 1", n)
	}

	// Cancel at every point of a batch in turn: each attempt must be all
	// or nothing, and the store must carry on afterwards.
	const size = 8
	last := f.lastSeq(r.ID)
	failed, committed := 0, 0
	failedID := "" // a client id from a batch that was not stored
	for n := int64(0); n < 400 && committed < 3; n++ {
		items := make([]chat.AppendItem, size)
		for i := range items {
			sender := alice
			if i%2 == 1 {
				sender = bob
			}
			items[i] = msg(r.ID, sender, f.id(fmt.Sprintf("n%d_%d", n, i)), "batch")
		}
		// Make one item an edit and one a refusal, so every kind of
		// write is interrupted somewhere.
		items[3] = edit(r.ID, bob, 1, "edit by non-author")
		items[5] = edit(r.ID, alice, 1, fmt.Sprint("edit ", n))
		err := f.s.Append(newCountdownCtx(f.ctx, n), items)
		evs := f.eventsAfter(r.ID, last, 100)
		now := f.lastSeq(r.ID)
		if err != nil {
			failed++
			if failedID == "" {
				failedID = items[0].Event.ClientID
			}
			if now != last || len(evs) != 0 {
				f.Fatalf("countdown %d: Append failed (%v) but LastSeq went %d -> %d and %d events were stored",
					n, err, last, now, len(evs))
			}
			continue
		}
		committed++
		if now != last+size-1 || len(evs) != size-1 {
			f.Fatalf("countdown %d: Append succeeded but LastSeq went %d -> %d with %d events, want +%d",
				n, last, now, len(evs), size-1)
		}
		if !errors.Is(items[3].Err, chat.ErrNotAuthor) {
			f.Errorf("countdown %d: refusal lost: %v", n, items[3].Err)
		}
		for i, e := range evs {
			if e.Seq != last+int64(i)+1 {
				f.Fatalf("countdown %d: seqs %v are not contiguous after %d", n, seqs(evs), last)
			}
		}
		last = now
	}
	f.Logf("interrupted batches: %d failed, %d committed", failed, committed)

	// The client ids of failed batches were not stored: sending them now
	// makes new messages.
	if failedID != "" {
		e := f.send(msg(r.ID, alice, failedID, "retry"))
		if e.Seq != last+1 {
			f.Errorf("retry of a failed send got Seq %d, want %d", e.Seq, last+1)
		}
	}
}

func testAppendConcurrent(f *fixture) {
	const writers, perWriter = 8, 50
	owner := f.user("owner")
	senders := make([]string, writers)
	for i := range senders {
		senders[i] = f.user(fmt.Sprint("w", i))
	}
	r := f.room("Busy", owner, senders...)

	type result struct {
		seqs []int64
		err  error
	}
	results := make(chan result, writers)
	start := make(chan struct{})
	for w := range writers {
		go func() {
			<-start
			var res result
			// Writers use different batch sizes: 1, 2, 3 and 5.
			size := []int{1, 2, 3, 5}[w%4]
			for sent := 0; sent < perWriter; {
				n := min(size, perWriter-sent)
				items := make([]chat.AppendItem, n)
				for i := range items {
					items[i] = msg(r.ID, senders[w], f.id(fmt.Sprintf("w%d_%d", w, sent+i)), "concurrent")
				}
				if err := f.s.Append(f.ctx, items); err != nil {
					res.err = err
					break
				}
				for _, it := range items {
					if it.Err != nil || it.Duplicate {
						res.err = fmt.Errorf("item %+v refused", it)
					}
					res.seqs = append(res.seqs, it.Event.Seq)
				}
				sent += n
			}
			results <- res
		}()
	}
	close(start)
	var all []int64
	for range writers {
		res := <-results
		if res.err != nil {
			f.Fatalf("concurrent Append: %v", res.err)
		}
		if !slices.IsSorted(res.seqs) {
			f.Errorf("one writer's seqs are not increasing: %v", res.seqs)
		}
		all = append(all, res.seqs...)
	}
	slices.Sort(all)
	const total = writers * perWriter
	if !slices.Equal(all, span(1, total)) {
		f.Fatalf("seqs are not exactly 1..%d: %d values, first %v", total, len(all), all[:min(len(all), 10)])
	}
	if n := f.lastSeq(r.ID); n != total {
		f.Errorf("LastSeq = %d, want %d", n, total)
	}
	evs := f.eventsAfter(r.ID, 0, 2*total)
	if !slices.Equal(seqs(evs), span(1, total)) {
		f.Errorf("EventsAfter returned %d events, not 1..%d in order", len(evs), total)
	}
}
