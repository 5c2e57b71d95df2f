package sqlite

import (
	"testing"

	"github.com/kindred-health/kindred/chat/storetest"
)

// TestVideoMigration: a database made by version 14 gets video session
// records (see storetest.RunVideoMigration).
func TestVideoMigration(t *testing.T) {
	storetest.RunVideoMigration(t, legacyAt(14))
}
