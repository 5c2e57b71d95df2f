package server_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/postgres"
	"github.com/kindred-health/kindred/chat/store/sqlite"
)

// benchCrisisFeed sends b.N crisis messages, one at a time, and measures
// for each the time from the send to the page arriving at the on-call
// supervisor's WebSocket; it reports p50 and p99.
func benchCrisisFeed(b *testing.B, peer, supervisor *client, room string) {
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		peer.send(map[string]any{"type": "send", "conv": room, "id": fmt.Sprint("c", i),
			"body": fmt.Sprintf("I have the pills and I'm taking them tonight (%d)", i)})
		supervisor.take(func(f frame) bool { return f.Type == "escalation" && strings.Contains(f.raw, `"page":true`) })
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op") // the percentiles are the figures
}

func onCall(b *testing.B, st escalation.Store, supervisor string) {
	now := time.Now()
	if _, err := st.PutShift(context.Background(), escalation.Shift{Supervisor: supervisor, Tier: escalation.ShiftPrimary,
		Start: now.Add(-time.Hour), End: now.Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
}

// One node on the embedded default (SQLite, in-process broker).
func BenchmarkCrisisToSupervisorFeed(b *testing.B) {
	e := newEscalatingEnv(b, func(c *server.Config) { c.Detector = crisisDetector; c.SendRate = -1 })
	onCall(b, e.store.(*sqlite.Store).Escalations(), "prim")
	room := e.createRoom(e.token("sam", auth.RoleSpecialist), "Evening group")
	p := e.dial(e.token("pat", auth.RolePeer), nil)
	p.join(room.ID)
	s := e.dial(e.token("prim", auth.RoleSupervisor), nil)
	benchCrisisFeed(b, p, s, room.ID)
}

// Two nodes on PostgreSQL and Redis: the peer on one, the supervisor on
// the other.
func BenchmarkCrisisToSupervisorFeedTwoNodes(b *testing.B) {
	c := newCluster(b, 2, "", func(i int, cfg *server.Config, st *postgres.Store) {
		cfg.Detector = crisisDetector
		withEscalation(b, cfg, st.Escalations(), server.EscalationOptions{NodeID: fmt.Sprintf("node%d", i)})
	})
	onCall(b, c.nodes[0].store.(*postgres.Store).Escalations(), "prim")
	room := c.env(0).createRoom(c.token("sam", auth.RoleSpecialist), "Evening group")
	p := c.dial(0, c.token("pat", auth.RolePeer), nil)
	p.join(room.ID)
	s := c.dial(1, c.token("prim", auth.RoleSupervisor), nil)
	benchCrisisFeed(b, p, s, room.ID)
}
