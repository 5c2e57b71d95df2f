package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/escalation/escalationtest"
	"github.com/kindred-health/kindred/chat/store/sealer"
	"github.com/kindred-health/kindred/chat/storetest"
)

// TestSealed runs the conformance tests of encryption at rest.
func TestSealed(t *testing.T) {
	storetest.RunSealed(t, func(t *testing.T) storetest.SealedDB {
		path := filepath.Join(t.TempDir(), "sealed.db")
		openTest(t, path) // creates the schema
		raw, err := sql.Open("sqlite", dsn(path, false))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return storetest.SealedDB{
			Open: func(keys *sealer.Ring) storetest.SealedStore {
				return openTest(t, path, WithKeys(keys))
			},
			Query: func(q string) []string { return rawStrings(t, raw, q) },
			Exec: func(q string) {
				if _, err := raw.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			},
		}
	})
}

// TestEscalationConformanceSealed runs the escalation suite with every
// snapshot sealed.
func TestEscalationConformanceSealed(t *testing.T) {
	escalationtest.Run(t, func(t *testing.T) escalation.Store {
		return openTest(t, filepath.Join(t.TempDir(), "esc.db"), WithKeys(storetest.Keys(t, "k1"))).Escalations()
	})
}

// rawStrings returns the first column of every row of q, as text.
func rawStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestConformanceSealed runs the whole chat.Store suite with bodies sealed.
func TestConformanceSealed(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "kindred.db"), WithKeys(storetest.Keys(t, "k1")))
	storetest.Run(t, func(*testing.T) chat.Store { return s })
}

// BenchmarkAppendSealed is BenchmarkAppend with every body sealed
// (BENCHMARKS.md compares them).
func BenchmarkAppendSealed(b *testing.B) {
	storetest.BenchmarkAppend(b, func(tb testing.TB) chat.Store {
		return openTest(tb, filepath.Join(tb.TempDir(), "bench.db"), WithKeys(storetest.Keys(tb, "k1")))
	})
}
