package server_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// deactivate calls PATCH /api/people/{user} {"status":"deactivated"}.
func deactivate(t *testing.T, e *env, admin, user string) {
	t.Helper()
	var a chat.Account
	if st := e.api("PATCH", "/api/people/"+user, admin, map[string]string{"status": "deactivated"}, &a); st != 200 ||
		a.Status != chat.StatusDeactivated {
		t.Fatalf("deactivate %s: %d %+v", user, st, a)
	}
}

// expectDeactivated checks that tok is refused at hello and over HTTP
// with account_deactivated, however freshly it was minted.
func expectDeactivated(t *testing.T, e *env, tok, who string) {
	t.Helper()
	expectRefusedWith(t, e, tok, who, chat.CodeAccountDeactivated, 403)
}

// An admin deactivates someone: their open session closes within a
// second, and neither their old token nor one minted afterwards (by the
// clinic's systems, say) is accepted; the directory lists them as
// deactivated; reactivation lets a new token in; only admins may, and
// not on themselves; each step is audited.
func TestDeactivateEndsSessions(t *testing.T) {
	e := newEnv(t)
	admin, old := e.token("ada", auth.RoleAdmin), e.token("pat", auth.RolePeer)
	var out struct{ Error chat.Error }
	if st := e.api("PATCH", "/api/people/pat", e.token("sue", auth.RoleSupervisor), map[string]string{"status": "deactivated"}, &out); st != 403 {
		t.Fatalf("a supervisor deactivated: %d %+v", st, out)
	}
	tab := e.dial(old, nil)
	if st := e.api("PATCH", "/api/people/ada", admin, map[string]string{"status": "deactivated"}, &out); st != 403 || out.Error.Code != chat.CodeForbidden {
		t.Errorf("an admin deactivated themselves: %d %+v", st, out)
	}
	deactivate(t, e, admin, "pat")
	expectEnded(t, tab, chat.CodeTokenRevoked, protocol.CloseRevoked, "pat's open session")
	expectRefused(t, e, old, "pat's old token")
	fresh := mintAfter(t, e.signer, chat.Revocation{At: time.Now()}, "pat")
	expectDeactivated(t, e, fresh, "a token minted after the deactivation")
	var list struct{ People []chat.Account }
	if st := e.api("GET", "/api/people?status=deactivated&q="+url.QueryEscape("pat"), admin, nil, &list); st != 200 ||
		len(list.People) != 1 || list.People[0].ID != "pat" {
		t.Errorf("directory of the deactivated: %d %+v", st, list.People)
	}
	if st := e.api("PATCH", "/api/people/pat", admin, map[string]string{"status": "active"}, nil); st != 200 {
		t.Fatalf("reactivate: %d", st)
	}
	e.dial(fresh, nil)
	var log struct{ Entries []chat.AuditEntry }
	if st := e.api("GET", "/api/audit?actor=ada", admin, nil, &log); st != 200 || len(log.Entries) != 2 ||
		log.Entries[0].Action != "user.status" || log.Entries[1].Detail != "status=deactivated" {
		t.Errorf("audit log: %d %+v", st, log.Entries)
	}
}

// Across two nodes: a deactivation through node 0 closes the person's
// session on node 1 within a second, and node 1 refuses a token minted
// after it.
func TestClusterDeactivateEndsSessions(t *testing.T) {
	c := newCluster(t, 2, "")
	admin, old := c.token("ada", auth.RoleAdmin), c.token("pat", auth.RolePeer)
	far, near := c.dial(1, old, nil), c.dial(0, old, nil)
	deactivate(t, c.env(0), admin, "pat")
	since := time.Now()
	expectRevoked(t, far, since, "session on the other node")
	expectRevoked(t, near, since, "session on the same node")
	e1 := c.env(1)
	e1.store = c.nodes[1].store
	fresh := mintAfter(t, c.signer, chat.Revocation{At: time.Now()}, "pat")
	expectDeactivated(t, e1, fresh, "a token minted after, on the other node")
}

// reauth gives a session a later expiry: a session whose first token
// expires in 2 s lives past it on a token for the same user and role; a
// token for another user or role is refused and the session goes on.
func TestReauthExtendsSession(t *testing.T) {
	e := newEnv(t)
	short, err := e.signer.Mint("pat", "Pat", auth.RolePeer, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := e.dial(short, nil)
	for _, tc := range []struct{ tok, why string }{
		{e.token("bob", auth.RolePeer), "another user"},
		{e.token("pat", auth.RoleSpecialist), "another role"},
	} {
		c.send(map[string]any{"type": "reauth", "ref": tc.why, "token": tc.tok})
		if f := c.take(func(f frame) bool { return f.Ref == tc.why }); f.Type != "error" || f.Code != chat.CodeInvalidField {
			t.Errorf("reauth with %s: %s", tc.why, f.raw)
		}
	}
	c.send(map[string]any{"type": "reauth", "ref": "r", "token": e.token("pat", auth.RolePeer)})
	if f := c.take(func(f frame) bool { return f.Ref == "r" }); f.Type != "reauthed" {
		t.Fatalf("reauth: %s", f.raw)
	}
	time.Sleep(3 * time.Second) // past the first token's expiry
	c.send(map[string]any{"type": "ping", "ref": "p"})
	if f := c.take(func(f frame) bool { return f.Ref == "p" || f.Type == "error" }); f.Type != "pong" {
		t.Errorf("after the first token's expiry: %s", f.raw)
	}
}
