package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/postgres"
	"github.com/kindred-health/kindred/chat/store/sqlite"
)

const supportCrisisText = "I have the pills and I'm taking them tonight"

// supportOf decodes a support frame.
func supportOf(t testing.TB, f frame) protocol.Support {
	t.Helper()
	var s protocol.Support
	if f.Type != "support" || json.Unmarshal([]byte(f.raw), &s) != nil {
		t.Fatalf("not a support frame: %s", f.raw)
	}
	return s
}

// takeSupport waits for the support frame of note in state st ("" any).
func takeSupport(c *client, note string, st chat.SupportState) protocol.Support {
	c.t.Helper()
	return supportOf(c.t, c.take(func(f frame) bool {
		if f.Type != "support" {
			return false
		}
		var s protocol.Support
		_ = json.Unmarshal([]byte(f.raw), &s)
		return (note == "" || s.Note == note) && (st == "" || s.State == string(st))
	}))
}

// quiet asserts that c gets no frame of type typ before the answer to a
// ping (the session handles frames in order).
func quiet(c *client, typ string) {
	c.t.Helper()
	ref := fmt.Sprintf("quiet-%d", time.Now().UnixNano())
	c.send(map[string]any{"type": "ping", "ref": ref})
	for {
		f := c.next()
		if f.Type == typ {
			c.t.Fatalf("unexpected %s frame: %s", typ, f.raw)
		}
		if f.Type == "pong" && f.Ref == ref {
			return
		}
	}
}

