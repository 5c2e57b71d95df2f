package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// Room rules (docs/moderation.md#room-settings): guidelines, locked,
// read-only, slow mode and a member limit, set with PATCH /api/rooms/{id},
// each enforced by the server and lifted by setting it back.

// setRules changes room's settings as token's user, which must succeed.
func (e *env) setRules(token, room string, set map[string]any) {
	e.t.Helper()
	e.mustMod("PATCH", "/api/rooms/"+room, token, set)
}

// tryJoin sends a join frame and returns its answer.
func (c *client) tryJoin(conv string) frame {
	c.t.Helper()
	c.send(map[string]any{"type": "join", "conv": conv, "ref": "tj-" + conv})
	return c.take(func(f frame) bool { return f.Ref == "tj-"+conv })
}

// isSettingsNews tells news of a room's settings (it carries no role) from
// the news of a join, a copy of the join's answer that may still be unread
// in the client's backlog and says "not read-only" too.
func isSettingsNews(cv chat.Conversation) bool { return !cv.Role.Valid() }

func TestReadOnlyRoom(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoom(ann, "Announcements")
	a, b := e.dial(ann, nil), e.dial(bob, nil)
	b.join(room.ID)
	e.setRules(ann, room.ID, map[string]any{"read_only": true})
	b.membership(room.ID, func(cv chat.Conversation) bool { return cv.ReadOnly })
	if f := b.trySend(room.ID, "b1", "can I?"); f.Type != "error" || f.Code != chat.CodeReadOnly {
		t.Fatalf("a member's send in a read-only room: %s", f.raw)
	}
	a.membership(room.ID, func(cv chat.Conversation) bool { return cv.ReadOnly })
	if f := a.trySend(room.ID, "a1", "news"); f.Type != "ack" {
		t.Fatalf("the owner's send in a read-only room: %s", f.raw)
	}
	e.setRules(ann, room.ID, map[string]any{"read_only": false})
	b.membership(room.ID, func(cv chat.Conversation) bool { return isSettingsNews(cv) && !cv.ReadOnly })
	if f := b.trySend(room.ID, "b2", "now I can"); f.Type != "ack" {
		t.Fatalf("a send once read-only is lifted: %s", f.raw)
	}
}

func TestLockedAndFullRoom(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, bob, cat := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer), e.token("cat", auth.RolePeer)
	room := e.createRoom(ann, "Circle")
	b, c := e.dial(bob, nil), e.dial(cat, nil)
	b.join(room.ID)
	inv := e.invite(ann, room.ID, 60, 5)
	e.setRules(ann, room.ID, map[string]any{"locked": true})
	if f := c.tryJoin(room.ID); f.Type != "error" || f.Code != chat.CodeRoomLocked {
		t.Fatalf("joining a locked room: %s", f.raw)
	}
	if st, er := e.mod("POST", "/api/rooms/"+room.ID+"/join", cat, nil); st != http.StatusForbidden || er.Code != chat.CodeRoomLocked {
		t.Fatalf("joining a locked room over HTTP: %d %+v", st, er)
	}
	if st, _, er := e.accept(cat, inv.Invite.Code); st != http.StatusForbidden || er.Code != chat.CodeRoomLocked {
		t.Fatalf("an invite into a locked room: %d %+v", st, er)
	}
	if f := b.tryJoin(room.ID); f.Type != "conversation" {
		t.Fatalf("a member joining again: %s", f.raw)
	}
	e.mustMod("POST", "/api/rooms/"+room.ID+"/members", ann, map[string]string{"user": "cat"}) // moderators still add
	e.mustMod("DELETE", members(room.ID, "cat", ""), ann, nil)
	e.setRules(ann, room.ID, map[string]any{"locked": false, "max_members": 2})
	if st, er := e.mod("POST", "/api/rooms/"+room.ID+"/join", cat, nil); st != http.StatusConflict || er.Code != chat.CodeRoomFull {
		t.Fatalf("joining a full room: %d %+v", st, er)
	}
	if st, _, er := e.accept(cat, inv.Invite.Code); st != http.StatusConflict || er.Code != chat.CodeRoomFull {
		t.Fatalf("an invite into a full room: %d %+v", st, er)
	}
	e.setRules(ann, room.ID, map[string]any{"max_members": 3})
	if st, cv, er := e.accept(cat, inv.Invite.Code); st != http.StatusOK || cv.Members != 3 {
		t.Fatalf("an invite once there is room: %d %+v %+v", st, cv, er)
	}
	var list struct{ Invites []chat.Invite }
	if e.api("GET", "/api/rooms/"+room.ID+"/invites", ann, nil, &list); list.Invites[0].Uses != 1 {
		t.Errorf("refused accepts kept uses: %+v", list.Invites)
	}
}

