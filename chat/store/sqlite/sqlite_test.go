package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/storetest"
)

func openTest(tb testing.TB, path string, opts ...Option) *Store {
	tb.Helper()
	s, err := Open(context.Background(), path, opts...)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the shared suite with all subtests in one database,
// as a long-running server would use it.
func TestConformance(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "kindred.db"))
	storetest.Run(t, func(*testing.T) chat.Store { return s })
}

// TestConformanceFresh runs it again with a new file per subtest, so no
// subtest can lean on data another left behind.
func TestConformanceFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	storetest.Run(t, func(t *testing.T) chat.Store {
		return openTest(t, filepath.Join(t.TempDir(), "kindred.db"))
	})
}

func BenchmarkAppend(b *testing.B) {
	storetest.BenchmarkAppend(b, func(tb testing.TB) chat.Store {
		return openTest(tb, filepath.Join(tb.TempDir(), "bench.db"))
	})
}

func BenchmarkOps(b *testing.B) {
	storetest.BenchmarkOps(b, func(tb testing.TB) chat.Store {
		return openTest(tb, filepath.Join(tb.TempDir(), "bench.db"))
	})
}

func TestPragmas(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "p.db"))
	ctx := context.Background()
	check := func(db string, name, want string) {
		t.Helper()
		pool := s.w
		if db == "r" {
			pool = s.r
		}
		var got string
		if err := pool.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		if got != want {
			t.Errorf("%s: PRAGMA %s = %s, want %s", db, name, got, want)
		}
	}
	check("w", "journal_mode", "wal")
	check("w", "synchronous", "2") // FULL
	check("w", "foreign_keys", "1")
	check("w", "busy_timeout", "5000")
	check("w", "secure_delete", "1")
	check("w", "wal_autocheckpoint", "0")
	check("w", "cache_size", strconv.Itoa(-writeCacheKiB))
	check("r", "secure_delete", "1")
	check("r", "journal_mode", "wal")
	check("r", "query_only", "1")
	check("r", "busy_timeout", "5000")
	if _, err := s.r.ExecContext(ctx, "DELETE FROM users"); err == nil {
		t.Error("the read pool accepted a write")
	}
}

// TestReopen checks that data, sequence numbers and the schema version
// survive Close and Open, and that migrations run only once.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kindred.db")
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if s.migrated != len(ms) {
		t.Errorf("first Open applied %d migrations, want %d", s.migrated, len(ms))
	}
	var appliedAt int64
	if err := s.r.QueryRowContext(ctx, "SELECT MAX(applied_at) FROM schema_migrations").Scan(&appliedAt); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertUser(ctx, chat.User{ID: "alice", Name: "Alice"}); err != nil {
		t.Fatal(err)
	}
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "Room", CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	items := []chat.AppendItem{
		{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: "alice", ClientID: "c1", Body: "one"}},
		{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: "alice", ClientID: "c2", Body: "two"}},
		{Event: chat.Event{Conv: room.ID, Kind: chat.EventEdit, Sender: "alice", Target: 1, Body: "one!"}},
	}
	if err := s.Append(ctx, items); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	s = openTest(t, path)
	if s.migrated != 0 {
		t.Errorf("reopen applied %d migrations, want 0", s.migrated)
	}
	var n int
	var at int64
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*), MAX(applied_at) FROM schema_migrations").Scan(&n, &at); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || at != appliedAt {
		t.Errorf("schema_migrations has %d rows (applied_at %d), want %d (applied_at %d)", n, at, len(ms), appliedAt)
	}

	c, err := s.Conversation(ctx, room.ID)
	if err != nil || c.LastSeq != 3 || c.Name != "Room" || c.Members != 1 {
		t.Fatalf("Conversation after reopen = %+v, %v", c, err)
	}
	h, err := s.History(ctx, room.ID, 0, 0, 10)
	if err != nil || len(h) != 2 || h[0].Body != "one!" || h[0].EditedAt == nil || h[1].Body != "two" || h[0].Name != "Alice" {
		t.Fatalf("History after reopen = %+v, %v", h, err)
	}
	if !h[0].Time.Equal(items[0].Event.Time) || h[0].Time.Location() != time.UTC {
		t.Errorf("Time after reopen = %v, want %v in UTC", h[0].Time, items[0].Event.Time)
	}
	// Numbering continues, and idempotency keys are remembered.
	more := []chat.AppendItem{
		{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: "alice", ClientID: "c2", Body: "two"}},
		{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: "alice", ClientID: "c3", Body: "three"}},
	}
	if err := s.Append(ctx, more); err != nil {
		t.Fatal(err)
	}
	if !more[0].Duplicate || more[0].Event.Seq != 2 || more[1].Event.Seq != 4 {
		t.Errorf("after reopen: %+v / %+v, want duplicate of 2 and new Seq 4", more[0], more[1])
	}
}

