package postgres

import (
	"context"
	"testing"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/storetestenv"
	"github.com/kindred-health/kindred/chat/storetest"
)

// TestHideErasesText: a hidden message's text is gone from the tables.
func TestHideErasesText(t *testing.T) {
	s := freshStore(t)
	storetest.RunHideErasesText(t, s, func(ctx context.Context, q string) (n int64, err error) {
		err = s.pool.QueryRow(ctx, q).Scan(&n)
		return n, err
	})
}

// TestHideMigration: a schema made by version 10 keeps its events and
// takes hides (see storetest.RunHideMigration).
func TestHideMigration(t *testing.T) {
	storetest.RunHideMigration(t, func(t *testing.T) storetest.Legacy {
		url := storetestenv.PostgresURL(t)
		schema := storetestenv.FreshSchema(t, url)
		old := openTest(t, url, schema, func(o *options) { o.upto = 10 })
		return storetest.Legacy{
			Exec: func(ctx context.Context, q string) error {
				_, err := old.pool.Exec(ctx, q)
				return err
			},
			Open: func(t *testing.T) chat.Store {
				old.Close()
				s := openTest(t, url, schema)
				if want := migrationsAfter(t, 10); s.migrated != want {
					t.Errorf("Open applied %d migrations to a version 10 schema, want %d", s.migrated, want)
				}
				return s
			},
		}
	})
}
