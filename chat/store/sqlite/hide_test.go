package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/storetest"
)

// TestHideErasesText: a hidden message's text is gone from the tables.
func TestHideErasesText(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "h.db"))
	storetest.RunHideErasesText(t, s, func(ctx context.Context, q string) (n int64, err error) {
		err = s.r.QueryRowContext(ctx, q).Scan(&n)
		return n, err
	})
}

// TestHideMigration: a database made by schema version 10 keeps its
// events through the rebuild of the events table (see
// storetest.RunHideMigration).
func TestHideMigration(t *testing.T) {
	storetest.RunHideMigration(t, func(t *testing.T) storetest.Legacy {
		path := filepath.Join(t.TempDir(), "v10.db")
		old, err := open(t.Context(), path, 10)
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
				if want := migrationsAfter(t, 10); s.migrated != want {
					t.Errorf("Open applied %d migrations to a version 10 database, want %d", s.migrated, want)
				}
				return s
			},
		}
	})
}
