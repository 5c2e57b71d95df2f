package escalation_test

import (
	"testing"

	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/escalation/escalationtest"
)

func TestMemoryStoreConformance(t *testing.T) {
	escalationtest.Run(t, func(*testing.T) escalation.Store { return escalation.NewMemoryStore() })
}
