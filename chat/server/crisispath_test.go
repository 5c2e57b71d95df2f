package server_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/postgres"
	"github.com/kindred-health/kindred/chat/store/sqlite"
)

// blockingEscalations makes Create wait while blocked is set (until its
// context ends), as a locked table or a stalled database would.
type blockingEscalations struct {
	escalation.Store
	blocked atomic.Bool
	entered chan struct{} // one value per Create that found the store blocked
}

func (b *blockingEscalations) Create(ctx context.Context, e *escalation.Escalation) (*escalation.Escalation, bool, error) {
	if b.blocked.Load() {
		select {
		case b.entered <- struct{}{}:
		default:
		}
		for b.blocked.Load() {
			select {
			case <-ctx.Done():
				return nil, false, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return b.Store.Create(ctx, e)
}

const crisisText = "I have the pills and I'm taking them tonight"

// An escalation store that hangs delays the crisis message's own ack and
// nobody else's: a user in another room, and another member of the same
// room, are acked while it hangs. The crisis message is acked once its
// escalation is recorded; past the deadline its sender gets a retryable
// error instead, and the resend is acked once the store answers.
func TestSlowEscalationDelaysOnlyItsOwnAck(t *testing.T) {
	bs := &blockingEscalations{entered: make(chan struct{}, 1)}
	e := &env{t: t, dbPath: filepath.Join(t.TempDir(), "kindred.db"), secret: testSecret, escalations: true,
		escWrap: func(s escalation.Store) escalation.Store { bs.Store = s; return bs }}
	e.cfg.Detector = crisisDetector
	e.cfg.EscalationTimeout = 4 * time.Second
	e.start()
	t.Cleanup(e.stop)

	spec := e.token("sam", auth.RoleSpecialist)
	roomA, roomB := e.createRoom(spec, "Group A"), e.createRoom(spec, "Group B")
	pat, ann, bob := e.dial(e.token("pat", auth.RolePeer), nil), e.dial(e.token("ann", auth.RolePeer), nil), e.dial(e.token("bob", auth.RolePeer), nil)
	pat.join(roomA.ID)
	ann.join(roomA.ID)
	bob.join(roomB.ID)

	// 1. The store hangs, then answers before the deadline.
	bs.blocked.Store(true)
	pat.send(map[string]any{"type": "send", "conv": roomA.ID, "id": "c1", "body": crisisText, "ref": "c1"})
	<-bs.entered
	if f := bob.sendMsg(roomB.ID, "b1", "evening all"); f.Type != "ack" {
		t.Fatalf("bob in another room: %s", f.raw)
	}
	if f := ann.sendMsg(roomA.ID, "a1", "I'm here with you"); f.Type != "ack" {
		t.Fatalf("ann in the same room: %s", f.raw)
	}
	if !bs.blocked.Load() {
		t.Fatal("the store stopped hanging before the others were acked")
	}
	// A ping's pong comes after anything queued for pat before it.
	pat.send(map[string]any{"type": "ping", "ref": "p1"})
	pat.take(func(f frame) bool { return f.Type == "pong" })
	for _, f := range pat.backlog {
		if f.Ref == "c1" {
			t.Fatalf("crisis message answered while its escalation hangs: %s", f.raw)
		}
	}
	if !bs.blocked.Load() {
		t.Fatal("the store stopped hanging before the check")
	}
	bs.blocked.Store(false)
	ack := pat.take(func(f frame) bool { return f.Ref == "c1" })
	if ack.Type != "ack" || ack.Seq == 0 {
		t.Fatalf("crisis message after the store answered: %s", ack.raw)
	}
	var list struct{ Escalations []escalation.Escalation }
	e.api("GET", "/api/escalations?status=open", e.token("sue", auth.RoleSupervisor), nil, &list)
	if len(list.Escalations) != 1 || list.Escalations[0].Message.Seq != ack.Seq {
		t.Fatalf("escalations recorded: %+v", list.Escalations)
	}
	// The room sees the conversation in order: the crisis message, then
	// what ann wrote after it.
	if m := ann.expectEvent(roomA.ID); m.ID != "c1" {
		t.Fatalf("room order: first %s", m.raw)
	}
	if m := ann.expectEvent(roomA.ID); m.ID != "a1" {
		t.Fatalf("room order: then %s", m.raw)
	}

	// 2. The store hangs past the deadline: a retryable error, no ack.
	bs.blocked.Store(true)
	pat.send(map[string]any{"type": "send", "conv": roomA.ID, "id": "c2", "body": crisisText + " for real", "ref": "c2"})
	<-bs.entered
	f := pat.take(func(f frame) bool { return f.Ref == "c2" })
	if f.Type != "error" || f.Code != "unavailable" || !f.Temporary {
		t.Fatalf("crisis message past the deadline: %s", f.raw)
	}
	bs.blocked.Store(false)
	pat.send(map[string]any{"type": "send", "conv": roomA.ID, "id": "c2", "body": crisisText + " for real", "ref": "c2b"})
	if f := pat.take(func(f frame) bool { return f.Ref == "c2b" }); f.Type != "ack" || !f.Duplicate {
		t.Fatalf("resend once the store answers: %s", f.raw)
	}
}

// A user on the rota who signs in with a peer token gets no page in that
// session, and because nobody was reached, the next tier is paged at once
// (not at the acknowledgement deadline). The subject of an escalation, a
// supervisor, never sees it: no frame, and 403 on every route.
func TestCrisisPagesOnlyWhoMayReceiveThem(t *testing.T) {
	e := newEscalatingEnv(t, func(c *server.Config) { c.Detector = crisisDetector })
	checkPagesReachOnlySupervisors(t, e.store.(*sqlite.Store).Escalations(), func(int) *env { return e }, e.token)
}

func TestClusterCrisisPagesOnlyWhoMayReceiveThem(t *testing.T) {
	c := newCluster(t, 2, "", func(i int, cfg *server.Config, st *postgres.Store) {
		cfg.Detector = crisisDetector
		withEscalation(t, cfg, st.Escalations(), server.EscalationOptions{})
	})
	checkPagesReachOnlySupervisors(t, c.nodes[0].store.(*postgres.Store).Escalations(), c.env, c.token)
}

// checkPagesReachOnlySupervisors runs the scenario with the rota user and
// the subject on node 1 and everyone else on node 0 (one node: the same).
func checkPagesReachOnlySupervisors(t *testing.T, esc escalation.Store, node func(int) *env, token func(string, auth.Role) string) {
	now := time.Now()
	for _, sh := range []escalation.Shift{
		{Supervisor: "rota", Tier: escalation.ShiftPrimary, Start: now.Add(-time.Hour), End: now.Add(time.Hour)},
		{Supervisor: "back", Tier: escalation.ShiftBackup, Start: now.Add(-time.Hour), End: now.Add(time.Hour)},
	} {
		if _, err := esc.PutShift(context.Background(), sh); err != nil {
			t.Fatal(err)
		}
	}
	n0, n1 := node(0), node(1)
	spec := token("sam", auth.RoleSpecialist)
	room := n0.createRoom(spec, "Evening group")
	rota := n1.dial(token("rota", auth.RolePeer), nil) // on call, but signed in as a peer
	rota.join(room.ID)
	sue := n1.dial(token("sue", auth.RoleSupervisor), nil) // the subject, below
	sue.join(room.ID)
	back := n0.dial(token("back", auth.RoleSupervisor), nil)
	pat := n0.dial(token("pat", auth.RolePeer), nil)
	pat.join(room.ID)

	start := time.Now()
	if f := pat.sendMsg(room.ID, "c1", crisisText); f.Type != "ack" {
		t.Fatalf("crisis message: %s", f.raw)
	}
	page := decodeEscalation(t, back.take(func(f frame) bool { return f.Type == "escalation" && strings.Contains(f.raw, `"page":true`) }))
	if page.Escalation.Tier != 1 || time.Since(start) > 10*time.Second {
		t.Fatalf("backup paged at tier %d after %v; want tier 1 at once", page.Escalation.Tier, time.Since(start))
	}
	var rec escalation.Escalation
	waitFor(t, "the steps recorded", func() bool {
		n0.api("GET", "/api/escalations/"+page.Escalation.ID, token("back", auth.RoleSupervisor), nil, &rec)
		return len(rec.Timeline) >= 3
	})
	if !strings.Contains(stepDetails(rec), "none of them has a session") {
		t.Fatalf("timeline does not say tier 0 reached nobody: %+v", rec.Timeline)
	}

	// A supervisor is the subject of a concern.
	sp := n0.dial(spec, nil)
	sp.send(map[string]any{"type": "concern", "user": "sue", "conv": room.ID, "reason": "seemed very low tonight", "ref": "k1"})
	if f := sp.take(func(f frame) bool { return f.Ref == "k1" }); f.Type != "flagged" {
		t.Fatalf("concern: %s", f.raw)
	}
	about := decodeEscalation(t, back.take(func(f frame) bool {
		return f.Type == "escalation" && strings.Contains(f.raw, `"subject":"sue"`)
	})).Escalation

	// Neither the peer session of the rota user nor the subject got any
	// escalation frame: a ping answered after the backup's pages shows
	// everything sent before it has arrived.
	for name, c := range map[string]*client{"rota (peer session)": rota, "sue (subject)": sue} {
		c.send(map[string]any{"type": "ping", "ref": "end"})
		for f := c.next(); f.Type != "pong"; f = c.next() {
			if f.Type == "escalation" && (name != "sue (subject)" || strings.Contains(f.raw, `"subject":"sue"`)) {
				t.Fatalf("%s got %s", name, f.raw)
			}
		}
	}
	checkSubjectRefused(t, n1, token("sue", auth.RoleSupervisor), about.ID)
}

// checkSubjectRefused: every escalation route refuses the subject, and the
// queue leaves the escalation out.
func checkSubjectRefused(t *testing.T, e *env, tok, id string) {
	t.Helper()
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/escalations/" + id},
		{"POST", "/api/escalations/" + id + "/ack"},
		{"POST", "/api/escalations/" + id + "/notes"},
		{"POST", "/api/escalations/" + id + "/handoff"},
		{"POST", "/api/escalations/" + id + "/resolve"},
		{"POST", "/api/escalations/" + id + "/join"},
		{"POST", "/api/escalations/" + id + "/release"},
		{"POST", "/api/escalations/" + id + "/dm"},
	} {
		var out struct{ Error struct{ Code string } }
		if st := e.api(r.method, r.path, tok, map[string]string{"text": "x", "to": "back", "outcome": "x"}, &out); st != http.StatusForbidden || out.Error.Code != "forbidden" {
			t.Errorf("%s %s as the subject: %d %+v", r.method, r.path, st, out)
		}
	}
	var list struct{ Escalations []escalation.Escalation }
	if st := e.api("GET", "/api/escalations", tok, nil, &list); st != http.StatusOK {
		t.Fatalf("queue as the subject: %d", st)
	}
	for _, x := range list.Escalations {
		if x.ID == id || x.Subject == "sue" {
			t.Fatalf("the subject's queue lists their own escalation %s", x.ID)
		}
	}
}

func stepDetails(e escalation.Escalation) string {
	var b strings.Builder
	for _, s := range e.Timeline {
		b.WriteString(s.Detail)
		b.WriteByte('\n')
	}
	return b.String()
}
