package postgres

import (
	"context"
	"testing"

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
	storetest.RunHideMigration(t, legacyAt(10))
}
