package server_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/sqlite"
)

var crisisDetector = crisis.NewRuleDetector(crisis.DefaultLexicon())

// webhookSink is the external paging system: it checks every delivery's
// signature and keeps the events.
type webhookSink struct {
	t      testing.TB
	secret string
	mu     sync.Mutex
	events []string
	srv    *httptest.Server
}

func newWebhookSink(t testing.TB, secret string) *webhookSink {
	w := &webhookSink{t: t, secret: secret}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(r.Header.Get("X-Kindred-Timestamp") + "."))
		mac.Write(body)
		want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		if r.Header.Get("X-Kindred-Signature") != want {
			t.Errorf("webhook signature %q, want %q", r.Header.Get("X-Kindred-Signature"), want)
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		var b struct{ Event string }
		json.Unmarshal(body, &b)
		w.mu.Lock()
		w.events = append(w.events, b.Event)
		w.mu.Unlock()
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webhookSink) got() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.events...)
}

// escalationFrame is the part of an escalation frame the tests read.
type escalationFrame struct {
	Type       string
	Page       bool
	Step       escalation.Step
	Escalation escalation.Escalation
}

func decodeEscalation(t testing.TB, f frame) escalationFrame {
	var ef escalationFrame
	if err := json.Unmarshal([]byte(f.raw), &ef); err != nil {
		t.Fatalf("escalation frame: %v", err)
	}
	return ef
}

