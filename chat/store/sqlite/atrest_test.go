package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/storetest"
)

// fileBytes returns the database file and its -wal, as they are on disk.
func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestSecureDelete: text replaced by an edit, and a deleted message's text,
// are gone from the database file and its WAL once a checkpoint has reset
// the WAL; the text in use is there (so the scan does find text). Without
// secure_delete the freed overflow pages keep the old text: this fails.
func TestSecureDelete(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sd.db")
	s := openTest(t, path)
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "Room", CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	send := func(it chat.AppendItem) {
		t.Helper()
		items := []chat.AppendItem{it}
		if err := s.Append(ctx, items); err != nil || items[0].Err != nil {
			t.Fatalf("Append: %v %v", err, items[0].Err)
		}
	}
	// Long texts spill into overflow pages, which a delete frees whole.
	long := strings.Repeat(" and more", 1000)
	send(chat.AppendItem{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: "alice", ClientID: "c1", Body: "original-quokka-7731" + long}})
	send(chat.AppendItem{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: "alice", ClientID: "c2", Body: "deleted-narwhal-4410" + long}})
	// Rows after them, so that their cells are not at the edge of the
	// page's free space, where SQLite would reuse them at once.
	for i := range 5 {
		send(chat.AppendItem{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: "alice", ClientID: fmt.Sprint("f", i), Body: "filler"}})
	}
	send(chat.AppendItem{Event: chat.Event{Conv: room.ID, Kind: chat.EventEdit, Sender: "alice", Target: 1, Body: "current-pangolin-9902, a longer text than the one it replaces"}})
	send(chat.AppendItem{Event: chat.Event{Conv: room.ID, Kind: chat.EventDelete, Sender: "alice", Target: 2}})
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	raw := fileBytes(t, path)
	if !bytes.Contains(raw, []byte("current-pangolin-9902")) {
		t.Fatal("the text in use is not in the file: the scan cannot find text")
	}
	for _, gone := range []string{"original-quokka-7731", "deleted-narwhal-4410"} {
		if bytes.Contains(raw, []byte(gone)) {
			t.Errorf("%q is still in the database file", gone)
		}
	}
}

// TestSealedFile: with keys, no message text is in the files at all.
func TestSealedFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sealed.db")
	s := openTest(t, path, WithKeys(storetest.Keys(t, "k1")))
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "Room", CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	items := []chat.AppendItem{{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: "alice", ClientID: "c1", Body: "sealed-axolotl-5521"}}}
	if err := s.Append(ctx, items); err != nil || items[0].Err != nil {
		t.Fatalf("Append: %v %v", err, items[0].Err)
	}
	raw := fileBytes(t, path)
	if !bytes.Contains(raw, []byte(room.ID)) {
		t.Fatal("the room id is not in the files: the scan cannot find text")
	}
	if bytes.Contains(raw, []byte("sealed-axolotl-5521")) {
		t.Error("the message text is in the files in clear")
	}
}

// TestFileModes: the database and its -wal and -shm are 0600 whatever the
// umask, and a file an older version left 0644 is made 0600.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.db")
	legacy := filepath.Join(dir, "legacy.db")
	for _, p := range []string{legacy, legacy + "-wal", legacy + "-shm"} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{fresh, legacy} {
		s := openTest(t, path)
		if err := s.UpsertUser(context.Background(), chat.User{ID: "u"}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("%s has mode %o, want 600", filepath.Base(p), m)
			}
		}
	}
}
