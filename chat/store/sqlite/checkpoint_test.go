package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// withCheckpoints sets the checkpointer's period and WAL bound.
func withCheckpoints(every time.Duration, maxFrames int) Option {
	return func(o *options) { o.checkpointEvery, o.walMaxFrames = every, maxFrames }
}

// scatter writes batches of one message in each of rooms, as the committer
// does under load: every batch changes more than a hundred pages.
func scatter(t *testing.T, s *Store, rooms []string, tag string, batches int) {
	t.Helper()
	ctx := context.Background()
	items := make([]chat.AppendItem, len(rooms))
	for b := range batches {
		for i, r := range rooms {
			items[i] = chat.AppendItem{Event: chat.Event{Conv: r, Kind: chat.EventMessage, Sender: "owner",
				ClientID: fmt.Sprintf("%s%d", tag, b), Body: "a line that fills the pages a little faster than a short one"}}
		}
		if err := s.Append(ctx, items); err != nil {
			t.Fatal(err)
		}
		for i := range items {
			if items[i].Err != nil || items[i].Duplicate || items[i].Event.Seq == 0 {
				t.Fatalf("batch %d item %d: %+v", b, i, items[i])
			}
		}
	}
}

func makeRooms(t *testing.T, s *Store, n int) []string {
	t.Helper()
	rooms := make([]string, n)
	for i := range rooms {
		c, err := s.CreateRoom(context.Background(), chat.Conversation{Name: "r" + strconv.Itoa(i), CreatedBy: "owner"})
		if err != nil {
			t.Fatal(err)
		}
		rooms[i] = c.ID
	}
	return rooms
}

func walSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// walFrames is how many frames the WAL holds for its next reader, after
// copying what it can (a PASSIVE checkpoint on the checkpointer's
// connection: the goroutine is idle in the tests that call this).
func walFrames(t *testing.T, s *Store) int {
	t.Helper()
	var busy, frames, copied int
	if err := s.ck.db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		t.Fatal(err)
	}
	if copied != frames {
		t.Errorf("a PASSIVE checkpoint with nothing running copied %d of %d frames", copied, frames)
	}
	return frames
}

// TestCommitsLeaveCheckpoints checks that a commit no longer checkpoints:
// with the checkpointer idle the WAL keeps every page written; one round
// of it past the bound copies them all and has the next commit start the
// file over, reusing it.
func TestCommitsLeaveCheckpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	s := openTest(t, path, withCheckpoints(time.Hour, 256))
	rooms := makeRooms(t, s, 150)
	scatter(t, s, rooms, "a", 20)
	// SQLite's default would have checkpointed at 1,000 pages, and
	// started the file over: it would not have grown past about 1,500 pages.
	full := walSize(t, path)
	if full < 2000*4096 {
		t.Fatalf("WAL holds %d bytes after 20 scattered batches: a commit checkpointed", full)
	}
	if err := s.ck.once(context.Background()); err != nil {
		t.Fatal(err)
	}
	scatter(t, s, rooms[:2], "b", 1)
	if n := walFrames(t, s); n > 20 {
		t.Fatalf("after a round past the bound and one small commit, the WAL holds %d frames", n)
	}
	if n := walSize(t, path); n != full {
		t.Errorf("the WAL went from %d to %d bytes: want the file reused as it is", full, n)
	}
	if got := history(t, s, rooms[0]); got != 21 {
		t.Errorf("room has %d events, want 21", got)
	}
}

func history(t *testing.T, s *Store, conv string) int {
	t.Helper()
	evs, err := s.History(context.Background(), conv, 0, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// TestCheckpointerBoundsWAL runs the checkpointer's goroutine under
// writes: the WAL stays well under what the same writes leave without it,
// and Close stops it.
func TestCheckpointerBoundsWAL(t *testing.T) {
	unbounded := func() int64 {
		path := filepath.Join(t.TempDir(), "idle.db")
		s := openTest(t, path, withCheckpoints(time.Hour, 64))
		scatter(t, s, makeRooms(t, s, 100), "a", 30)
		return walSize(t, path)
	}()
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(context.Background(), path, withCheckpoints(10*time.Millisecond, 64))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rooms := makeRooms(t, s, 100)
	scatter(t, s, rooms, "a", 30)
	if n := walSize(t, path); n > unbounded/2 {
		t.Errorf("with the checkpointer the WAL grew to %d bytes, without it %d", n, unbounded)
	}
	start := s.ck.runs.Load()
	for s.ck.runs.Load() < start+2 {
		select {
		case <-s.ck.done:
			t.Fatal("the checkpointer stopped")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.ck.done:
	default:
		t.Fatal("Close returned with the checkpointer running")
	}
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Errorf("after Close the WAL is still there (%v)", err)
	}
	s = openTest(t, path)
	if got := history(t, s, rooms[99]); got != 30 {
		t.Errorf("after reopening, the room has %d events, want 30", got)
	}
}
