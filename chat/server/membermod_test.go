package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// Moderators' actions (docs/moderation.md): naming moderators, muting,
// removing and banning members, each enforced by the server whatever the
// client shows, and each written once to the audit log.

// mod calls a moderation route and returns the status and error code.
func (e *env) mod(method, path, token string, body any) (int, chat.Error) {
	e.t.Helper()
	var out struct{ Error chat.Error }
	st := e.api(method, path, token, body, &out)
	return st, out.Error
}

// mustMod calls a moderation route that must succeed.
func (e *env) mustMod(method, path, token string, body any) {
	e.t.Helper()
	if st, er := e.mod(method, path, token, body); st != http.StatusOK {
		e.t.Fatalf("%s %s: %d %+v", method, path, st, er)
	}
}

// trySend sends a message and returns its ack or error.
func (c *client) trySend(conv, id, body string) frame {
	c.t.Helper()
	c.send(map[string]any{"type": "send", "conv": conv, "id": id, "body": body})
	return c.take(func(f frame) bool { return (f.Type == "ack" || f.Type == "error") && f.ID == id })
}

// membership waits for news of the user's membership of conv that ok
// accepts (earlier news, such as the echo of a join, is passed over).
func (c *client) membership(conv string, ok func(chat.Conversation) bool) chat.Conversation {
	c.t.Helper()
	return c.take(func(f frame) bool { return f.Type == "conversation" && f.Conversation.ID == conv && ok(f.Conversation) }).Conversation
}

func isMuted(cv chat.Conversation) bool    { return cv.MutedUntil > 0 }
func isNotMuted(cv chat.Conversation) bool { return cv.MutedUntil == 0 }

func members(room, user, suffix string) string {
	return "/api/rooms/" + room + "/members/" + user + suffix
}

func TestModeratorMutes(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, bob, cat := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer), e.token("cat", auth.RolePeer)
	room := e.createRoom(ann, "Support")
	b, c := e.dial(bob, nil), e.dial(cat, nil)
	b.join(room.ID)
	c.join(room.ID)

	// Bob, a peer member, may not mute until the owner names him.
	if st, er := e.mod("POST", members(room.ID, "cat", "/mute"), bob, map[string]any{"minutes": 30}); st != 403 || er.Code != chat.CodeForbidden {
		t.Fatalf("a member muting: %d %+v", st, er)
	}
	e.mustMod("PUT", members(room.ID, "bob", "/role"), ann, map[string]string{"role": "moderator"})
	b.membership(room.ID, func(cv chat.Conversation) bool { return cv.Role == chat.RoomModerator })
	e.mustMod("POST", members(room.ID, "cat", "/mute"), bob, map[string]any{"minutes": 30, "reason": "heated"})
	if cv := c.membership(room.ID, isMuted); cv.MutedUntil <= time.Now().UnixNano() || cv.Role != chat.RoomMember {
		t.Fatalf("cat's session was told %+v", cv)
	}
	// The client could still send: the server refuses.
	f := c.trySend(room.ID, "m1", "still talking")
	if f.Type != "error" || f.Code != chat.CodeMuted || f.Temporary || !strings.Contains(f.Message, "until 20") {
		t.Fatalf("muted send answered %s", f.raw)
	}
	// Joining again, or a new session, keeps the mute.
	c.send(map[string]any{"type": "join", "conv": room.ID, "ref": "again"})
	c.take(func(f frame) bool { return f.Ref == "again" })
	c2 := e.dial(cat, nil)
	c2.expectSynced(room.ID)
	for i, cl := range []*client{c, c2} {
		if f := cl.trySend(room.ID, fmt.Sprint("again", i), "hi"); f.Code != chat.CodeMuted {
			t.Fatalf("session %d after a rejoin: %s", i, f.raw)
		}
	}
	e.mustMod("DELETE", members(room.ID, "cat", "/mute"), bob, nil)
	c.membership(room.ID, isNotMuted)
	c2.membership(room.ID, isNotMuted)
	c.sendMsg(room.ID, "m2", "sorry")
	// Until lifted: the message says so.
	e.mustMod("POST", members(room.ID, "cat", "/mute"), ann, map[string]any{})
	c.membership(room.ID, func(cv chat.Conversation) bool { return cv.MutedUntil == chat.MutedForever })
	if f := c.trySend(room.ID, "m3", "x"); f.Code != chat.CodeMuted || !strings.Contains(f.Message, "until a moderator lifts it") {
		t.Fatalf("muted until lifted: %s", f.raw)
	}
	c.send(map[string]any{"type": "edit", "conv": room.ID, "seq": 1, "body": "edited", "ref": "ed"})
	if f := c.take(func(f frame) bool { return f.Ref == "ed" }); f.Code != chat.CodeMuted {
		t.Fatalf("muted edit: %s", f.raw)
	}
	// Leaving and joining again does not lift it.
	c.send(map[string]any{"type": "leave", "conv": room.ID, "ref": "l"})
	c.take(func(f frame) bool { return f.Ref == "l" })
	c.join(room.ID)
	if f := c.trySend(room.ID, "m4", "x"); f.Code != chat.CodeMuted {
		t.Fatalf("muted after leaving and joining again: %s", f.raw)
	}
}

