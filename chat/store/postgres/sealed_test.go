package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/escalation/escalationtest"
	"github.com/kindred-health/kindred/chat/store/sealer"
	"github.com/kindred-health/kindred/chat/store/storetestenv"
	"github.com/kindred-health/kindred/chat/storetest"
)

// TestSealed runs the conformance tests of encryption at rest.
func TestSealed(t *testing.T) {
	storetest.RunSealed(t, func(t *testing.T) storetest.SealedDB {
		url := storetestenv.PostgresURL(t)
		schema := storetestenv.FreshSchema(t, url)
		openTest(t, url, schema) // creates the schema
		cfg, err := pgx.ParseConfig(url)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		raw, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close(context.Background()) })
		return storetest.SealedDB{
			Open: func(keys *sealer.Ring) storetest.SealedStore {
				return openTest(t, url, schema, WithKeys(keys))
			},
			Query: func(q string) []string {
				rows, err := raw.Query(context.Background(), q)
				if err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				out, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				return out
			},
			Exec: func(q string) {
				if _, err := raw.Exec(context.Background(), q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			},
		}
	})
}

// TestConformanceSealed runs the whole chat.Store suite with bodies sealed.
func TestConformanceSealed(t *testing.T) {
	s := freshStore(t, WithKeys(storetest.Keys(t, "k1")))
	storetest.Run(t, func(*testing.T) chat.Store { return s })
}

// TestEscalationConformanceSealed runs the escalation suite with every
// snapshot sealed.
func TestEscalationConformanceSealed(t *testing.T) {
	keys := storetest.Keys(t, "k1")
	escalationtest.Run(t, func(t *testing.T) escalation.Store {
		return freshStore(t, WithKeys(keys)).Escalations()
	})
}

// BenchmarkAppendSealed is BenchmarkAppend with every body sealed
// (BENCHMARKS.md compares them).
func BenchmarkAppendSealed(b *testing.B) {
	storetest.BenchmarkAppend(b, func(tb testing.TB) chat.Store {
		return freshStore(tb, WithKeys(storetest.Keys(tb, "k1")))
	})
}
