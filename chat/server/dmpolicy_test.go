package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/server"
)

var dmRoles = []auth.Role{auth.RolePeer, auth.RoleSpecialist, auth.RoleSupervisor, auth.RoleAdmin}

// dmWant is the one-on-one policy as docs/moderation.md states it.
func dmWant(p server.DMPolicy, from, to auth.Role, shared bool) bool {
	if from != auth.RolePeer || to != auth.RolePeer {
		return true // anyone with staff, staff with anyone
	}
	return p == server.DMAnyone || (p == server.DMSharedRoom && shared)
}

// Every pair of global roles, sharing a room or not, under every policy:
// the open_dm frame and POST /api/dms open the DM when the policy allows
// it and refuse it with dm_not_allowed (403) otherwise.
func TestDMPolicy(t *testing.T) {
	for _, p := range []server.DMPolicy{server.DMSharedRoom, server.DMStaffOnly, server.DMAnyone} {
		t.Run(string(p), func(t *testing.T) {
			e := newEnv(t, noRateLimit, func(c *server.Config) { c.DMPolicy = p })
			admin := e.token("adm", auth.RoleAdmin)
			common := e.createRoom(admin, "Common")
			e.createRoom(admin, "Elsewhere")
			for _, from := range dmRoles {
				for _, to := range dmRoles {
					for _, shared := range []bool{true, false} {
						name := fmt.Sprintf("%s-%s-shared=%t", from, to, shared)
						t.Run(name, func(t *testing.T) { checkDMPolicy(t, e, p, common.ID, from, to, shared) })
					}
				}
			}
		})
	}
}

func checkDMPolicy(t *testing.T, e *env, p server.DMPolicy, common string, from, to auth.Role, shared bool) {
	tag := fmt.Sprintf("%.2s%.2s%t", from, to, shared)
	ftok, ttok := e.token("f"+tag, from), e.token("t"+tag, to)
	e.api("GET", "/api/me", ttok, nil, nil) // known to the server
	if shared {
		for _, tok := range []string{ftok, ttok} {
			if st := e.api("POST", "/api/rooms/"+common+"/join", tok, nil, nil); st != 200 {
				t.Fatalf("join: %d", st)
			}
		}
	}
	want := dmWant(p, from, to, shared)
	// Over the WebSocket, then over HTTP (the DM then exists: reopening
	// is decided the same way).
	c := e.dial(ftok, nil)
	c.send(map[string]any{"type": "open_dm", "user": "t" + tag, "ref": "dm"})
	f := c.take(func(f frame) bool { return f.Ref == "dm" })
	switch {
	case want && f.Type != "conversation":
		t.Fatalf("open_dm refused, want allowed: %s", f.raw)
	case !want && (f.Code != chat.CodeDMNotAllowed || !strings.Contains(f.Message, "can't be messaged here")):
		t.Fatalf("open_dm answered %s, want dm_not_allowed", f.raw)
	case want && (f.Conversation.Kind != chat.KindDM || f.Conversation.Peer != "t"+tag):
		t.Fatalf("open_dm answered %s, want the DM with peer %s", f.raw, "t"+tag)
	}
	var out struct{ Error chat.Error }
	st := e.api("POST", "/api/dms", ftok, map[string]string{"user": "t" + tag}, &out)
	switch {
	case want && st != http.StatusOK:
		t.Fatalf("POST /api/dms: %d %+v, want 200", st, out.Error)
	case !want && (st != http.StatusForbidden || out.Error.Code != chat.CodeDMNotAllowed):
		t.Fatalf("POST /api/dms: %d %+v, want 403 dm_not_allowed", st, out.Error)
	}
}

// Leaving the only room two peers share closes their DM to reopening
// (open_dm and the route refuse it), while its history stays readable
// and the sessions that follow it keep it.
func TestDMPolicyReopen(t *testing.T) {
	e := newEnv(t, noRateLimit)
	spec := e.token("sam", auth.RoleSpecialist)
	room := e.createRoom(spec, "Group")
	pat, ivy := e.token("pat", auth.RolePeer), e.token("ivy", auth.RolePeer)
	p, i := e.dial(pat, nil), e.dial(ivy, nil)
	p.join(room.ID)
	i.join(room.ID)
	p.send(map[string]any{"type": "open_dm", "user": "ivy", "ref": "dm"})
	dm := p.take(func(f frame) bool { return f.Ref == "dm" })
	if dm.Type != "conversation" {
		t.Fatalf("open_dm between peers who share a room: %s", dm.raw)
	}
	p.sendMsg(dm.Conversation.ID, "m1", "see you Tuesday")
	i.leaveRoom(room.ID)

	p.send(map[string]any{"type": "open_dm", "user": "ivy", "ref": "again"})
	if f := p.take(func(f frame) bool { return f.Ref == "again" }); f.Code != chat.CodeDMNotAllowed {
		t.Fatalf("reopening once no room is shared: %s", f.raw)
	}
	var out struct{ Error chat.Error }
	if st := e.api("POST", "/api/dms", ivy, map[string]string{"user": "pat"}, &out); st != http.StatusForbidden || out.Error.Code != chat.CodeDMNotAllowed {
		t.Fatalf("reopening over HTTP: %d %+v", st, out.Error)
	}
	for _, tok := range []string{pat, ivy} {
		var h struct{ Messages []struct{ Body string } }
		if st := e.api("GET", "/api/conversations/"+dm.Conversation.ID+"/messages", tok, nil, &h); st != 200 || len(h.Messages) != 1 || h.Messages[0].Body != "see you Tuesday" {
			t.Fatalf("history after the policy closed the DM: %d %+v", st, h)
		}
	}
	// A specialist may still open one with either of them.
	if st := e.api("POST", "/api/dms", spec, map[string]string{"user": "ivy"}, nil); st != 200 {
		t.Fatalf("a specialist opening a DM with a peer: %d", st)
	}
}

// leaveRoom leaves a room over the WebSocket and waits for the answer.
func (c *client) leaveRoom(conv string) {
	c.t.Helper()
	c.send(map[string]any{"type": "leave", "conv": conv, "ref": "l-" + conv})
	if f := c.take(func(f frame) bool { return f.Ref == "l-"+conv }); f.Type != "left" {
		c.t.Fatalf("leave refused: %s", f.raw)
	}
}