func TestSlowMode(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoom(ann, "Busy")
	a, b := e.dial(ann, nil), e.dial(bob, nil)
	b.join(room.ID)
	e.setRules(ann, room.ID, map[string]any{"slow_mode_seconds": 60})
	b.membership(room.ID, func(cv chat.Conversation) bool { return cv.SlowModeSeconds == 60 })
	if f := b.trySend(room.ID, "b1", "first"); f.Type != "ack" {
		t.Fatalf("the first send in slow mode: %s", f.raw)
	}
	f := b.trySend(room.ID, "b2", "second")
	if f.Type != "error" || f.Code != chat.CodeSlowMode || !f.Temporary || f.RetryAfterMS < 50_000 || f.RetryAfterMS > 60_000 {
		t.Fatalf("a second send within a minute: %s", f.raw)
	}
	a.membership(room.ID, func(cv chat.Conversation) bool { return cv.SlowModeSeconds == 60 })
	for _, id := range []string{"a1", "a2"} {
		if f := a.trySend(room.ID, id, "moderators are exempt"); f.Type != "ack" {
			t.Fatalf("the owner in slow mode: %s", f.raw)
		}
	}
	e.setRules(ann, room.ID, map[string]any{"slow_mode_seconds": 0})
	b.membership(room.ID, func(cv chat.Conversation) bool { return cv.SlowModeSeconds == 0 })
	if f := b.trySend(room.ID, "b3", "again"); f.Type != "ack" {
		t.Fatalf("a send once slow mode is off: %s", f.raw)
	}
}

func TestGuidelinesGateFirstPost(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoom(ann, "Guided")
	b := e.dial(bob, nil)
	b.join(room.ID)
	e.setRules(ann, room.ID, map[string]any{"guidelines": "Be kind. Nothing leaves the room."})
	b.membership(room.ID, func(cv chat.Conversation) bool { return cv.GuidelinesVersion == 1 })
	f := b.trySend(room.ID, "b1", "hello")
	if f.Type != "error" || f.Code != chat.CodeGuidelinesReq || strings.Contains(f.Message, "kind") {
		t.Fatalf("a send before accepting: %s", f.raw)
	}
	var out struct {
		Version int64 `json:"guidelines_version"`
	}
	if st := e.api("POST", "/api/rooms/"+room.ID+"/guidelines/accept", bob, nil, &out); st != 200 || out.Version != 1 {
		t.Fatalf("accepting: %d %+v", st, out)
	}
	b.membership(room.ID, func(cv chat.Conversation) bool { return cv.GuidelinesAccepted == 1 })
	if f := b.trySend(room.ID, "b2", "hello"); f.Type != "ack" {
		t.Fatalf("a send after accepting: %s", f.raw)
	}
	// A change needs accepting again; accepting a stale version is refused.
	e.setRules(ann, room.ID, map[string]any{"guidelines": "Be kind. No advice on medication."})
	b.membership(room.ID, func(cv chat.Conversation) bool { return cv.GuidelinesVersion == 2 })
	if f := b.trySend(room.ID, "b3", "hi"); f.Code != chat.CodeGuidelinesReq {
		t.Fatalf("a send after the guidelines changed: %s", f.raw)
	}
	if st, er := e.mod("POST", "/api/rooms/"+room.ID+"/guidelines/accept", bob, map[string]int{"version": 1}); st != 409 || er.Code != chat.CodeConflict {
		t.Fatalf("accepting the old version: %d %+v", st, er)
	}
	e.mustMod("POST", "/api/rooms/"+room.ID+"/guidelines/accept", bob, map[string]int{"version": 2})
	b.membership(room.ID, func(cv chat.Conversation) bool { return cv.GuidelinesAccepted == 2 })
	if f := b.trySend(room.ID, "b4", "hi"); f.Type != "ack" {
		t.Fatalf("a send after accepting again: %s", f.raw)
	}
	// A newcomer is told the guidelines with the room, and must accept.
	cat := e.token("cat", auth.RolePeer)
	c := e.dial(cat, nil)
	c.join(room.ID)
	if f := c.trySend(room.ID, "c1", "hi"); f.Code != chat.CodeGuidelinesReq {
		t.Fatalf("a newcomer's first send: %s", f.raw)
	}
	want := "room.create room.settings guidelines.accept room.settings guidelines.accept"
	if got := strings.Join(e.auditActions(room.ID), " "); got != want {
		t.Errorf("audit: %s; want %s", got, want)
	}
}

// Settings changed through one node bind sessions on another at once: the
// news travels through the broker to every member's channel.
func TestClusterRoomRules(t *testing.T) {
	c := newCluster(t, 2, "")
	ann, bob := c.token("ann", auth.RoleSpecialist), c.token("bob", auth.RolePeer)
	a := c.env(0)
	room := a.createRoom(ann, "Across nodes")
	b := c.dial(1, bob, nil)
	b.join(room.ID)
	a.mustMod("PATCH", "/api/rooms/"+room.ID, ann, map[string]any{"read_only": true, "guidelines": "Be kind."})
	b.membership(room.ID, func(cv chat.Conversation) bool { return cv.ReadOnly && cv.GuidelinesVersion == 1 })
	if f := b.trySend(room.ID, "b1", "hello"); f.Code != chat.CodeReadOnly {
		t.Fatalf("a send on the other node: %s", f.raw)
	}
	a.mustMod("PATCH", "/api/rooms/"+room.ID, ann, map[string]any{"read_only": false})
	b.membership(room.ID, func(cv chat.Conversation) bool { return isSettingsNews(cv) && !cv.ReadOnly })
	if f := b.trySend(room.ID, "b2", "hello"); f.Code != chat.CodeGuidelinesReq {
		t.Fatalf("a send before accepting, on the other node: %s", f.raw)
	}
	a.mustMod("POST", "/api/rooms/"+room.ID+"/guidelines/accept", bob, nil)
	b.membership(room.ID, func(cv chat.Conversation) bool { return cv.GuidelinesAccepted == 1 })
	if f := b.trySend(room.ID, "b3", "hello"); f.Type != "ack" {
		t.Fatalf("a send after accepting on the other node: %s", f.raw)
	}
}
