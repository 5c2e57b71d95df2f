package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/escalation/escalationtest"
)

// TestEscalationConformance runs the escalation.Store suite with a fresh
// database file per subtest (the suite needs an empty store each time).
func TestEscalationConformance(t *testing.T) {
	escalationtest.Run(t, func(t *testing.T) escalation.Store {
		return openTest(t, filepath.Join(t.TempDir(), "kindred.db")).Escalations()
	})
}

// TestEscalationsSurviveReopen: an open escalation, its timeline, its lease
// and the webhook outbox are on disk, so a restarted node (or another
// process on the file) picks up exactly where the last one stopped.
func TestEscalationsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kindred.db")
	t0 := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	es := s.Escalations()
	e := &escalation.Escalation{ID: "esc_keep", Subject: "u1", Source: escalation.SourceConcern, ReportedBy: "u2",
		Severity: crisis.Imminent, Status: escalation.StatusOpen, CreatedAt: t0, AckDeadline: t0.Add(time.Minute),
		Timeline: []escalation.Step{{At: t0, Kind: escalation.StepCreated, Actor: "u2"}},
		Outbox:   []escalation.Delivery{{ID: "whd_keep", EscalationID: "esc_keep", Event: "escalation.created", Body: []byte(`{}`), NextAttempt: t0, CreatedAt: t0}}}
	if _, _, err := es.Create(ctx, e); err != nil {
		t.Fatal(err)
	}
	if ok, err := es.TryLease(ctx, "esc_keep", "node-a", t0, 10*time.Second); err != nil || !ok {
		t.Fatalf("TryLease = %v, %v", ok, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openTest(t, path)
	if s2.migrated != 0 {
		t.Errorf("reopen applied %d migrations, want 0", s2.migrated)
	}
	es2 := s2.Escalations()
	// Node a "died" holding the lease: node b cannot take it before it
	// expires, and can after.
	if due, err := es2.Due(ctx, t0.Add(time.Minute), 10); err != nil || len(due) != 1 {
		t.Fatalf("Due after reopen = %v, %v; want esc_keep", due, err)
	}
	if ok, _ := es2.TryLease(ctx, "esc_keep", "node-b", t0.Add(9*time.Second), 10*time.Second); ok {
		t.Fatal("node b took a live lease")
	}
	if ok, _ := es2.TryLease(ctx, "esc_keep", "node-b", t0.Add(10*time.Second), 10*time.Second); !ok {
		t.Fatal("node b could not take an expired lease")
	}
	got, err := es2.Get(ctx, "esc_keep")
	if err != nil || len(got.Timeline) != 1 || got.LeaseOwner != "node-b" {
		t.Fatalf("Get after reopen = %+v, %v", got, err)
	}
	if ds, err := es2.DueWebhooks(ctx, t0, 10); err != nil || len(ds) != 1 {
		t.Fatalf("outbox after reopen = %v, %v", ds, err)
	}
}
