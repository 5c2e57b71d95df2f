package postgres

import (
	"testing"

	"github.com/kindred-health/kindred/chat/storetest"
)

func TestEscalationRetention(t *testing.T) {
	s := freshStore(t)
	storetest.RunEscalationRetention(t, s, s.Escalations())
}
