package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/kindred-health/kindred/chat"
)

// cancelRooms makes n rooms with one member each and returns their ids.
func cancelRooms(t *testing.T, s *Store, n int) []string {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		c, err := s.CreateRoom(ctx, chat.Conversation{Name: fmt.Sprint("room ", i), CreatedBy: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = c.ID
	}
	return ids
}

// scattered is a batch of one message in each room, with client ids
// starting at tag.
func scattered(rooms []string, tag string) []chat.AppendItem {
	items := make([]chat.AppendItem, len(rooms))
	for i, r := range rooms {
		items[i] = chat.AppendItem{Event: chat.Event{Conv: r, Kind: chat.EventMessage, Sender: "alice",
			ClientID: fmt.Sprint(tag, i), Body: "hello"}}
	}
	return items
}

// TestAppendCanceledMidBatch cancels the caller's context after each item
// of a batch in turn (Append's statements do not watch it themselves):
// every such Append must fail with the context's error and store nothing,
// and the store must carry on.
func TestAppendCanceledMidBatch(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "c.db"))
	rooms := cancelRooms(t, s, 6)
	for k := range rooms {
		ctx, cancel := context.WithCancel(context.Background())
		s.afterApply = func(i int) {
			if i == k {
				cancel()
			}
		}
		err := s.Append(ctx, scattered(rooms, fmt.Sprint("k", k, "-")))
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled after item %d: Append returned %v, want context.Canceled", k, err)
		}
		for _, r := range rooms {
			if evs, err := s.EventsAfter(context.Background(), r, 0, 10); err != nil || len(evs) != 0 {
				t.Fatalf("canceled after item %d: room %s holds %d events (err %v), want none", k, r, len(evs), err)
			}
		}
	}
	s.afterApply = nil
	items := scattered(rooms, "after-")
	if err := s.Append(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if it.Err != nil || it.Event.Seq != 1 {
			t.Fatalf("item %d after the canceled batches: seq %d, err %v; want seq 1", i, it.Event.Seq, it.Err)
		}
	}
}

// countCtx counts how often Append consults its context.
type countCtx struct {
	context.Context
	n atomic.Int64
}

func (c *countCtx) Done() <-chan struct{} { c.n.Add(1); return c.Context.Done() }
func (c *countCtx) Err() error            { c.n.Add(1); return c.Context.Err() }

// TestAppendWatchesContextPerBatch checks that Append consults a context
// that can end a bounded number of times per batch, not per message: the
// SQLite driver watches such a context with a goroutine per statement,
// which cost a scattered batch more than its statements' allocations
// (BENCHMARKS.md). A batch of 64 messages in 64 rooms must consult it
// about as often as a batch of one.
func TestAppendWatchesContextPerBatch(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "w.db"))
	rooms := cancelRooms(t, s, 64)
	consulted := func(rooms []string, tag string) int64 {
		parent, cancel := context.WithCancel(context.Background())
		defer cancel()
		ctx := &countCtx{Context: parent}
		if err := s.Append(ctx, scattered(rooms, tag)); err != nil {
			t.Fatal(err)
		}
		return ctx.n.Load()
	}
	// Warm Append's memory of memberships first, as a running node has.
	consulted(rooms, "warm-")
	one, many := consulted(rooms[:1], "one-"), consulted(rooms, "many-")
	if many-one >= 8 {
		t.Fatalf("Append consulted its context %d times for 64 messages and %d for one: it is watched per message", many, one)
	}
}
