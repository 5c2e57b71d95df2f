package sqlite

import (
	"context"
	"path/filepath"
	"testing"

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
	storetest.RunHideMigration(t, legacyAt(10))
}
