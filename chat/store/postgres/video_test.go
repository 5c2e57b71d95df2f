package postgres

import (
	"testing"

	"github.com/kindred-health/kindred/chat/store/storetestenv"
	"github.com/kindred-health/kindred/chat/storetest"
)

// TestVideoClaimTwoNodes: claims for one conversation's video session
// raced from two Stores (two nodes' pools) on one schema: exactly one
// wins, for a new record and to take over a lapsed one.
func TestVideoClaimTwoNodes(t *testing.T) {
	url := storetestenv.PostgresURL(t)
	schema := storetestenv.FreshSchema(t, url)
	storetest.RunVideoClaimRace(t, openTest(t, url, schema), openTest(t, url, schema))
}

// TestVideoMigration: a schema made by version 14 gets video session
// records (see storetest.RunVideoMigration).
func TestVideoMigration(t *testing.T) {
	storetest.RunVideoMigration(t, legacyAt(14))
}
