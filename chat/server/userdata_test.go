package server_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/store/sqlite"
)

// exportOf is the part of GET /api/users/{id}/export the tests read.
type exportOf struct {
	User        *chat.User
	Memberships []chat.Membership
	Messages    []chat.Event
	Escalations []escalation.Escalation
}

type erasureOf struct {
	Erased map[string]int
	Kept   []chat.Kept
}

func (x erasureOf) kept(what string) chat.Kept {
	for _, k := range x.Kept {
		if k.What == what {
			return k
		}
	}
	return chat.Kept{}
}

// openEscalationAbout stores an open escalation about user whose
// snapshot quotes body.
func openEscalationAbout(t *testing.T, e *env, user, conv, body string) string {
	t.Helper()
	now := time.Now()
	esc := &escalation.Escalation{ID: "esc-" + user, Conv: conv, Subject: user, Source: escalation.SourceFlag,
		Message: chat.Event{Conv: conv, Seq: 1, Kind: chat.EventMessage, Sender: user, Body: body, Time: now},
		Status:  escalation.StatusOpen, CreatedAt: now, AckDeadline: now.Add(time.Hour),
		Timeline: []escalation.Step{{At: now, Kind: escalation.StepCreated, Actor: escalation.SystemActor}}}
	if _, _, err := e.store.(*sqlite.Store).Escalations().Create(context.Background(), esc); err != nil {
		t.Fatal(err)
	}
	return esc.ID
}

// Only admins export, erase and hold. The export holds the user's
// messages from a room and a DM and the escalation about them. The
// erasure closes the user's open session, leaves tombstones where their
// messages were, keeps the message in a room under a legal hold and the
// open escalation's snapshot, and says so; both are in the audit log.
func TestExportAndErase(t *testing.T) {
	e := newEscalatingEnv(t, noRateLimit)
	admin, sup := e.token("ada", auth.RoleAdmin), e.token("sue", auth.RoleSupervisor)
	patTok, bobTok := e.token("pat", auth.RolePeer), e.token("bob", auth.RolePeer)
	room, held := e.createRoom(sup, "Evening group"), e.createRoom(sup, "Held group")
	pat, bob := e.dial(patTok, nil), e.dial(bobTok, nil)
	for _, c := range []*client{pat, bob} {
		c.join(room.ID)
		c.join(held.ID)
	}
	var dm chat.Conversation
	if st := e.api("POST", "/api/dms", patTok, map[string]string{"user": "bob"}, &dm); st != http.StatusOK && st != http.StatusCreated {
		t.Fatalf("open dm: %d", st)
	}
	pat.sendMsg(room.ID, "r1", "pat in the room")
	pat.sendMsg(dm.ID, "d1", "pat in the dm")
	pat.sendMsg(held.ID, "h1", "pat in the held room")
	escID := openEscalationAbout(t, e, "pat", room.ID, "pat in the room")

	for _, call := range []struct{ method, path string }{
		{"GET", "/api/users/pat/export"}, {"POST", "/api/users/pat/erase"}, {"PUT", "/api/holds/rooms/" + held.ID}, {"GET", "/api/holds"},
	} {
		if st := e.api(call.method, call.path, sup, nil, nil); st != http.StatusForbidden {
			t.Errorf("a supervisor's %s %s: %d, want 403", call.method, call.path, st)
		}
		if st := e.api(call.method, call.path, patTok, nil, nil); st != http.StatusForbidden {
			t.Errorf("a peer's %s %s: %d, want 403", call.method, call.path, st)
		}
	}
	var x exportOf
	if st := e.api("GET", "/api/users/pat/export", admin, nil, &x); st != 200 || x.User == nil || x.User.ID != "pat" {
		t.Fatalf("export: %d %+v", st, x.User)
	}
	var bodies []string
	for _, m := range x.Messages {
		bodies = append(bodies, m.Conv+"|"+m.Body)
	}
	for _, want := range []string{room.ID + "|pat in the room", dm.ID + "|pat in the dm"} {
		if !slices.Contains(bodies, want) {
			t.Errorf("export messages %q lack %q", bodies, want)
		}
	}
	if len(x.Escalations) != 1 || x.Escalations[0].ID != escID || len(x.Memberships) != 3 {
		t.Errorf("export: %d escalations, %d memberships", len(x.Escalations), len(x.Memberships))
	}

	var h chat.Hold
	if st := e.api("PUT", "/api/holds/rooms/"+held.ID, admin, map[string]string{"reason": "case 7"}, &h); st != 200 || h.Subject != held.ID {
		t.Fatalf("hold: %d %+v", st, h)
	}
	var er erasureOf
	if st := e.api("POST", "/api/users/pat/erase", admin, nil, &er); st != 200 {
		t.Fatalf("erase: %d", st)
	}
	expectEnded(t, pat, chat.CodeTokenRevoked, 4011, "pat's session")
	if er.Erased["messages"] != 2 || er.kept("messages").Count != 1 || er.kept("escalations").Count != 1 ||
		!strings.Contains(er.kept("messages").Reason, "legal hold") || !strings.Contains(er.kept("escalations").Reason, "open") {
		t.Errorf("erasure answer: %+v", er)
	}
	wantHistory := map[string]string{room.ID: "", dm.ID: "", held.ID: "pat in the held room"}
	for conv, want := range wantHistory {
		var page struct{ Messages []chat.Event }
		if st := e.api("GET", "/api/conversations/"+conv+"/messages", bobTok, nil, &page); st != 200 || len(page.Messages) != 1 {
			t.Fatalf("history of %s: %d %+v", conv, st, page.Messages)
		}
		if m := page.Messages[0]; m.Body != want || m.Deleted != (want == "") {
			t.Errorf("pat's message in %s after the erasure: %+v, want body %q", conv, m, want)
		}
	}
	var got escalation.Escalation
	if st := e.api("GET", "/api/escalations/"+escID, admin, nil, &got); st != 200 || got.Message.Body != "pat in the room" {
		t.Errorf("the open escalation after the erasure: %d %+v", st, got.Message)
	}
	var log struct{ Entries []chat.AuditEntry }
	e.api("GET", "/api/audit?actor=ada", admin, nil, &log)
	var actions []string
	for _, en := range log.Entries {
		actions = append(actions, en.Action)
		if strings.Contains(en.Detail, "pat in") || strings.Contains(en.Reason, "pat in") {
			t.Errorf("audit entry holds message text: %+v", en)
		}
	}
	for _, a := range []string{"user.export", "user.erase", "hold.set"} {
		if !slices.Contains(actions, a) {
			t.Errorf("audit log %v lacks %s", actions, a)
		}
	}
}

