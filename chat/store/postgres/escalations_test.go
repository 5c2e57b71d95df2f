package postgres

import (
	"sync"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/escalation/escalationtest"
	"github.com/kindred-health/kindred/chat/store/storetestenv"
)

// TestEscalationConformance runs the escalation.Store suite with a schema
// of its own per subtest (the suite needs an empty store each time).
func TestEscalationConformance(t *testing.T) {
	escalationtest.Run(t, func(t *testing.T) escalation.Store { return freshStore(t).Escalations() })
}

// TestEscalationsTwoNodes: two Stores with pools of their own over one
// schema (two nodes) race for the same leases, update the same escalation
// and claim the same outbox; each lease goes to one node, no update is
// lost, and no delivery is claimed twice.
func TestEscalationsTwoNodes(t *testing.T) {
	url := storetestenv.PostgresURL(t)
	schema := storetestenv.FreshSchema(t, url)
	nodes := []*EscalationStore{openTest(t, url, schema).Escalations(), openTest(t, url, schema).Escalations()}
	ctx := t.Context()
	t0 := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)

	const n = 20
	for i := range n {
		e := &escalation.Escalation{ID: escalation.NewID("esc_"), Subject: "u1", Source: escalation.SourceConcern,
			ReportedBy: "u2", Severity: crisis.High, Status: escalation.StatusOpen, CreatedAt: t0, AckDeadline: t0,
			Outbox: []escalation.Delivery{{EscalationID: "x", Event: "escalation.created", Body: []byte(`{}`), NextAttempt: t0, CreatedAt: t0}}}
		if _, _, err := nodes[i%2].Create(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	due, err := nodes[0].Due(ctx, t0, 0)
	if err != nil || len(due) != n {
		t.Fatalf("Due = %d, %v; want %d", len(due), err, n)
	}
	var mu sync.Mutex
	leases := map[string]int{}
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for i, node := range nodes {
		wg.Go(func() {
			for _, e := range due {
				ok, err := node.TryLease(ctx, e.ID, []string{"a", "b"}[i], t0, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := node.Update(ctx, e.ID, func(e *escalation.Escalation) error {
					e.Tier++
					e.Timeline = append(e.Timeline, escalation.Step{At: t0, Kind: escalation.StepNote, Actor: "x"})
					return nil
				}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if ok {
					leases[e.ID]++
				}
				mu.Unlock()
			}
			for range 3 {
				ds, err := node.DueWebhooks(ctx, t0, 5)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, d := range ds {
					claimed[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, e := range due {
		if leases[e.ID] != 1 {
			t.Errorf("%s leased %d times, want once", e.ID, leases[e.ID])
		}
		g, err := nodes[0].Get(ctx, e.ID)
		if err != nil || g.Tier != 2 || len(g.Timeline) != 2 {
			t.Errorf("%s after two nodes' updates: tier %d, %d steps, %v; want 2 and 2", e.ID, g.Tier, len(g.Timeline), err)
		}
	}
	if len(claimed) != n {
		t.Errorf("claimed %d distinct deliveries, want %d", len(claimed), n)
	}
	for id, c := range claimed {
		if c != 1 {
			t.Errorf("delivery %s claimed %d times", id, c)
		}
	}
}
