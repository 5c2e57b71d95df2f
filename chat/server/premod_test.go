package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/server"
)

// Pre-moderation (docs/moderation.md#pre-moderation): a new member's
// first messages wait for a moderator, who approves them into the room or
// rejects them; nobody else sees them meanwhile.

// pendingFrame is a pending ack, pending notice, pending_done or rejected
// frame, decoded.
type pendingFrame struct {
	Type      string              `json:"type"`
	Conv      string              `json:"conv"`
	ID        string              `json:"id"`
	Seq       *int64              `json:"seq"`
	Pending   json.RawMessage     `json:"pending"`
	PendingID string              `json:"pending_id"`
	Outcome   string              `json:"outcome"`
	Message   chat.PendingMessage `json:"-"`
}

func decodePending(t testing.TB, f frame) pendingFrame {
	t.Helper()
	var p pendingFrame
	if err := json.Unmarshal([]byte(f.raw), &p); err != nil {
		t.Fatalf("%s: %v", f.raw, err)
	}
	if p.Type == "pending" {
		if err := json.Unmarshal(p.Pending, &p.Message); err != nil {
			t.Fatalf("%s: %v", f.raw, err)
		}
	}
	return p
}

// sendHeld sends a message that pre-moderation must hold and returns its
// pending id.
func (c *client) sendHeld(conv, id, body string) string {
	c.t.Helper()
	f := c.trySend(conv, id, body)
	p := decodePending(c.t, f)
	if f.Type != "ack" || string(p.Pending) != "true" || !strings.HasPrefix(p.PendingID, "p_") || p.Seq != nil || p.Conv != conv {
		c.t.Fatalf("send %s: want a pending ack, got %s", id, f.raw)
	}
	return p.PendingID
}

// pendingNotice waits for the notice of held message pid.
func (c *client) pendingNotice(pid string) pendingFrame {
	c.t.Helper()
	return decodePending(c.t, c.take(func(f frame) bool { return f.Type == "pending" && strings.Contains(f.raw, `"id":"`+pid+`"`) }))
}

// decided waits for the pending_done of pid and returns its outcome.
func (c *client) decided(pid string) string {
	c.t.Helper()
	return decodePending(c.t, c.take(func(f frame) bool { return f.Type == "pending_done" && f.ID == pid })).Outcome
}

// drain returns every frame c got up to a pong (everything the server
// sent it before answering the ping), backlog included.
func (c *client) drain() []frame {
	c.t.Helper()
	c.send(map[string]any{"type": "ping", "ref": "drain"})
	var out []frame
	for f := c.next(); f.Type != "pong" || f.Ref != "drain"; f = c.next() {
		out = append(out, f)
	}
	return out
}

// pendingPath is the route of room's held message pid (decision "" for
// the queue).
func pendingPath(room, pid, decision string) string {
	if pid == "" {
		return "/api/rooms/" + room + "/pending"
	}
	return "/api/rooms/" + room + "/pending/" + pid + "/" + decision
}