// A peer's crisis message reaches the on-call supervisor's feed at once;
// nobody acknowledges, so at the deadline the backup and the webhook are
// told; the backup acknowledges and resolves; the timeline holds every
// step. The sender alone gets the private support frame.
func TestCrisisEscalatesUntilAcknowledged(t *testing.T) {
	sink := newWebhookSink(t, "webhook-secret")
	logs := &syncBuffer{}
	e := newEscalatingEnvWith(t, server.EscalationOptions{
		Policy:     escalation.Policy{AckTimeout: map[crisis.Severity]time.Duration{crisis.Imminent: 2 * time.Second}},
		WebhookURL: sink.srv.URL, WebhookSecret: "webhook-secret", WebhookAllowHTTP: true, NodeID: "test-node",
	}, func(c *server.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Detector = crisisDetector
	})
	st := e.store.(*sqlite.Store)

	now := time.Now()
	for _, sh := range []escalation.Shift{
		{Supervisor: "prim", Tier: escalation.ShiftPrimary, Start: now.Add(-time.Hour), End: now.Add(time.Hour)},
		{Supervisor: "back", Tier: escalation.ShiftBackup, Start: now.Add(-time.Hour), End: now.Add(time.Hour)},
	} {
		if _, err := st.Escalations().PutShift(context.Background(), sh); err != nil {
			t.Fatal(err)
		}
	}
	spec, peer, friend := e.token("sam", auth.RoleSpecialist), e.token("pat", auth.RolePeer), e.token("fay", auth.RolePeer)
	prim, back := e.token("prim", auth.RoleSupervisor), e.token("back", auth.RoleSupervisor)
	room := e.createRoom(spec, "Evening group")
	p := e.dial(peer, nil)
	p.join(room.ID)
	fr := e.dial(friend, nil)
	fr.join(room.ID)
	sp := e.dial(prim, nil)
	sb := e.dial(back, nil)

	const text = "I have the pills and I'm taking them tonight"
	ack := p.sendMsg(room.ID, "c1", text)
	sup := p.take(func(f frame) bool { return f.Type == "support" })
	if sup.Conv != room.ID || sup.Seq != ack.Seq || !strings.Contains(sup.raw, "988") {
		t.Fatalf("support frame: %s", sup.raw)
	}
	// The message is delivered to the room as usual.
	if m := fr.expectEvent(room.ID); m.Body != text {
		t.Fatalf("room got %s", m.raw)
	}

	// The primary is paged at once, with the context to act.
	page := decodeEscalation(t, sp.take(func(f frame) bool { return f.Type == "escalation" && strings.Contains(f.raw, `"page":true`) }))
	ex := page.Escalation
	if ex.Severity != crisis.Imminent || ex.Subject != "pat" || ex.Message.Body != text || ex.Conv != room.ID || ex.ConvName != "Evening group" || ex.Tier != 0 {
		t.Fatalf("page to the primary: %+v", page)
	}
	// Nobody acknowledges: the backup is paged at the deadline.
	page2 := decodeEscalation(t, sb.take(func(f frame) bool {
		return f.Type == "escalation" && strings.Contains(f.raw, `"page":true`)
	}))
	if page2.Escalation.ID != ex.ID || page2.Step.Kind != escalation.StepEscalated || page2.Escalation.Tier != 1 {
		t.Fatalf("page to the backup: %+v", page2.Step)
	}
	waitFor(t, "webhooks for creation and escalation", func() bool {
		ev := sink.got()
		return len(ev) >= 2
	})

	// The backup acknowledges and resolves over the HTTP API.
	var got escalation.Escalation
	if st := e.api("POST", "/api/escalations/"+ex.ID+"/ack", back, nil, &got); st != 200 || got.Status != escalation.StatusAcknowledged || got.AssignedTo != "back" {
		t.Fatalf("ack: %d %+v", st, got.Status)
	}
	var out struct{ Error struct{ Code string } }
	if st := e.api("POST", "/api/escalations/"+ex.ID+"/ack", prim, nil, &out); st != http.StatusConflict {
		t.Fatalf("second ack by someone else: %d %+v", st, out)
	}
	if st := e.api("POST", "/api/escalations/"+ex.ID+"/notes", back, map[string]string{"text": "called Pat, talking now"}, &got); st != 200 {
		t.Fatalf("note: %d", st)
	}
	if st := e.api("POST", "/api/escalations/"+ex.ID+"/resolve", back, map[string]string{"outcome": "safety plan agreed; follow-up tomorrow"}, &got); st != 200 || got.Status != escalation.StatusResolved {
		t.Fatalf("resolve: %d %+v", st, got.Status)
	}
	var kinds []escalation.StepKind
	for _, s := range got.Timeline {
		kinds = append(kinds, s.Kind)
		if s.At.IsZero() {
			t.Errorf("step %s has no time", s.Kind)
		}
	}
	for _, want := range []escalation.StepKind{escalation.StepCreated, escalation.StepNotified, escalation.StepEscalated,
		escalation.StepAcknowledged, escalation.StepNote, escalation.StepResolved} {
		if !slices.Contains(kinds, want) {
			t.Errorf("timeline lacks %s: %v", want, kinds)
		}
	}
	// The audit log has every step, by whom, and never the words; neither
	// do the logs.
	var audit struct{ Entries []chat.AuditEntry }
	if st := e.api("GET", "/api/audit?room="+room.ID, back, nil, &audit); st != http.StatusOK {
		t.Fatalf("audit log: %d", st)
	}
	steps := map[string]string{}
	for _, en := range audit.Entries {
		if en.Target == ex.ID {
			steps[en.Action] = en.Actor
		}
		for _, secret := range []string{text, "called Pat", "safety plan"} {
			if strings.Contains(en.Reason+en.Detail, secret) {
				t.Errorf("audit entry %+v contains %q", en, secret)
			}
		}
	}
	for action, actor := range map[string]string{"escalation.created": "system", "escalation.notified": "system",
		"escalation.escalated": "system", "escalation.acknowledged": "back", "escalation.note": "back", "escalation.resolved": "back"} {
		if steps[action] != actor {
			t.Errorf("audit log: %s by %q, want by %s (all: %v)", action, steps[action], actor, steps)
		}
	}
	all := logs.String()
	for _, secret := range []string{text, "called Pat", "safety plan"} {
		if strings.Contains(all, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
	// Peers cannot see escalations; the friend never got a support frame.
	if st := e.api("GET", "/api/escalations", friend, nil, &out); st != http.StatusForbidden {
		t.Fatalf("peer listing escalations: %d", st)
	}
	fr.send(map[string]any{"type": "ping", "ref": "end"})
	for {
		f := fr.next()
		if f.Type == "support" || f.Type == "escalation" {
			t.Fatalf("a member other than the sender got %s", f.raw)
		}
		if f.Type == "pong" {
			break
		}
	}
}

// Any member can flag a message by hand, and a specialist can raise a
// concern about a person; both enter the same escalation path.
func TestFlagAndConcern(t *testing.T) {
	e := newEscalatingEnv(t)
	spec, peer, friend, sup := e.token("sam", auth.RoleSpecialist), e.token("pat", auth.RolePeer), e.token("fay", auth.RolePeer), e.token("sue", auth.RoleSupervisor)
	room := e.createRoom(spec, "Group")
	p := e.dial(peer, nil)
	p.join(room.ID)
	fr := e.dial(friend, nil)
	fr.join(room.ID)
	s := e.dial(sup, nil)
	m := p.sendMsg(room.ID, "m1", "nobody would notice if I was gone")

	fr.send(map[string]any{"type": "flag", "conv": room.ID, "seq": m.Seq, "reason": "this worried me", "ref": "f1"})
	fl := fr.take(func(f frame) bool { return f.Ref == "f1" })
	if fl.Type != "flagged" {
		t.Fatalf("flag: %s", fl.raw)
	}
	page := decodeEscalation(t, s.take(func(f frame) bool { return f.Type == "escalation" && strings.Contains(f.raw, `"page":true`) }))
	if page.Escalation.Source != escalation.SourceFlag || page.Escalation.ReportedBy != "fay" || page.Escalation.Subject != "pat" || page.Escalation.Reason != "this worried me" {
		t.Fatalf("flag escalation: %+v", page.Escalation)
	}
	// Flagging a message of another conversation, or a missing one, fails.
	fr.send(map[string]any{"type": "flag", "conv": room.ID, "seq": 99})
	if f := fr.expect("error"); f.Code != "not_found" {
		t.Fatalf("flag of a missing message: %s", f.raw)
	}
	// Peers may not raise concerns about people; specialists may.
	fr.send(map[string]any{"type": "concern", "user": "pat", "reason": "x"})
	if f := fr.expect("error"); f.Code != "forbidden" {
		t.Fatalf("peer concern: %s", f.raw)
	}
	sp := e.dial(spec, nil)
	sp.send(map[string]any{"type": "concern", "user": "pat", "conv": room.ID, "reason": "withdrawn for weeks, missed sessions", "ref": "c1"})
	if f := sp.take(func(f frame) bool { return f.Ref == "c1" }); f.Type != "flagged" {
		t.Fatalf("concern: %s", f.raw)
	}
	var list struct{ Escalations []escalation.Escalation }
	e.api("GET", "/api/escalations?status=open", sup, nil, &list)
	if len(list.Escalations) != 2 {
		t.Fatalf("open escalations: %d", len(list.Escalations))
	}
}

// A crisis message resent with the same id (its ack was lost, or the node
// died before acking it) is stored and escalated once, and its sender is
// shown the support frame again.
func TestCrisisResendEscalatesOnce(t *testing.T) {
	e := newEscalatingEnv(t, func(c *server.Config) { c.Detector = crisisDetector })
	spec, peer, sup := e.token("sam", auth.RoleSpecialist), e.token("pat", auth.RolePeer), e.token("sue", auth.RoleSupervisor)
	room := e.createRoom(spec, "Group")
	p := e.dial(peer, nil)
	p.join(room.ID)
	const text = "I want to kill myself tonight"
	first := p.sendMsg(room.ID, "c1", text)
	p.take(func(f frame) bool { return f.Type == "support" })
	again := p.sendMsg(room.ID, "c1", text)
	if !again.Duplicate || again.Seq != first.Seq {
		t.Fatalf("resend: %s", again.raw)
	}
	p.take(func(f frame) bool { return f.Type == "support" })
	var list struct{ Escalations []escalation.Escalation }
	e.api("GET", "/api/escalations", sup, nil, &list)
	if len(list.Escalations) != 1 || list.Escalations[0].Message.Seq != first.Seq {
		t.Fatalf("escalations after a resend: %+v", list.Escalations)
	}
	// A supervisor who is the person at risk cannot handle their own.
	e2 := newEscalatingEnv(t, func(c *server.Config) { c.Detector = crisisDetector })
	morgan := e2.token("morgan", auth.RoleSupervisor)
	r2 := e2.createRoom(e2.token("sam", auth.RoleSpecialist), "Staff")
	m := e2.dial(morgan, nil)
	m.join(r2.ID)
	m.sendMsg(r2.ID, "x", text)
	e2.api("GET", "/api/escalations", e2.token("sue", auth.RoleSupervisor), nil, &list)
	if len(list.Escalations) != 1 {
		t.Fatalf("escalations: %d", len(list.Escalations))
	}
	var out struct{ Error struct{ Code string } }
	if st := e2.api("POST", "/api/escalations/"+list.Escalations[0].ID+"/ack", morgan, nil, &out); st != http.StatusForbidden {
		t.Fatalf("the subject acknowledging their own escalation: %d %+v", st, out)
	}
	// Only known supervisors can be put on call.
	admin := e2.token("ada", auth.RoleAdmin)
	shift := map[string]any{"supervisor": "sam", "tier": "primary", "start": time.Now(), "end": time.Now().Add(time.Hour)}
	if st := e2.api("POST", "/api/oncall/shifts", admin, shift, &out); st != http.StatusBadRequest {
		t.Fatalf("a specialist on call: %d %+v", st, out)
	}
	shift["supervisor"] = "morgan"
	if st := e2.api("POST", "/api/oncall/shifts", admin, shift, nil); st != http.StatusCreated {
		t.Fatalf("a supervisor on call: %d", st)
	}
}

// A room whose policy holds imminent messages keeps such a message from
// the room until a supervisor releases it; the sender is acked (held) and
// supported at once; a high (not imminent) message is delivered as usual.
func TestRoomPolicyHoldsImminentMessages(t *testing.T) {
	e := newEscalatingEnv(t, func(c *server.Config) { c.Detector = crisisDetector })
	spec, peer, friend, sup := e.token("sam", auth.RoleSpecialist), e.token("pat", auth.RolePeer), e.token("fay", auth.RolePeer), e.token("sue", auth.RoleSupervisor)
	room := e.createRoom(spec, "Careful group")
	var pol chat.RoomPolicy
	if st := e.api("PUT", "/api/rooms/"+room.ID+"/policy", peer, map[string]bool{"hold_imminent": true}, nil); st != http.StatusForbidden {
		t.Fatalf("a peer setting the room policy: %d", st)
	}
	if st := e.api("PUT", "/api/rooms/"+room.ID+"/policy", spec, map[string]bool{"hold_imminent": true}, &pol); st != 200 || !pol.HoldImminent {
		t.Fatalf("set policy: %d %+v", st, pol)
	}
	p := e.dial(peer, nil)
	p.join(room.ID)
	fr := e.dial(friend, nil)
	fr.join(room.ID)
	s := e.dial(sup, nil)

	const text = "goodbye everyone, I have the pills and I'm taking them tonight"
	p.send(map[string]any{"type": "send", "conv": room.ID, "id": "h1", "body": text})
	ack := p.take(func(f frame) bool { return f.ID == "h1" && (f.Type == "ack" || f.Type == "error") })
	if ack.Type != "ack" || !strings.Contains(ack.raw, `"held":true`) || ack.Seq != 0 {
		t.Fatalf("ack of a held message: %s", ack.raw)
	}
	p.take(func(f frame) bool { return f.Type == "support" })
	page := decodeEscalation(t, s.take(func(f frame) bool { return f.Type == "escalation" && strings.Contains(f.raw, `"page":true`) }))
	if !page.Escalation.Held() || page.Escalation.Message.Body != text {
		t.Fatalf("page for a held message: %+v", page.Escalation)
	}
	// A high, not imminent, message is not held.
	p.sendMsg(room.ID, "h2", "I want to kill myself")
	if m := fr.expectEvent(room.ID); m.ID != "h2" || m.Seq != 1 {
		t.Fatalf("the room got %s first; the held message must not be delivered", m.raw)
	}
	// The supervisor releases it: the room gets it, once.
	var got escalation.Escalation
	if st := e.api("POST", "/api/escalations/"+page.Escalation.ID+"/release", sup, nil, &got); st != 200 {
		t.Fatalf("release: %d", st)
	}
	if m := fr.expectEvent(room.ID); m.ID != "h1" || m.Body != text || m.Seq != 2 {
		t.Fatalf("after release the room got %s", m.raw)
	}
	if st := e.api("POST", "/api/escalations/"+page.Escalation.ID+"/release", sup, nil, &got); st != 200 ||
		!strings.Contains(got.Timeline[len(got.Timeline)-1].Detail, "already delivered as seq 2") {
		t.Fatalf("second release: %d %+v", st, got.Timeline[len(got.Timeline)-1])
	}
	var hist struct{ Messages []chat.Event }
	e.api("GET", "/api/conversations/"+room.ID+"/messages", friend, nil, &hist)
	if len(hist.Messages) != 2 {
		t.Fatalf("history has %d messages, want 2 (no duplicate release)", len(hist.Messages))
	}
	// Resending the held message does not hold it twice.
	p.send(map[string]any{"type": "send", "conv": room.ID, "id": "h3", "body": text + " again"})
	p.take(func(f frame) bool { return f.ID == "h3" && f.Type == "ack" })
	p.send(map[string]any{"type": "send", "conv": room.ID, "id": "h3", "body": text + " again"})
	p.take(func(f frame) bool { return f.ID == "h3" && f.Type == "ack" })
	var list struct{ Escalations []escalation.Escalation }
	e.api("GET", "/api/escalations", sup, nil, &list)
	held := 0
	for _, x := range list.Escalations {
		if x.Held() {
			held++
		}
	}
	if held != 2 {
		t.Fatalf("%d held escalations, want 2 (h1 and h3, each once)", held)
	}
}