func TestModeratorRemoves(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, cat := e.token("ann", auth.RoleSpecialist), e.token("cat", auth.RolePeer)
	room := e.createRoom(ann, "Support")
	a, c := e.dial(ann, nil), e.dial(cat, nil)
	a.expectSynced(room.ID)
	c.join(room.ID)
	e.mustMod("DELETE", members(room.ID, "cat", ""), ann, map[string]string{"reason": "spam"})
	c.take(func(f frame) bool { return f.Type == "left" && f.Conv == room.ID })
	a.take(func(f frame) bool {
		return f.Type == "member" && f.Conv == room.ID && strings.Contains(string(f.User), `"cat"`) && strings.Contains(f.raw, `"joined":false`)
	})
	if f := c.trySend(room.ID, "x", "still here?"); f.Code != chat.CodeNotMember {
		t.Fatalf("a removed member's send: %s", f.raw)
	}
	if st, er := e.mod("DELETE", members(room.ID, "cat", ""), ann, nil); st != 404 {
		t.Fatalf("removing a non-member: %d %+v", st, er)
	}
	c.join(room.ID) // removal is not a ban
}

func TestModeratorBans(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, cat := e.token("ann", auth.RoleSpecialist), e.token("cat", auth.RolePeer)
	room := e.createRoom(ann, "Support")
	c := e.dial(cat, nil)
	c.join(room.ID)
	e.mustMod("POST", "/api/rooms/"+room.ID+"/bans", ann, map[string]any{"user": "cat", "reason": "threats"})
	c.take(func(f frame) bool { return f.Type == "left" && f.Conv == room.ID })
	if f := c.trySend(room.ID, "x", "hello?"); f.Code != chat.CodeNotMember {
		t.Fatalf("a banned member's send: %s", f.raw)
	}
	c.send(map[string]any{"type": "join", "conv": room.ID, "ref": "j"})
	if f := c.take(func(f frame) bool { return f.Ref == "j" }); f.Code != chat.CodeBanned {
		t.Fatalf("a banned user's join frame: %s", f.raw)
	}
	if st, er := e.mod("POST", "/api/rooms/"+room.ID+"/join", cat, nil); st != 403 || er.Code != chat.CodeBanned {
		t.Fatalf("a banned user's join route: %d %+v", st, er)
	}
	if st, er := e.mod("POST", "/api/rooms/"+room.ID+"/members", ann, map[string]string{"user": "cat"}); st != 403 || er.Code != chat.CodeBanned {
		t.Fatalf("adding a banned user: %d %+v", st, er)
	}
	e.mustMod("DELETE", "/api/rooms/"+room.ID+"/bans/cat", ann, nil)
	c.join(room.ID)
	c.sendMsg(room.ID, "back", "I'm back")
}

// The rules beside the table (docs/permissions.md).
func TestModerationRules(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, bob, dan := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer), e.token("dan", auth.RolePeer)
	sue, ada := e.token("sue", auth.RoleSupervisor), e.token("ada", auth.RoleAdmin)
	room := e.createRoom(ann, "Support")
	for _, tok := range []string{bob, dan, sue} {
		e.mustMod("POST", "/api/rooms/"+room.ID+"/join", tok, nil)
	}
	e.mustMod("GET", "/api/me", ada, nil)
	e.mustMod("PUT", members(room.ID, "bob", "/role"), ann, map[string]string{"role": "moderator"})
	e.mustMod("PUT", members(room.ID, "dan", "/role"), ann, map[string]string{"role": "moderator"})
	mute := map[string]any{"minutes": 5}
	for _, tc := range []struct {
		name, method, path, tok, why string
	}{
		{"on oneself", "POST", members(room.ID, "bob", "/mute"), bob, "yourself"},
		{"a moderator on a moderator", "POST", members(room.ID, "dan", "/mute"), bob, "other moderators"},
		{"a moderator removing a moderator", "DELETE", members(room.ID, "dan", ""), bob, "other moderators"},
		{"a moderator on the owner", "POST", members(room.ID, "ann", "/mute"), bob, "owner"},
		{"the owner on a supervisor", "POST", members(room.ID, "sue", "/mute"), ann, "supervisors and admins"},
		{"an admin removing a supervisor", "DELETE", members(room.ID, "sue", ""), ada, "supervisors and admins"},
		{"an admin banning an admin", "POST", "/api/rooms/" + room.ID + "/bans", sue, "supervisors and admins"},
		{"the owner renaming themselves", "PUT", members(room.ID, "ann", "/role"), ann, "yourself"},
	} {
		body := any(mute)
		if strings.HasSuffix(tc.path, "/bans") {
			body = map[string]any{"user": "ada"}
		} else if strings.HasSuffix(tc.path, "/role") {
			body = map[string]string{"role": "member"}
		}
		if st, er := e.mod(tc.method, tc.path, tc.tok, body); st != 403 || er.Code != chat.CodeForbidden || !strings.Contains(er.Message, tc.why) {
			t.Errorf("%s: %d %+v, want forbidden naming %q", tc.name, st, er, tc.why)
		}
	}
	if st, er := e.mod("PUT", members(room.ID, "bob", "/role"), ann, map[string]string{"role": "owner"}); st != 400 || er.Code != chat.CodeInvalidField {
		t.Errorf("naming an owner: %d %+v", st, er)
	}
	if st, er := e.mod("PUT", members(room.ID, "bob", "/role"), dan, map[string]string{"role": "member"}); st != 403 {
		t.Errorf("a peer moderator naming roles: %d %+v", st, er)
	}
	// The owner moderates moderators; supervisors and admins the owner.
	e.mustMod("POST", members(room.ID, "dan", "/mute"), ann, mute)
	e.mustMod("POST", members(room.ID, "ann", "/mute"), sue, mute)
	e.mustMod("DELETE", members(room.ID, "ann", "/mute"), ada, nil)
	e.mustMod("PUT", members(room.ID, "bob", "/role"), sue, map[string]string{"role": "member"})
}