// primaryOnCall puts supervisor sup on call as primary for the next hour.
func primaryOnCall(t *testing.T, st escalation.Store, sup string) {
	t.Helper()
	now := time.Now()
	if _, err := st.PutShift(context.Background(), escalation.Shift{Supervisor: sup, Tier: escalation.ShiftPrimary,
		Start: now.Add(-time.Hour), End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

// The support note of a crisis message reaches every session of its
// writer (and nobody else), says a supervisor was told only once a page
// reached one, follows the acknowledgement, comes back at every hello
// until dismissed, and only its owner can dismiss it: then every session
// of theirs hears it.
func TestSupportNoteFollowsThePerson(t *testing.T) {
	e := newEscalatingEnv(t, func(c *server.Config) { c.Detector = crisisDetector })
	primaryOnCall(t, e.store.(*sqlite.Store).Escalations(), "prim")
	spec, peer, friend := e.token("sam", auth.RoleSpecialist), e.token("pat", auth.RolePeer), e.token("fay", auth.RolePeer)
	prim := e.token("prim", auth.RoleSupervisor)
	room := e.createRoom(spec, "Evening group")
	p1 := e.dial(peer, nil)
	p1.join(room.ID)
	p2 := e.dial(peer, nil) // the same person on another device
	fr := e.dial(friend, nil)
	fr.join(room.ID)
	sp := e.dial(prim, nil)

	ack := p1.sendMsg(room.ID, "c1", supportCrisisText)
	s1 := takeSupport(p1, "", "")
	if s1.Note == "" || s1.Conv != room.ID || s1.Seq != ack.Seq || s1.State != string(chat.SupportTold) ||
		!strings.Contains(s1.Text, "has been told") || s1.Resources[0].Call != "988" || s1.Resources[0].Text != "988" {
		t.Fatalf("support note on the sending session: %+v", s1)
	}
	if strings.Contains(s1.Text, supportCrisisText) {
		t.Fatal("the note repeats the message")
	}
	if s2 := takeSupport(p2, s1.Note, chat.SupportTold); s2.Seq != ack.Seq || s2.Text != s1.Text {
		t.Fatalf("support note on the other session: %+v", s2)
	}
	quiet(fr, "support")

	// A supervisor acknowledges: every session hears that someone saw it.
	page := decodeEscalation(t, sp.take(func(f frame) bool { return f.Type == "escalation" && strings.Contains(f.raw, `"page":true`) }))
	if st := e.api("POST", "/api/escalations/"+page.Escalation.ID+"/ack", prim, nil, nil); st != http.StatusOK {
		t.Fatalf("ack: %d", st)
	}
	for _, c := range []*client{p1, p2} {
		if s := takeSupport(c, s1.Note, chat.SupportSeen); !strings.Contains(s.Text, "has seen your message") {
			t.Fatalf("note once acknowledged: %+v", s)
		}
	}

	// A reload: the new session gets the note again, as it is now.
	p3 := e.dial(peer, nil)
	if s := takeSupport(p3, s1.Note, ""); s.State != string(chat.SupportSeen) || s.Seq != ack.Seq {
		t.Fatalf("note after a reload: %+v", s)
	}

	// Bad input, and someone else's note, get documented errors; the
	// sessions stay open.
	for _, c := range []struct {
		who   *client
		frame map[string]any
		code  chat.Code
	}{
		{p1, map[string]any{"type": "dismiss_support", "ref": "d0"}, chat.CodeMissingField},
		{p1, map[string]any{"type": "dismiss_support", "ref": "d0", "note": strings.Repeat("n", 65)}, chat.CodeInvalidField},
		{p1, map[string]any{"type": "dismiss_support", "ref": "d0", "note": "sn_nosuchnote"}, chat.CodeNotFound},
		{fr, map[string]any{"type": "dismiss_support", "ref": "d0", "note": s1.Note}, chat.CodeNotFound},
	} {
		c.who.send(c.frame)
		if f := c.who.take(func(f frame) bool { return f.Ref == "d0" }); f.Type != "error" || f.Code != c.code {
			t.Fatalf("dismiss_support %v: got %s, want error %s", c.frame, f.raw, c.code)
		}
	}

	p2.send(map[string]any{"type": "dismiss_support", "ref": "d1", "note": s1.Note})
	if f := p2.take(func(f frame) bool { return f.Ref == "d1" }); f.Type != "support_dismissed" || !strings.Contains(f.raw, s1.Note) {
		t.Fatalf("dismissal answer: %s", f.raw)
	}
	for _, c := range []*client{p1, p3} {
		if f := c.take(func(f frame) bool { return f.Type == "support_dismissed" }); !strings.Contains(f.raw, s1.Note) {
			t.Fatalf("dismissal news: %s", f.raw)
		}
	}
	quiet(e.dial(peer, nil), "support") // gone for good
	// A resend of the message does not bring a dismissed note back.
	p1.sendMsg(room.ID, "c1", supportCrisisText)
	quiet(p1, "support")
}

// With nobody on call and no supervisor online, the note says plainly
// that nobody could be reached and points to the lifeline, never that a
// supervisor was told; once a supervisor comes online the engine pages
// them and the note says so, whatever tier the escalation has reached;
// when the chain then runs out unacknowledged, the note says that nobody
// has answered and points to the lifeline again.
func TestSupportNoteSaysWhenNobodyIsReached(t *testing.T) {
	e := newEscalatingEnvWith(t, server.EscalationOptions{Policy: escalation.Policy{
		AckTimeout:     map[crisis.Severity]time.Duration{crisis.Imminent: 700 * time.Millisecond},
		UnreachedRetry: 300 * time.Millisecond,
	}}, func(c *server.Config) { c.Detector = crisisDetector })
	spec, peer := e.token("sam", auth.RoleSpecialist), e.token("pat", auth.RolePeer)
	room := e.createRoom(spec, "Evening group")
	p := e.dial(peer, nil)
	p.join(room.ID)

	p.sendMsg(room.ID, "c1", supportCrisisText)
	s := takeSupport(p, "", "")
	if s.State != string(chat.SupportUnreached) || !strings.Contains(s.Text, "could not reach a supervisor") ||
		strings.Contains(s.Text, "has been told") || s.Resources[0].Call != "988" {
		t.Fatalf("note with nobody to reach: %+v", s)
	}

	// The engine goes on paging, tier after tier, with nobody to page;
	// past the last tier a supervisor signs in, and nobody acknowledges.
	sue := e.token("sue", auth.RoleSupervisor)
	waitFor(t, "the escalation past its last tier", func() bool {
		var list struct{ Escalations []escalation.Escalation }
		e.api("GET", "/api/escalations?subject=pat", sue, nil, &list)
		return len(list.Escalations) == 1 && list.Escalations[0].Tier > escalation.LastTier
	})
	e.dial(sue, nil)
	if told := takeSupport(p, s.Note, chat.SupportTold); !strings.Contains(told.Text, "has been told") {
		t.Fatalf("note once a supervisor was paged: %+v", told)
	}
	if out := takeSupport(p, s.Note, chat.SupportUnanswered); !strings.Contains(out.Text, "has answered yet") ||
		!strings.Contains(out.Text, "do not wait") || strings.Contains(out.Text, "has been told") {
		t.Fatalf("note once the chain ran out: %+v", out)
	}
}

// Without an escalation engine nobody can be told: the note says so.
func TestSupportNoteWithoutEscalation(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.Detector = crisisDetector })
	spec, peer := e.token("sam", auth.RoleSpecialist), e.token("pat", auth.RolePeer)
	room := e.createRoom(spec, "Evening group")
	p := e.dial(peer, nil)
	p.join(room.ID)
	p.sendMsg(room.ID, "c1", supportCrisisText)
	if s := takeSupport(p, "", ""); s.State != string(chat.SupportUnreached) || strings.Contains(s.Text, "has been told") {
		t.Fatalf("note without escalation: %+v", s)
	}
}

// The crisis resources need no crisis: in every welcome and at GET
// /api/support, with tap-to-call and tap-to-text numbers.
func TestSupportResources(t *testing.T) {
	e := newEnv(t)
	tok := e.token("pat", auth.RolePeer)
	c := e.dialRaw(nil)
	c.send(map[string]any{"type": "hello", "token": tok})
	var w protocol.Welcome
	if err := json.Unmarshal([]byte(c.expect("welcome").raw), &w); err != nil || len(w.CrisisResources) == 0 || w.CrisisResources[0].Call != "988" {
		t.Fatalf("welcome's crisis resources: %+v, %v", w.CrisisResources, err)
	}
	var got struct {
		Text      string
		Resources []protocol.Resource
	}
	if st := e.api("GET", "/api/support", tok, nil, &got); st != http.StatusOK || got.Text == "" ||
		len(got.Resources) != 2 || got.Resources[0].Text != "988" || got.Resources[1].Call != "911" {
		t.Fatalf("GET /api/support: %d %+v", st, got)
	}
	if st := e.api("GET", "/api/support", "", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("GET /api/support without a token: %d", st)
	}
}

// The support file's words are checked before the server starts.
func TestSupportWordsCheck(t *testing.T) {
	ok := server.DefaultCrisisSupport()
	if err := ok.Check(); err != nil {
		t.Fatalf("default: %v", err)
	}
	bad := map[string]func(w *server.SupportWords){
		"no text":       func(w *server.SupportWords) { w.Text = "" },
		"no resources":  func(w *server.SupportWords) { w.Resources = nil },
		"unknown state": func(w *server.SupportWords) { w.States = map[chat.SupportState]string{"maybe": "x"} },
		"empty state":   func(w *server.SupportWords) { w.States = map[chat.SupportState]string{chat.SupportTold: ""} },
		"call letters":  func(w *server.SupportWords) { w.Resources[0].Call = "call-me" },
		"text spaces":   func(w *server.SupportWords) { w.Resources[0].Text = "9 8 8" },
		"no name":       func(w *server.SupportWords) { w.Resources[1].Name = "" },
	}
	for name, mod := range bad {
		w := server.DefaultCrisisSupport()
		mod(&w)
		if err := w.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// On the Redis and PostgreSQL cluster the note reaches the writer's
// session on the other node, comes back on a reconnect there, and a
// dismissal on one node reaches the other.
func TestClusterSupportNote(t *testing.T) {
	c := newCluster(t, 2, "", func(i int, cfg *server.Config, st *postgres.Store) {
		cfg.Detector = crisisDetector
		withEscalation(t, cfg, st.Escalations(), server.EscalationOptions{NodeID: fmt.Sprintf("node%d", i)})
	})
	primaryOnCall(t, c.nodes[0].store.(*postgres.Store).Escalations(), "prim")
	c.dial(1, c.token("prim", auth.RoleSupervisor), nil)
	spec, peer := c.token("sam", auth.RoleSpecialist), c.token("pat", auth.RolePeer)
	room := c.env(0).createRoom(spec, "Evening group")
	p0 := c.dial(0, peer, nil)
	p0.join(room.ID)
	p1 := c.dial(1, peer, nil)

	ack := p0.sendMsg(room.ID, "c1", supportCrisisText)
	s := takeSupport(p1, "", "")
	if s.Seq != ack.Seq || s.State != string(chat.SupportTold) {
		t.Fatalf("note on the other node: %+v", s)
	}
	if again := takeSupport(c.dial(1, peer, nil), s.Note, ""); again.Seq != ack.Seq {
		t.Fatalf("note after reconnecting to the other node: %+v", again)
	}
	p1.send(map[string]any{"type": "dismiss_support", "ref": "d1", "note": s.Note})
	if f := p1.take(func(f frame) bool { return f.Ref == "d1" }); f.Type != "support_dismissed" {
		t.Fatalf("dismissal: %s", f.raw)
	}
	if f := p0.take(func(f frame) bool { return f.Type == "support_dismissed" }); !strings.Contains(f.raw, s.Note) {
		t.Fatalf("dismissal news on node 0: %s", f.raw)
	}
	quiet(c.dial(0, peer, nil), "support")
}

// Each escalation step moves the note only as far as the truth goes: a
// page with an unknown outcome changes nothing; past the last tier, a
// note that told someone becomes unanswered, and one that told nobody
// becomes told when someone is reached at last.
func TestSupportMoves(t *testing.T) {
	const (
		pending, told, unreached, unanswered, seen = chat.SupportPending, chat.SupportTold, chat.SupportUnreached, chat.SupportUnanswered, chat.SupportSeen
	)
	page := escalation.Step{Kind: escalation.StepEscalated}
	for _, c := range []struct {
		name    string
		tier    int
		step    escalation.Step
		reached int
		err     error
		want    [][]chat.SupportState // target first, then the states it may start from
	}{
		{"acknowledged", 1, escalation.Step{Kind: escalation.StepAcknowledged}, 0, nil, [][]chat.SupportState{{seen}}},
		{"resolved", 3, escalation.Step{Kind: escalation.StepResolved}, 0, nil, [][]chat.SupportState{{seen}}},
		{"note", 1, escalation.Step{Kind: escalation.StepNote}, 0, nil, nil},
		{"first page reached", 0, escalation.Step{Kind: escalation.StepNotified}, 1, nil, [][]chat.SupportState{{told, pending, unreached}}},
		{"page reached nobody", 1, page, 0, nil, [][]chat.SupportState{{unreached, pending, told}}},
		{"presence failed", 1, page, 0, errors.New("presence down"), nil},
		{"past the last tier, reached", escalation.LastTier + 1, page, 2, nil,
			[][]chat.SupportState{{unanswered, told}, {told, pending, unreached}}},
		{"past the last tier, nobody", escalation.LastTier + 1, page, 0, nil, [][]chat.SupportState{{unreached, pending, told}}},
	} {
		got := server.SupportMoves(&escalation.Escalation{Tier: c.tier}, c.step, c.reached, c.err)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: moves %v, want %v", c.name, got, c.want)
		}
	}
}
