package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/kindred-health/kindred/chat"
)

// send appends one message and returns the item as Append left it.
func send(t *testing.T, s *Store, conv, user, id string) chat.AppendItem {
	t.Helper()
	items := []chat.AppendItem{{Event: chat.Event{Conv: conv, Kind: chat.EventMessage, Sender: user, ClientID: id, Body: "hello"}}}
	if err := s.Append(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	return items[0]
}

func wantSeq(t *testing.T, it chat.AppendItem, seq int64) {
	t.Helper()
	if it.Err != nil || it.Duplicate || it.Event.Seq != seq {
		t.Fatalf("got seq %d (err %v, duplicate %v), want seq %d", it.Event.Seq, it.Err, it.Duplicate, seq)
	}
}

func wantRefused(t *testing.T, it chat.AppendItem) {
	t.Helper()
	if !errors.Is(it.Err, chat.ErrNotMember) {
		t.Fatalf("got seq %d, err %v: want the write refused as from a non-member", it.Event.Seq, it.Err)
	}
}

// TestRevokedBetweenWrites checks that Append never takes a membership it
// remembers for a current one once it is gone: each way of ending one is
// followed by a write that must be refused, after a write that warmed the
// memory.
func TestRevokedBetweenWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	s := openTest(t, path)
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "r", CreatedBy: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	join := func(u string) {
		t.Helper()
		if err := s.Join(ctx, room.ID, u, 0); err != nil {
			t.Fatal(err)
		}
	}
	seq := int64(0)
	warm := func(u string) {
		t.Helper()
		seq++
		wantSeq(t, send(t, s, room.ID, u, "w"+u+string(rune('a'+seq))), seq)
	}

	join("leaver")
	warm("leaver")
	if err := s.Leave(ctx, room.ID, "leaver"); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, send(t, s, room.ID, "leaver", "after-leave"))

	join("banned")
	warm("banned")
	if err := s.Ban(ctx, room.ID, "banned", "owner", 0); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, send(t, s, room.ID, "banned", "after-ban"))

	join("erased")
	warm("erased")
	if _, err := s.EraseUser(ctx, "erased"); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, send(t, s, room.ID, "erased", "after-erase"))

	// Another process on the file: its commits are not this Store's.
	join("elsewhere")
	warm("elsewhere")
	other := openTest(t, path)
	if err := other.Leave(ctx, room.ID, "elsewhere"); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, send(t, s, room.ID, "elsewhere", "after-other-leave"))
	// ... and its appends move last_seq on: no number is handed out twice.
	join("both")
	warm("both")
	seq++
	wantSeq(t, send(t, other, room.ID, "both", "from-other"), seq)
	seq++
	wantSeq(t, send(t, s, room.ID, "both", "from-here"), seq)
}

// TestWriteInFlightDisablesCache checks the one window the counts cannot
// close by themselves: a write outside a transaction commits as it runs,
// before it is counted, so while one is in flight Append remembers
// nothing.
func TestWriteInFlightDisablesCache(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "k.db"))
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "r", CreatedBy: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	wantSeq(t, send(t, s, room.ID, "owner", "a"), 1)
	if len(s.cache.members) == 0 {
		t.Fatal("Append remembered nothing")
	}
	// A write with RETURNING, run but not yet read: it has not counted.
	s.wgen.inflight.Add(1)
	wantSeq(t, send(t, s, room.ID, "owner", "b"), 2)
	if s.cache.members != nil {
		t.Error("Append used its memory with a write in flight")
	}
	s.wgen.done()
	wantSeq(t, send(t, s, room.ID, "owner", "c"), 3)
	if len(s.cache.members) == 0 {
		t.Error("Append remembered nothing once the write had ended")
	}
}

// TestReopenNumbersOn checks that a reopened store numbers on from what
// was committed, not from an empty memory.
func TestReopenNumbersOn(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "r", CreatedBy: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		wantSeq(t, send(t, s, room.ID, "owner", string(rune('a'+i))), int64(i+1))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path)
	wantSeq(t, send(t, s, room.ID, "owner", "d"), 4)
	c, err := s.Conversation(ctx, room.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.LastSeq != 4 {
		t.Errorf("conversation's last_seq is %d, want 4", c.LastSeq)
	}
}
