package server_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/server"
)

// newAuditEnv is a node behind a trusted proxy on loopback, which names
// the client in X-Forwarded-For.
func newAuditEnv(t *testing.T) *env {
	return newEnv(t, func(c *server.Config) {
		c.TrustedProxyHeader = "X-Forwarded-For"
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
}

// apiFrom is e.api from the client address addr, as the proxy names it.
func apiFrom(t *testing.T, e *env, addr, method, path, token string) int {
	t.Helper()
	req, _ := http.NewRequest(method, e.http.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Forwarded-For", addr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// newEntries is what the audit log gained since before (entries newest
// first, as GET /api/audit lists them).
func newEntries(t *testing.T, e *env, admin, query string, before []chat.AuditEntry) []chat.AuditEntry {
	t.Helper()
	after := auditOf(t, e, admin, query)
	return after[:len(after)-len(before)]
}

// A staff member's read of history, over HTTP or as a WebSocket catch-up,
// leaves exactly one entry with the room, the range read and the address
// it came from, and never the text; a peer's read leaves none.
func TestStaffHistoryReadsAudited(t *testing.T) {
	e := newAuditEnv(t)
	spec, pat, admin := e.token("sam", auth.RoleSpecialist), e.token("pat", auth.RolePeer), e.token("ada", auth.RoleAdmin)
	room := e.createRoom(spec, "Group")
	if code := e.api("POST", "/api/rooms/"+room.ID+"/join", pat, nil, nil); code != http.StatusOK {
		t.Fatalf("join: %d", code)
	}
	p := e.dial(pat, nil)
	for i := range 3 {
		p.sendMsg(room.ID, fmt.Sprint("m", i), "secret words")
	}
	before := auditOf(t, e, admin, "?room="+room.ID)

	if code := apiFrom(t, e, "203.0.113.9", "GET", "/api/conversations/"+room.ID+"/messages?limit=2", pat); code != http.StatusOK {
		t.Fatalf("peer read: %d", code)
	}
	if got := newEntries(t, e, admin, "?room="+room.ID, before); len(got) != 0 {
		t.Fatalf("a peer's read left %+v", got)
	}
	if code := apiFrom(t, e, "203.0.113.10", "GET", "/api/conversations/"+room.ID+"/messages?limit=2", spec); code != http.StatusOK {
		t.Fatalf("staff read: %d", code)
	}
	got := newEntries(t, e, admin, "?room="+room.ID, before)
	if len(got) != 1 || got[0].Action != "history.read" || got[0].Actor != "sam" || got[0].Source != "203.0.113.10" ||
		!strings.Contains(got[0].Detail, "events=2") || strings.Contains(got[0].Detail, "secret") || got[0].Position == 0 {
		t.Fatalf("staff read left %+v", got)
	}

	before = auditOf(t, e, admin, "?room="+room.ID)
	e.dial(pat, map[string]int64{room.ID: 0}).expectSynced(room.ID)
	if got := newEntries(t, e, admin, "?room="+room.ID, before); len(got) != 0 {
		t.Fatalf("a peer's catch-up left %+v", got)
	}
	c := e.dialRaw(&websocket.DialOptions{HTTPHeader: http.Header{"X-Forwarded-For": {"203.0.113.11"}}})
	c.hello(spec, map[string]int64{room.ID: 0})
	c.expectSynced(room.ID)
	got = newEntries(t, e, admin, "?room="+room.ID, before)
	if len(got) != 1 || got[0].Action != "history.catchup" || got[0].Actor != "sam" || got[0].Source != "203.0.113.11" || !strings.HasPrefix(got[0].Detail, "after=0 ") {
		t.Fatalf("staff catch-up left %+v", got)
	}
}

// A refused token, over HTTP or at the WebSocket hello, leaves one
// signin.fail entry per address per window, with the address the trusted
// proxy names and the refusal's code, never the token; the API filters
// by action and source.
func TestFailedSignInAudited(t *testing.T) {
	e := newAuditEnv(t)
	admin := e.token("ada", auth.RoleAdmin)
	bad := e.token("mallory", auth.RolePeer) + "x"
	for range 5 {
		if code := apiFrom(t, e, "198.51.100.20", "GET", "/api/me", bad); code != http.StatusUnauthorized {
			t.Fatalf("bad token: %d", code)
		}
	}
	c := e.dialRaw(&websocket.DialOptions{HTTPHeader: http.Header{"X-Forwarded-For": {"198.51.100.20"}}})
	c.send(map[string]any{"type": "hello", "token": bad})
	c.waitClosed()
	got := auditOf(t, e, admin, "?action=signin.fail&source=198.51.100.20")
	if len(got) != 1 || got[0].Source != "198.51.100.20" || got[0].Detail != "via=http code=token_invalid count=1" || got[0].Actor != "" {
		t.Fatalf("entries: %+v", got)
	}
	c = e.dialRaw(&websocket.DialOptions{HTTPHeader: http.Header{"X-Forwarded-For": {"198.51.100.21"}}})
	c.send(map[string]any{"type": "hello", "token": bad})
	c.waitClosed()
	got = auditOf(t, e, admin, "?action=signin.fail&source=198.51.100.21")
	if len(got) != 1 || got[0].Detail != "via=websocket code=token_invalid count=1" {
		t.Fatalf("entries: %+v", got)
	}
	for _, en := range auditOf(t, e, admin, "?action=signin.fail") {
		if strings.Contains(fmt.Sprintf("%+v", en), bad[:20]) {
			t.Fatalf("the token reached the audit log: %+v", en)
		}
	}
}
