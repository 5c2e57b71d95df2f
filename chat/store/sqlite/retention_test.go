package sqlite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/storetest"
)

func TestEscalationRetention(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "kindred.db"))
	storetest.RunEscalationRetention(t, s, s.Escalations())
}

// onDisk reports whether text is in the database file or its WAL.
func onDisk(t *testing.T, path, text string) bool {
	t.Helper()
	found := false
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		found = found || bytes.Contains(b, []byte(text))
	}
	return found
}

// TestErasedTextLeavesTheFile: after an erasure and after a purge, each
// followed by a checkpoint, the text removed is in neither the database
// file nor its WAL, though it was in one of them before.
func TestErasedTextLeavesTheFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kindred.db")
	s := openTest(t, path)
	for _, u := range []string{"alice", "bob"} {
		if err := s.UpsertUser(ctx, chat.User{ID: u, Name: u}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.CreateRoom(ctx, chat.Conversation{Name: "room", CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Join(ctx, r.ID, "bob", 0); err != nil {
		t.Fatal(err)
	}
	dm, err := s.OpenDM(ctx, "alice", "bob")
	if err != nil {
		t.Fatal(err)
	}
	kept, err := s.CreateRoom(ctx, chat.Conversation{Name: "kept a day", CreatedBy: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-72 * time.Hour)
	items := []chat.AppendItem{
		{Event: chat.Event{Conv: r.ID, Kind: chat.EventMessage, Sender: "alice", ClientID: "a1", Body: "CANARY-erased-room"}},
		{Event: chat.Event{Conv: dm.ID, Kind: chat.EventMessage, Sender: "alice", ClientID: "a2", Body: "CANARY-erased-dm"}},
		{Event: chat.Event{Conv: kept.ID, Kind: chat.EventMessage, Sender: "bob", ClientID: "b1", Body: "CANARY-purged", Time: old}},
		{Event: chat.Event{Conv: kept.ID, Kind: chat.EventMessage, Sender: "bob", ClientID: "b2", Body: "CANARY-recent"}},
	}
	edit := chat.AppendItem{Event: chat.Event{Conv: r.ID, Kind: chat.EventEdit, Sender: "alice", Target: 1, Body: "CANARY-erased-edit"}}
	for _, batch := range [][]chat.AppendItem{items, {edit}} { // the edit overwrites the first body: in the WAL only
		if err := s.Append(ctx, batch); err != nil || batch[0].Err != nil {
			t.Fatal(err, batch[0].Err)
		}
	}
	canaries := []string{"CANARY-erased-room", "CANARY-erased-dm", "CANARY-erased-edit", "CANARY-purged"}
	for _, c := range canaries {
		if !onDisk(t, path, c) {
			t.Fatalf("%s is not on disk before the erasure: the scan would prove nothing", c)
		}
	}
	if _, err := s.EraseUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	days := 1
	if err := s.SetRoomSettings(ctx, kept.ID, chat.RoomSettings{RetainDays: &days}); err != nil {
		t.Fatal(err)
	}
	if res, err := s.PurgeMessages(ctx, chat.PurgeRequest{Now: time.Now(), Limit: 100}); err != nil || res.Messages != 1 {
		t.Fatalf("PurgeMessages = %+v, %v; want bob's old message", res, err)
	}
	if err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range canaries {
		if onDisk(t, path, c) {
			t.Errorf("%s is still in the database file or its WAL after the erasure, the purge and a checkpoint", c)
		}
	}
	if !onDisk(t, path, "CANARY-recent") {
		t.Error("the recent message is gone too: the scan cannot tell")
	}
}
