package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/storetestenv"
	"github.com/kindred-health/kindred/chat/storetest"
)

// openTest opens a Store on schema (made by storetestenv.FreshSchema) and
// closes it when the test ends.
func openTest(tb testing.TB, url, schema string, opts ...Option) *Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, url, append([]Option{WithSchema(schema)}, opts...)...)
	if err != nil {
		tb.Fatalf("Open(schema %s): %v", schema, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// freshStore opens a Store on a schema of its own.
func freshStore(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	url := storetestenv.PostgresURL(tb)
	return openTest(tb, url, storetestenv.FreshSchema(tb, url), opts...)
}

// TestConformance runs the shared suite with all subtests in one schema, as
// a long-running deployment would use it.
func TestConformance(t *testing.T) {
	s := freshStore(t)
	storetest.Run(t, func(*testing.T) chat.Store { return s })
}

// TestConformanceTwoNodes runs the suite again with every subtest on a
// Store of its own over one shared schema, as nodes of a cluster are.
func TestConformanceTwoNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	url := storetestenv.PostgresURL(t)
	schema := storetestenv.FreshSchema(t, url)
	storetest.Run(t, func(t *testing.T) chat.Store { return openTest(t, url, schema) })
}

func BenchmarkAppend(b *testing.B) {
	storetest.BenchmarkAppend(b, func(tb testing.TB) chat.Store { return freshStore(tb) })
}

func BenchmarkOps(b *testing.B) {
	storetest.BenchmarkOps(b, func(tb testing.TB) chat.Store { return freshStore(tb) })
}

func msgItem(conv, sender, clientID, body string) chat.AppendItem {
	return chat.AppendItem{Event: chat.Event{Conv: conv, Kind: chat.EventMessage, Sender: sender, ClientID: clientID, Body: body}}
}

// TestMigrationsRace: nodes starting at once against a schema that does
// not exist yet create it and apply each migration exactly once.
func TestMigrationsRace(t *testing.T) {
	url := storetestenv.PostgresURL(t)
	schema := storetestenv.FreshSchema(t, url)
	// Drop what FreshSchema made (it still drops it at the end), so that
	// the Opens race to create the schema too.
	s0 := openTest(t, url, schema)
	if _, err := s0.pool.Exec(t.Context(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
		t.Fatal(err)
	}
	s0.Close()

	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	const nodes = 6
	stores := make([]*Store, nodes)
	errs := make([]error, nodes)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = Open(t.Context(), url, WithSchema(schema))
		})
	}
	close(start)
	wg.Wait()
	applied := 0
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("Open #%d: %v", i, errs[i])
		}
		t.Cleanup(func() { s.Close() })
		applied += s.migrated
	}
	if applied != len(ms) {
		t.Errorf("racing Opens applied %d migrations in all, want %d", applied, len(ms))
	}
	var n int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
	}
	// The tables are in the schema, not wherever search_path would
	// otherwise have put them.
	var where string
	if err := stores[0].pool.QueryRow(t.Context(),
		`SELECT table_schema FROM information_schema.tables WHERE table_name = 'events' AND table_schema = $1`,
		schema).Scan(&where); err != nil {
		t.Errorf("events table not in schema %s: %v", schema, err)
	}
}

// TestReopen checks that data, sequence numbers, idempotency keys and the
// schema version survive Close and Open.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	url := storetestenv.PostgresURL(t)
	schema := storetestenv.FreshSchema(t, url)
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}

	s := openTest(t, url, schema)
	if s.migrated != len(ms) {
		t.Errorf("first Open applied %d migrations, want %d", s.migrated, len(ms))
	}
	if err := s.UpsertUser(ctx, chat.User{ID: "alice", Name: "Alice"}); err != nil {
		t.Fatal(err)
	}
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "Room", CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	items := []chat.AppendItem{
		msgItem(room.ID, "alice", "c1", "one"),
		msgItem(room.ID, "alice", "c2", "two"),
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

	s = openTest(t, url, schema)
	if s.migrated != 0 {
		t.Errorf("reopen applied %d migrations, want 0", s.migrated)
	}
	c, err := s.Conversation(ctx, room.ID)
	if err != nil || c.LastSeq != 3 || c.Name != "Room" || c.Members != 1 || !c.CreatedAt.Equal(room.CreatedAt) {
		t.Fatalf("Conversation after reopen = %+v, %v", c, err)
	}
	h, err := s.History(ctx, room.ID, 0, 0, 10)
	if err != nil || len(h) != 2 || h[0].Body != "one!" || h[0].EditedAt == nil || h[1].Body != "two" || h[0].Name != "Alice" {
		t.Fatalf("History after reopen = %+v, %v", h, err)
	}
	if !h[0].Time.Equal(items[0].Event.Time) || h[0].Time.Location() != time.UTC {
		t.Errorf("Time after reopen = %v, want %v in UTC", h[0].Time, items[0].Event.Time)
	}
	if !h[0].EditedAt.Equal(items[2].Event.Time) {
		t.Errorf("EditedAt = %v, want the edit's time %v", h[0].EditedAt, items[2].Event.Time)
	}
	more := []chat.AppendItem{msgItem(room.ID, "alice", "c2", "two"), msgItem(room.ID, "alice", "c3", "three")}
	if err := s.Append(ctx, more); err != nil {
		t.Fatal(err)
	}
	if !more[0].Duplicate || more[0].Event.Seq != 2 || more[1].Event.Seq != 4 {
		t.Errorf("after reopen: %+v / %+v, want duplicate of 2 and new Seq 4", more[0], more[1])
	}
}

// TestRoleMigration: a schema made by version 3 gets room roles when a
// Store opens it (see storetest.RunRoleMigration).
func TestRoleMigration(t *testing.T) {
	storetest.RunRoleMigration(t, legacyAt(3))
}

// TestSettingsMigration: a schema made by version 4 gets room settings and
// join points when a Store opens it (see storetest.RunSettingsMigration).
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

// legacyAt makes a schema at version v for the migration suites: Exec runs
// statements on it as that version left it, Open opens it with a Store,
// which must apply every later migration.
func legacyAt(v int) func(t *testing.T) storetest.Legacy {
	return func(t *testing.T) storetest.Legacy {
		url := storetestenv.PostgresURL(t)
		schema := storetestenv.FreshSchema(t, url)
		old := openTest(t, url, schema, func(o *options) { o.upto = v })
		return storetest.Legacy{
			Exec: func(ctx context.Context, q string) error {
				_, err := old.pool.Exec(ctx, q)
				return err
			},
			Open: func(t *testing.T) chat.Store {
				old.Close()
				s := openTest(t, url, schema)
				if want := migrationsAfter(t, v); s.migrated != want {
					t.Errorf("Open applied %d migrations to a version %d schema, want %d", s.migrated, v, want)
				}
				return s
			},
		}
	}
}

// TestSenderMigration: a database made by schema version 23 exports and
// erases a user's earlier messages through event_senders (see
// storetest.RunSenderMigration).
func TestSenderMigration(t *testing.T) {
	storetest.RunSenderMigration(t, legacyAt(23))
}

func TestAuditMigration(t *testing.T) {
	storetest.RunAuditMigration(t, legacyAt(18))
}