// Each action writes exactly one audit entry, with its reason and detail.
func TestModerationAudit(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, ada := e.token("ann", auth.RoleSpecialist), e.token("ada", auth.RoleAdmin)
	room := e.createRoom(ann, "Support")
	e.mustMod("POST", "/api/rooms/"+room.ID+"/join", e.token("cat", auth.RolePeer), nil)
	r := "/api/rooms/" + room.ID
	for _, tc := range []struct {
		method, path string
		body         any
		action       string
		reason       string
		detail       string
	}{
		{"PUT", members(room.ID, "cat", "/role"), map[string]string{"role": "moderator", "reason": "kind"}, "member.role", "kind", "role=moderator"},
		{"PUT", members(room.ID, "cat", "/role"), map[string]string{"role": "member"}, "member.role", "", "role=member"},
		{"POST", members(room.ID, "cat", "/mute"), map[string]any{"minutes": 30, "reason": "heated"}, "member.mute", "heated", "minutes=30"},
		{"DELETE", members(room.ID, "cat", "/mute"), nil, "member.unmute", "", ""},
		{"DELETE", members(room.ID, "cat", ""), map[string]string{"reason": "spam"}, "member.remove", "spam", ""},
		{"POST", r + "/bans", map[string]any{"user": "cat", "minutes": 60, "reason": "threats"}, "member.ban", "threats", "minutes=60"},
		{"DELETE", r + "/bans/cat", map[string]string{"reason": "appeal"}, "member.unban", "appeal", ""},
	} {
		before := auditOf(t, e, ada, "?room="+room.ID)
		e.mustMod(tc.method, tc.path, ann, tc.body)
		after := auditOf(t, e, ada, "?room="+room.ID)
		if len(after) != len(before)+1 {
			t.Fatalf("%s %s: %d new audit entries, want 1", tc.method, tc.path, len(after)-len(before))
		}
		if en := after[0]; en.Action != tc.action || en.Actor != "ann" || en.Target != "cat" || en.Reason != tc.reason || en.Detail != tc.detail {
			t.Errorf("%s %s audited as %+v", tc.method, tc.path, en)
		}
		if tc.action == "member.remove" {
			e.mustMod("POST", r+"/join", e.token("cat", auth.RolePeer), nil)
		}
	}
}

// A ban made on one node takes the user's session on another out of the
// room within a second, and a mute made on one node is enforced on another
// within a second: the news travels through the broker, not the database.
func TestClusterModeration(t *testing.T) {
	c := newCluster(t, 2, "")
	ann, bob, cat := c.token("ann", auth.RoleSpecialist), c.token("bob", auth.RolePeer), c.token("cat", auth.RolePeer)
	a := c.env(0)
	room := a.createRoom(ann, "Across nodes")
	b, k := c.dial(1, bob, nil), c.dial(1, cat, nil)
	b.join(room.ID)
	k.join(room.ID)
	b.sendMsg(room.ID, "b0", "hello")
	k.sendMsg(room.ID, "k0", "hello")

	refusedWithin := func(cl *client, name string, code chat.Code) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for i := 0; ; i++ {
			f := cl.trySend(room.ID, fmt.Sprintf("%s-%d", name, i), "still here")
			if f.Type == "error" && f.Code == code {
				return
			}
			if f.Type == "error" || time.Now().After(deadline) {
				t.Fatalf("%s: after a second on the other node the send is answered %s, want %s", name, f.raw, code)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	a.mustMod("POST", members(room.ID, "cat", "/mute"), ann, map[string]any{"minutes": 10})
	refusedWithin(k, "muted", chat.CodeMuted)
	a.mustMod("POST", "/api/rooms/"+room.ID+"/bans", ann, map[string]any{"user": "bob"})
	refusedWithin(b, "banned", chat.CodeNotMember)
	b.take(func(f frame) bool { return f.Type == "left" && f.Conv == room.ID }) // the session is out of the room
	b.send(map[string]any{"type": "join", "conv": room.ID, "ref": "j"})
	if f := b.take(func(f frame) bool { return f.Ref == "j" }); f.Code != chat.CodeBanned {
		t.Fatalf("the banned user's join on the other node: %s", f.raw)
	}
}