// A legal hold on the user keeps everything an erasure would remove, and
// the answer says so; the hold can be listed and lifted once.
func TestEraseHeldUser(t *testing.T) {
	e := newEnv(t, noRateLimit)
	admin, patTok := e.token("ada", auth.RoleAdmin), e.token("pat", auth.RolePeer)
	room := e.createRoom(e.token("sue", auth.RoleSupervisor), "Group")
	bobTok := e.token("bob", auth.RolePeer)
	pat := e.dial(patTok, nil)
	pat.join(room.ID)
	e.dial(bobTok, nil).join(room.ID)
	pat.sendMsg(room.ID, "m1", "kept by the hold")
	if st := e.api("PUT", "/api/holds/users/pat", admin, map[string]string{"reason": "case 8"}, nil); st != 200 {
		t.Fatalf("hold: %d", st)
	}
	var list struct{ Holds []chat.Hold }
	if st := e.api("GET", "/api/holds?subject=pat", admin, nil, &list); st != 200 || len(list.Holds) != 1 || list.Holds[0].Reason != "case 8" {
		t.Errorf("holds: %d %+v", st, list.Holds)
	}
	var er erasureOf
	if st := e.api("POST", "/api/users/pat/erase", admin, nil, &er); st != 200 || er.kept("messages").Count != 1 ||
		!strings.Contains(er.kept("messages").Reason, "hold on the user") || er.Erased["messages"] != 0 {
		t.Errorf("erasure of a held user: %d %+v", st, er)
	}
	var page struct{ Messages []chat.Event }
	if e.api("GET", "/api/conversations/"+room.ID+"/messages", bobTok, nil, &page); len(page.Messages) != 1 || page.Messages[0].Body != "kept by the hold" {
		t.Errorf("a held user's message after the erasure: %+v", page.Messages)
	}
	if st := e.api("DELETE", "/api/holds/users/pat", admin, nil, nil); st != 200 {
		t.Errorf("lifting the hold: %d", st)
	}
	var out struct{ Error chat.Error }
	if st := e.api("DELETE", "/api/holds/users/pat", admin, nil, &out); st != 404 || out.Error.Code != chat.CodeNotFound {
		t.Errorf("lifting it again: %d %+v", st, out)
	}
}
