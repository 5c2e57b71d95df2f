package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kindred-health/kindred/chat"
)

// roundTrips counts request/response exchanges on the connections it
// dials: a read that follows a write is one round trip.
type roundTrips struct{ n atomic.Int64 }

type countingConn struct {
	net.Conn
	rt      *roundTrips
	written atomic.Bool
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.written.Store(true)
	return c.Conn.Write(p)
}

func (c *countingConn) Read(p []byte) (int, error) {
	if c.written.Swap(false) {
		c.rt.n.Add(1)
	}
	return c.Conn.Read(p)
}

// TestAppendRoundTrips: a batch costs the same two round trips whatever
// its size and content.
func TestAppendRoundTrips(t *testing.T) {
	rt := &roundTrips{}
	s := freshStore(t, func(o *options) {
		o.poolHook = func(cfg *pgxpool.Config) {
			cfg.MaxConns = 1 // one connection, warmed up below
			cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
			dial := cfg.ConnConfig.DialFunc
			cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dial(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &countingConn{Conn: c, rt: rt}, nil
			}
		}
	})
	ctx := t.Context()
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "Room", CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateRoom(ctx, chat.Conversation{Name: "Other", CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var live []int64 // messages of room that are not deleted
	batch := func(size int, mixed bool) []chat.AppendItem {
		items := make([]chat.AppendItem, size)
		for i := range items {
			n++
			conv := room.ID
			if mixed && i%2 == 1 {
				conv = other.ID
			}
			items[i] = msgItem(conv, "alice", fmt.Sprint("c", n), "hello")
		}
		if mixed {
			// An edit and a delete of stored messages, a duplicate and
			// a refusal too.
			items[1] = chat.AppendItem{Event: chat.Event{Conv: room.ID, Kind: chat.EventEdit, Sender: "alice", Target: live[0], Body: "edited"}}
			items[2] = chat.AppendItem{Event: chat.Event{Conv: room.ID, Kind: chat.EventDelete, Sender: "alice", Target: live[1]}}
			items[3] = msgItem(room.ID, "alice", "c1", "again")
			items[4] = msgItem(room.ID, "mallory", "m1", "let me in")
			live = live[2:]
		}
		return items
	}
	measure := func(name string, items []chat.AppendItem) int64 {
		t.Helper()
		before := rt.n.Load()
		if err := s.Append(ctx, items); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := rt.n.Load() - before
		t.Logf("%s: %d round trips", name, got)
		for _, it := range items {
			if it.Event.Conv == room.ID && it.Event.Kind == chat.EventMessage && it.Err == nil && !it.Duplicate {
				live = append(live, it.Event.Seq)
			}
		}
		return got
	}
	// Warm up: the first use of each statement on a connection prepares
	// it (one more round trip, once per connection).
	measure("cold batch of 8", batch(8, false))
	measure("cold batch of 64 with edits", batch(64, true))
	for _, tc := range []struct {
		name  string
		items []chat.AppendItem
	}{
		{"batch of 1", batch(1, false)},
		{"batch of 64", batch(64, false)},
		{"batch of 64, two rooms, edit, delete, duplicate, refusal", batch(64, true)},
		{"batch of 256", batch(256, false)},
	} {
		if got := measure(tc.name, tc.items); got > 2 {
			t.Errorf("%s took %d round trips, want 2", tc.name, got)
		}
		if it := tc.items; len(it) > 4 && it[1].Event.Kind == chat.EventEdit {
			if it[1].Err != nil || it[2].Err != nil || !it[3].Duplicate || !errors.Is(it[4].Err, chat.ErrNotMember) {
				t.Errorf("%s: outcomes %v, %v, duplicate %v, %v", tc.name, it[1].Err, it[2].Err, it[3].Duplicate, it[4].Err)
			}
		}
	}
}
