package server_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// revoke calls POST /api/users/{user}/revoke as token and returns the
// revocation.
func revoke(t *testing.T, e *env, token, user string) chat.Revocation {
	t.Helper()
	var rev chat.Revocation
	if st := e.api("POST", "/api/users/"+user+"/revoke", token, nil, &rev); st != 200 || rev.User != user || rev.Generation == 0 {
		t.Fatalf("revoke %s: %d %+v", user, st, rev)
	}
	return rev
}

// expectRevoked waits for c to hear token_revoked and close with 4011,
// within a second of since.
func expectRevoked(t *testing.T, c *client, since time.Time, who string) {
	t.Helper()
	expectEnded(t, c, chat.CodeTokenRevoked, protocol.CloseRevoked, who)
	if d := time.Since(since); d > time.Second {
		t.Errorf("%s: closed %v after the revocation, want within a second", who, d)
	}
}

// expectRefused checks that tok is refused at hello (token_revoked, 4011)
// and over HTTP (401 token_revoked).
func expectRefused(t *testing.T, e *env, tok, who string) {
	t.Helper()
	expectRefusedWith(t, e, tok, who, chat.CodeTokenRevoked, 401)
}

// expectRefusedWith checks that tok is refused at hello with code, then
// close 4011, and over HTTP with code and status.
func expectRefusedWith(t *testing.T, e *env, tok, who string, code chat.Code, status int) {
	t.Helper()
	c := e.dialRaw(nil)
	c.send(map[string]any{"type": "hello", "token": tok})
	if f := c.expect("error"); f.Code != code {
		t.Errorf("%s at hello: %s", who, f.raw)
	}
	if closed := c.waitClosed(); closed != protocol.CloseRevoked {
		t.Errorf("%s at hello: closed with %d, want 4011", who, closed)
	}
	var out struct{ Error chat.Error }
	if st := e.api("GET", "/api/me", tok, nil, &out); st != status || out.Error.Code != code {
		t.Errorf("%s over HTTP: %d %+v", who, st, out)
	}
}