// textStored counts the rows of the node's database that still hold text,
// in held messages and in the log.
func textStored(t *testing.T, e *env, text string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM pending_messages WHERE instr(body, ?) > 0)
		+ (SELECT count(*) FROM events WHERE instr(body, ?) > 0)`, text, text).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPremoderation(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, mo, bob, cat := e.token("ann", auth.RoleSpecialist), e.token("mo", auth.RolePeer), e.token("bob", auth.RolePeer), e.token("cat", auth.RolePeer)
	room := e.createRoom(ann, "New members welcome").ID
	a, m, b, c := e.dial(ann, nil), e.dial(mo, nil), e.dial(bob, nil), e.dial(cat, nil)
	for _, cl := range []*client{m, b, c} {
		cl.join(room)
	}
	e.mustMod("PUT", members(room, "mo", "/role"), ann, map[string]string{"role": "moderator"})
	m.membership(room, func(cv chat.Conversation) bool { return cv.Role == chat.RoomModerator })
	e.setRules(ann, room, map[string]any{"premod_messages": 2})
	for _, cl := range []*client{a, m, b, c} {
		cl.membership(room, func(cv chat.Conversation) bool { return cv.PremodMessages == 2 })
	}
	// The owner and moderators are never held.
	for name, cl := range map[string]*client{"owner": a, "moderator": m} {
		if f := cl.trySend(room, name+"-1", "welcome"); f.Type != "ack" || f.Seq == 0 {
			t.Fatalf("the %s's send: %s", name, f.raw)
		}
	}

	// The first send waits: acked pending, shown to the owner and the
	// moderator, to nobody else; resending it changes nothing.
	const first, second = "hi everyone, first time here", "something the moderators will not let through"
	p1 := b.sendHeld(room, "b1", first)
	if again := b.sendHeld(room, "b1", first); again != p1 {
		t.Fatalf("a resend got pending id %s, then %s", p1, again)
	}
	for name, cl := range map[string]*client{"owner": a, "moderator": m} {
		n := cl.pendingNotice(p1)
		if n.Conv != room || n.Message.Sender != "bob" || n.Message.Name != "Bob" || n.Message.Body != first || n.Message.Time.IsZero() {
			t.Fatalf("the %s's notice: %+v", name, n)
		}
	}
	var queue struct{ Pending []chat.PendingMessage }
	if st := e.api("GET", pendingPath(room, "", ""), mo, nil, &queue); st != 200 || len(queue.Pending) != 1 || queue.Pending[0].ID != p1 {
		t.Fatalf("the queue: %d %+v", st, queue)
	}
	if st, er := e.mod("GET", pendingPath(room, "", ""), cat, nil); st != http.StatusForbidden || er.Code != chat.CodeForbidden {
		t.Fatalf("a member reading the queue: %d %+v", st, er)
	}
	if st, er := e.mod("POST", pendingPath(room, p1, "approve"), cat, nil); st != http.StatusForbidden || er.Code != chat.CodeForbidden {
		t.Fatalf("a member approving: %d %+v", st, er)
	}

	// Approved: everyone gets it as bob's, with his client id.
	var ok struct{ Seq int64 }
	if st := e.api("POST", pendingPath(room, p1, "approve"), mo, map[string]string{"reason": "fine"}, &ok); st != 200 || ok.Seq == 0 {
		t.Fatalf("approve: %d %+v", st, ok)
	}
	for name, cl := range map[string]*client{"owner": a, "moderator": m, "bob": b, "cat": c} {
		ev := cl.take(func(f frame) bool { return f.Type == "message" && f.Seq == ok.Seq })
		if ev.ID != "b1" || ev.From != "bob" || ev.Body != first {
			t.Fatalf("%s got %s", name, ev.raw)
		}
	}
	b.membership(room, func(cv chat.Conversation) bool { return cv.ApprovedMessages == 1 })
	if a.decided(p1) != "approved" || m.decided(p1) != "approved" {
		t.Fatal("the outcome told to moderators")
	}

	// Rejected: bob is told, nobody else ever sees it, its text is gone.
	p2 := b.sendHeld(room, "b2", second)
	a.pendingNotice(p2)
	e.mustMod("POST", pendingPath(room, p2, "reject"), ann, map[string]string{"reason": "off topic"})
	rj := b.take(func(f frame) bool { return f.Type == "rejected" })
	if p := decodePending(t, rj); p.Conv != room || p.ID != "b2" || p.PendingID != p2 || strings.Contains(rj.raw, "off topic") {
		t.Fatalf("rejected frame: %s", rj.raw)
	}
	if a.decided(p2) != "rejected" || m.decided(p2) != "rejected" {
		t.Fatal("the rejection told to moderators")
	}
	if n := textStored(t, e, second); n != 0 {
		t.Fatalf("the rejected text is still in %d rows", n)
	}
	checkDecisionsRefused(t, e, ann, room, p1, p2)
	// Resends: a rejected message is told rejected again; an approved one
	// is acked as the duplicate it is.
	b.send(map[string]any{"type": "send", "conv": room, "id": "b2", "body": second})
	if f := b.take(func(f frame) bool { return f.ID == "b2" && f.Type != "message" }); f.Type != "rejected" {
		t.Fatalf("resending a rejected message: %s", f.raw)
	}
	if f := b.trySend(room, "b1", first); f.Type != "ack" || f.Seq != ok.Seq || !f.Duplicate {
		t.Fatalf("resending an approved message: %s", f.raw)
	}

	// A second approval, then bob's sends go straight through.
	p3 := b.sendHeld(room, "b3", "thanks for having me")
	e.mustMod("POST", pendingPath(room, p3, "approve"), ann, nil)
	b.membership(room, func(cv chat.Conversation) bool { return cv.ApprovedMessages == 2 })
	if f := b.trySend(room, "b4", "now I am one of you"); f.Type != "ack" || f.Seq == 0 || strings.Contains(f.raw, "pending") {
		t.Fatalf("the third send after two approvals: %s", f.raw)
	}
	c.take(func(f frame) bool { return f.Type == "message" && f.ID == "b4" })

	// Nobody but the moderators saw anything held; nobody at all saw b2.
	for name, cl := range map[string]*client{"owner": a, "moderator": m, "bob": b, "cat": c} {
		moderates := cl == a || cl == m
		for _, f := range cl.drain() {
			if (f.Type == "pending" || strings.Contains(f.raw, second)) && !moderates || f.Type == "message" && f.Body == second {
				t.Errorf("%s got %s", name, f.raw)
			}
		}
	}
	checkPremodAudit(t, e, room)
}

// checkDecisionsRefused: deciding a decided message is a conflict, an
// unknown one not found.
func checkDecisionsRefused(t *testing.T, e *env, tok, room, approved, rejected string) {
	t.Helper()
	for _, c := range []struct{ pid, decision string }{{approved, "approve"}, {approved, "reject"}, {rejected, "approve"}, {rejected, "reject"}} {
		if st, er := e.mod("POST", pendingPath(room, c.pid, c.decision), tok, nil); st != http.StatusConflict || er.Code != chat.CodeConflict {
			t.Errorf("%s of a decided message: %d %+v", c.decision, st, er)
		}
	}
	if st, er := e.mod("POST", pendingPath(room, "p_nosuch", "approve"), tok, nil); st != http.StatusNotFound || er.Code != chat.CodeNotFound {
		t.Errorf("approving an unknown message: %d %+v", st, er)
	}
}

// checkPremodAudit: one entry per decision, with the target, the reason
// and the pending id; the setting in the room.settings entry.
func checkPremodAudit(t *testing.T, e *env, room string) {
	t.Helper()
	want := "room.create member.role room.settings message.approve message.reject message.approve"
	if got := strings.Join(e.auditActions(room), " "); got != want {
		t.Errorf("audit: %s; want %s", got, want)
	}
	es, err := e.store.Audit(context.Background(), chat.AuditFilter{Room: room, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range es {
		switch x.Action {
		case "message.reject":
			if x.Actor != "ann" || x.Target != "bob" || x.Reason != "off topic" || !strings.HasPrefix(x.Detail, "pending=p_") {
				t.Errorf("reject entry: %+v", x)
			}
		case "room.settings":
			if !strings.Contains(x.Detail, "premod_messages=2") {
				t.Errorf("settings entry: %+v", x)
			}
		}
	}
}

// A held message that signals a crisis still opens an escalation before
// its pending ack, and its sender is supported; it stays out of the room
// until approved. A supervisor releasing it approves it.
func TestPremodCrisis(t *testing.T) {
	e := newEscalatingEnv(t, noRateLimit, func(c *server.Config) { c.Detector = crisisDetector })
	spec, peer, friend, sup := e.token("sam", auth.RoleSpecialist), e.token("pat", auth.RolePeer), e.token("fay", auth.RolePeer), e.token("sue", auth.RoleSupervisor)
	room := e.createRoom(spec, "Evening group").ID
	o, p, fr := e.dial(spec, nil), e.dial(peer, nil), e.dial(friend, nil)
	p.join(room)
	fr.join(room)
	e.setRules(spec, room, map[string]any{"premod_messages": 1})
	p.membership(room, func(cv chat.Conversation) bool { return cv.PremodMessages == 1 })
	s := e.dial(sup, nil)

	const text = "I have the pills and I'm taking them tonight"
	pid := p.sendHeld(room, "c1", text)
	if f := p.take(func(f frame) bool { return f.Type == "support" }); f.Conv != room || !strings.Contains(f.raw, "988") {
		t.Fatalf("support frame: %s", f.raw)
	}
	if n := o.pendingNotice(pid); n.Message.Body != text {
		t.Fatalf("the owner's notice: %+v", n)
	}
	page := decodeEscalation(t, s.take(func(f frame) bool { return f.Type == "escalation" && strings.Contains(f.raw, `"page":true`) }))
	ex := page.Escalation
	if ex.Subject != "pat" || ex.Conv != room || ex.Message.Body != text || !ex.Held() || !strings.Contains(ex.Reason, "pre-moderation") {
		t.Fatalf("the escalation: %+v", ex)
	}
	// A resend opens nothing new.
	if again := p.sendHeld(room, "c1", text); again != pid {
		t.Fatalf("resend: %s, want %s", again, pid)
	}
	var list struct{ Escalations []escalation.Escalation }
	if e.api("GET", "/api/escalations", sup, nil, &list); len(list.Escalations) != 1 {
		t.Fatalf("%d escalations, want 1", len(list.Escalations))
	}
	for _, f := range fr.drain() {
		if strings.Contains(f.raw, "pills") {
			t.Fatalf("the room saw the held message: %s", f.raw)
		}
	}
	// Released by the supervisor: approved, once, into the room.
	if st := e.api("POST", "/api/escalations/"+ex.ID+"/release", sup, nil, nil); st != 200 {
		t.Fatalf("release: %d", st)
	}
	if m := fr.take(func(f frame) bool { return f.Type == "message" && f.ID == "c1" }); m.Body != text || m.From != "pat" {
		t.Fatalf("the room got %s", m.raw)
	}
	if o.decided(pid) != "approved" {
		t.Fatal("the release told to the owner")
	}
	if st, er := e.mod("POST", pendingPath(room, pid, "reject"), spec, nil); st != http.StatusConflict {
		t.Fatalf("rejecting a released message: %d %+v", st, er)
	}
	if got := strings.Join(e.auditActions(room), " "); strings.Count(got, "message.approve") != 1 || strings.Contains(got, "message.reject") {
		t.Errorf("audit: %s; want one message.approve", got)
	}
}

// premodCases are the permission cells of the pre-moderation routes: the
// "mod" room's queue, and a held message of subj's there for each caller
// to approve or reject.
func (fx *permFixture) premodCases() map[string]*permCase {
	noBody := func(*permUser) any { return nil }
	held := func(decision string) func(*testing.T, *permUser) string {
		return func(t *testing.T, u *permUser) string {
			p, _, err := fx.e.store.HoldMessage(context.Background(), chat.PendingMessage{Conv: fx.rooms["mod"], Sender: "subj",
				Name: "Subj", ClientID: fx.ref("held-" + decision + "-" + u.ident.UserID), Body: "my first words here"})
			if err != nil {
				t.Fatalf("fixture: held message: %v", err)
			}
			return pendingPath(fx.rooms["mod"], p.ID, decision)
		}
	}
	return map[string]*permCase{
		"GET /api/rooms/{id}/pending": {path: func(*testing.T, *permUser) string { return pendingPath(fx.rooms["mod"], "", "") },
			body: noBody, ok: 200},
		"POST /api/rooms/{id}/pending/{pid}/approve": {path: held("approve"), body: noBody, ok: 200},
		"POST /api/rooms/{id}/pending/{pid}/reject": {path: held("reject"), ok: 200,
			body: func(*permUser) any { return map[string]string{"reason": "not for this group"} }},
	}
}

// In a room that holds imminent messages for a supervisor, such a message
// from a member under review is held that way (one hold, the stricter
// reviewer), not queued for the moderators; others are queued as usual.
func TestPremodUnderHoldPolicy(t *testing.T) {
	e := newEscalatingEnv(t, noRateLimit, func(c *server.Config) { c.Detector = crisisDetector })
	spec, peer := e.token("sam", auth.RoleSpecialist), e.token("pat", auth.RolePeer)
	room := e.createRoom(spec, "Careful group").ID
	e.mustMod("PUT", "/api/rooms/"+room+"/policy", spec, map[string]bool{"hold_imminent": true})
	p := e.dial(peer, nil)
	p.join(room)
	e.setRules(spec, room, map[string]any{"premod_messages": 3})
	p.membership(room, func(cv chat.Conversation) bool { return cv.PremodMessages == 3 })
	p.send(map[string]any{"type": "send", "conv": room, "id": "h1", "body": permHeldText})
	if f := p.take(func(f frame) bool { return f.ID == "h1" && (f.Type == "ack" || f.Type == "error") }); !strings.Contains(f.raw, `"held":true`) || strings.Contains(f.raw, "pending") {
		t.Fatalf("an imminent message under both holds: %s", f.raw)
	}
	pid := p.sendHeld(room, "h2", "hello, I am new")
	var queue struct{ Pending []chat.PendingMessage }
	if e.api("GET", pendingPath(room, "", ""), spec, nil, &queue); len(queue.Pending) != 1 || queue.Pending[0].ID != pid {
		t.Fatalf("the queue: %+v", queue)
	}
}