// TestDeleteErasesText: a deleted message's text must not remain anywhere
// in the events table, including in the edits that preceded the deletion.
func TestDeleteErasesText(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "d.db"))
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "Room", CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	items := []chat.AppendItem{
		{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: "alice", ClientID: "c1", Body: "secret v1"}},
		{Event: chat.Event{Conv: room.ID, Kind: chat.EventEdit, Sender: "alice", Target: 1, Body: "secret v2"}},
		{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: "alice", ClientID: "c2", Body: "kept"}},
		{Event: chat.Event{Conv: room.ID, Kind: chat.EventDelete, Sender: "alice", Target: 1}},
	}
	if err := s.Append(ctx, items); err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Err != nil {
			t.Fatalf("refused: %v", it.Err)
		}
	}
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM events WHERE body LIKE '%secret%'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d event rows still hold the deleted text", n)
	}
	// The documented EventsAfter semantics: rows as stored.
	evs, err := s.EventsAfter(ctx, room.ID, 0, 10)
	if err != nil || len(evs) != 4 {
		t.Fatalf("EventsAfter = %+v, %v", evs, err)
	}
	if !evs[0].Deleted || evs[0].Body != "" || evs[0].EditedAt == nil {
		t.Errorf("message entry = %+v, want its current state (a tombstone)", evs[0])
	}
	if evs[1].Kind != chat.EventEdit || evs[1].Body != "" || evs[1].Target != 1 {
		t.Errorf("edit entry = %+v, want its text erased", evs[1])
	}
	if evs[2].Body != "kept" {
		t.Errorf("unrelated message = %+v", evs[2])
	}
}

// TestAwkwardPath: the path goes into a URI, so characters that mean
// something there must survive.
func TestAwkwardPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir#with?odd%chars")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "db?x=1#frag.sqlite")
	s := openTest(t, path)
	if err := s.UpsertUser(context.Background(), chat.User{ID: "u"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at the given path: %v", err)
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	if _, err := Open(context.Background(), ":memory:"); err == nil {
		t.Error("Open(:memory:) succeeded")
	}
}

// TestSenderMigration: a database made by schema version 23 exports and
// erases a user's earlier messages through event_senders (see
// storetest.RunSenderMigration).
func TestSenderMigration(t *testing.T) {
	storetest.RunSenderMigration(t, legacyAt(23))
}

// TestRoleMigration: a database made by schema version 3 gets room roles
// when a Store opens it (see storetest.RunRoleMigration).
func TestRoleMigration(t *testing.T) {
	storetest.RunRoleMigration(t, legacyAt(3))
}

// TestSettingsMigration: a database made by schema version 4 gets room
// settings and join points when a Store opens it (see
// storetest.RunSettingsMigration).
func TestSettingsMigration(t *testing.T) {
	storetest.RunSettingsMigration(t, legacyAt(4))
}

// migrationsAfter is how many embedded migrations follow version v.
func migrationsAfter(t *testing.T, v int) int {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if m.Version > v {
			n++
		}
	}
	return n
}

// TestAuditLogAppendOnly: the database itself refuses to change or delete
// audit entries, whoever asks.
func TestAuditLogAppendOnly(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, filepath.Join(t.TempDir(), "kindred.db"))
	if err := s.AppendAudit(ctx, chat.AuditEntry{Actor: "ann", Action: "member.add"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit_log SET actor = 'eve'`, `DELETE FROM audit_log`} {
		if _, err := s.w.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", q, err)
		}
	}
	if got, _ := s.Audit(ctx, chat.AuditFilter{}); len(got) != 1 || got[0].Actor != "ann" {
		t.Fatalf("audit log after the attempts: %+v", got)
	}
}

// legacyAt makes a database at schema version v for the migration suites:
// Exec runs statements on it as that version left it, Open opens it with
// a Store, which must apply every later migration.
func legacyAt(v int) func(t *testing.T) storetest.Legacy {
	return func(t *testing.T) storetest.Legacy {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("v%d.db", v))
		old, err := open(t.Context(), path, options{upto: v})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { old.Close() })
		return storetest.Legacy{
			Exec: func(ctx context.Context, q string) error {
				_, err := old.w.ExecContext(ctx, q)
				return err
			},
			Open: func(t *testing.T) chat.Store {
				if err := old.Close(); err != nil {
					t.Fatal(err)
				}
				s := openTest(t, path)
				if want := migrationsAfter(t, v); s.migrated != want {
					t.Errorf("Open applied %d migrations to a version %d database, want %d", s.migrated, v, want)
				}
				return s
			},
		}
	}
}

func TestAuditMigration(t *testing.T) {
	storetest.RunAuditMigration(t, legacyAt(18))
}