// mintAfter waits for the second after rev (token times are whole
// seconds) and mints a new token for user.
func mintAfter(t *testing.T, s *auth.Signer, rev chat.Revocation, user string) string {
	t.Helper()
	time.Sleep(time.Until(rev.At.Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
	tok, err := s.Mint(user, user, auth.RolePeer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// An admin revokes every session of a user: both of the user's open
// sessions hear token_revoked and close with 4011 within a second; the
// old token is refused at hello and over HTTP; another user's session
// stays open; a token minted after the revocation signs in; only an admin
// may revoke, and the revocation is in the audit log.
func TestRevokeSessions(t *testing.T) {
	e := newEnv(t)
	admin, sup := e.token("ada", auth.RoleAdmin), e.token("sue", auth.RoleSupervisor)
	old, bobTok := e.token("pat", auth.RolePeer), e.token("bob", auth.RolePeer)
	var out struct{ Error chat.Error }
	if st := e.api("POST", "/api/users/pat/revoke", sup, nil, &out); st != 403 || out.Error.Code != chat.CodeForbidden {
		t.Fatalf("a supervisor revoked: %d %+v", st, out)
	}
	if st := e.api("POST", "/api/users/pat/revoke", old, nil, &out); st != 403 {
		t.Fatalf("a peer revoked: %d %+v", st, out)
	}
	tab1, tab2, bob := e.dial(old, nil), e.dial(old, nil), e.dial(bobTok, nil)

	rev := revoke(t, e, admin, "pat")
	since := time.Now()
	expectRevoked(t, tab1, since, "first tab")
	expectRevoked(t, tab2, since, "second tab")
	expectRefused(t, e, old, "the revoked token")

	bob.send(map[string]any{"type": "ping", "ref": "p"})
	if f := bob.take(func(f frame) bool { return f.Ref == "p" }); f.Type != "pong" {
		t.Errorf("another user's session: %s", f.raw)
	}
	fresh := mintAfter(t, e.signer, rev, "pat")
	e.dial(fresh, nil)
	if st := e.api("GET", "/api/me", fresh, nil, nil); st != 200 {
		t.Errorf("a token minted after the revocation: %d", st)
	}
	var log struct{ Entries []chat.AuditEntry }
	if st := e.api("GET", "/api/audit?actor=ada", admin, nil, &log); st != 200 || len(log.Entries) != 1 ||
		log.Entries[0].Action != "user.revoke_sessions" || log.Entries[0].Target != "pat" {
		t.Errorf("audit log: %d %+v", st, log.Entries)
	}
	if st := e.api("POST", "/api/users/a%00b/revoke", admin, nil, &out); st != 400 || out.Error.Code != chat.CodeInvalidField {
		t.Errorf("revoking an impossible user id: %d %+v", st, out)
	}
}

// A token without iat cannot say it was issued after a revocation: once
// the user has been revoked it is refused.
func TestRevokeRefusesTokensWithoutIat(t *testing.T) {
	e := newEnv(t)
	noIat := resign(t, e.secret, map[string]any{"sub": "pat", "role": "peer", "exp": time.Now().Add(time.Hour).Unix()})
	if st := e.api("GET", "/api/me", noIat, nil, nil); st != 200 {
		t.Fatalf("before any revocation: %d", st)
	}
	revoke(t, e, e.token("ada", auth.RoleAdmin), "pat")
	expectRefused(t, e, noIat, "a token without iat")
}

// Across two nodes on PostgreSQL and Redis: a revocation through node 0
// closes the user's session on node 1 within a second, and node 1 refuses
// the old token.
func TestClusterRevokeSessions(t *testing.T) {
	c := newCluster(t, 2, "")
	admin, old := c.token("ada", auth.RoleAdmin), c.token("pat", auth.RolePeer)
	far, near := c.dial(1, old, nil), c.dial(0, old, nil)
	rev := revoke(t, c.env(0), admin, "pat")
	since := time.Now()
	expectRevoked(t, far, since, "session on the other node")
	expectRevoked(t, near, since, "session on the same node")
	e1 := c.env(1)
	e1.store = c.nodes[1].store
	expectRefused(t, e1, old, "the revoked token on the other node")
	c.dial(1, mintAfter(t, c.signer, rev, "pat"), nil)
}

// A revocation stored while a session's hello runs, after the hello
// checked the token and before the session follows its user's channel,
// still ends the session: its news went out before anyone on this node
// listened for it, so the hello reads the revocation again once the
// session listens. (A browser test found a revoked tab still connected.)
func TestRevokedDuringHello(t *testing.T) {
	rb := &revokingBroker{channel: "user:pat"}
	e := newEnv(t)
	e.stop()
	e.brokerWrap = func(b chat.Broker) chat.Broker { rb.Broker = b; return rb }
	e.start()
	admin := e.token("ada", auth.RoleAdmin)
	var status atomic.Int32
	rb.during = func() {
		status.Store(int32(e.api("POST", "/api/users/pat/revoke", admin, nil, nil)))
	}
	start := time.Now()
	c := e.dial(e.token("pat", auth.RolePeer), nil)
	expectRevoked(t, c, start, "a session whose hello the revocation overtook")
	if st := status.Load(); st != 200 {
		t.Fatalf("the revocation during the hello answered %d", st)
	}
}

// revokingBroker runs during once, inside the first subscription to
// channel: after the hello's token check, before the session listens.
type revokingBroker struct {
	chat.Broker
	channel string
	during  func()
	fired   atomic.Bool
}

func (b *revokingBroker) Subscribe(ctx context.Context, channel string) error {
	if channel == b.channel && b.during != nil && b.fired.CompareAndSwap(false, true) {
		b.during()
	}
	return b.Broker.Subscribe(ctx, channel)
}
