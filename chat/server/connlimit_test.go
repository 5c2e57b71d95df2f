package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/chat/server"
)

// refusedDial opens a WebSocket to e that the server must refuse before
// the upgrade, and returns the HTTP status, the JSON error and the
// Retry-After header.
func refusedDial(t *testing.T, e *env, header http.Header) (int, chat.Error, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, strings.Replace(e.http.URL, "http", "ws", 1)+"/ws", &websocket.DialOptions{HTTPHeader: header})
	if err == nil {
		ws.CloseNow()
		t.Fatal("the upgrade was accepted; want a refusal")
	}
	if resp == nil {
		t.Fatalf("dial failed without an HTTP answer: %v", err)
	}
	var body struct{ Error chat.Error }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("refusal body is not a JSON error: %v", err)
	}
	return resp.StatusCode, body.Error, resp.Header.Get("Retry-After")
}

// eventually retries f until it succeeds or 5 s pass.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !f(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within 5 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// canDial reports whether a WebSocket to e is upgraded.
func canDial(e *env, header http.Header) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(e.http.URL, "http", "ws", 1)+"/ws", &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		return false
	}
	ws.CloseNow()
	return true
}

// A user with MaxSessionsPerUser sessions open is refused one more at
// hello (too_many_sessions, close 4029); other users are not, and closing
// a session makes room.
func TestSessionsPerUserAreCapped(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.MaxSessionsPerUser = 2 })
	ann, bob := e.token("ann", auth.RolePeer), e.token("bob", auth.RolePeer)
	first := e.dial(ann, nil)
	e.dial(ann, nil)

	third := e.dialRaw(nil)
	third.send(map[string]any{"type": "hello", "token": ann})
	f := third.expect("error")
	if f.Code != chat.CodeTooManySessions || !f.Temporary {
		t.Fatalf("third session: got %+v, want temporary too_many_sessions", f)
	}
	if code := third.waitClosed(); code != protocol.CloseTooManySessions {
		t.Fatalf("third session closed with %d, want %d", code, protocol.CloseTooManySessions)
	}
	e.dial(bob, nil) // someone else is not limited by ann's sessions

	first.ws.Close(websocket.StatusNormalClosure, "")
	eventually(t, "a fourth session after one closed", func() bool {
		c := e.dialRaw(nil)
		c.send(map[string]any{"type": "hello", "token": ann})
		return c.next().Type == "welcome"
	})
	if n := metric(t, e, `kindred_frames_rejected_total{code="too_many_sessions"}`); n != 1 {
		t.Fatalf("too_many_sessions counted %v times, want 1", n)
	}
}

// Connections from one address are capped (429 too_many_connections,
// with Retry-After, before the upgrade); closing one makes room.
func TestConnectionsPerAddressAreCapped(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.MaxConnsPerAddr = 2 })
	tok := e.token("ann", auth.RolePeer)
	first := e.dial(tok, nil)
	e.dialRaw(nil) // not signed in yet: it counts all the same
	status, er, retry := refusedDial(t, e, nil)
	if status != http.StatusTooManyRequests || er.Code != chat.CodeTooManyConnections || !er.Temporary || retry != "5" {
		t.Fatalf("third connection: %d %+v Retry-After %q; want 429 too_many_connections, Retry-After 5", status, er, retry)
	}
	first.ws.Close(websocket.StatusNormalClosure, "")
	eventually(t, "a connection after one closed", func() bool { return canDial(e, nil) })
}

// A node with MaxConns connections refuses more with 503 server_busy.
func TestConnectionsInTotalAreCapped(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.MaxConns = 3 })
	for i := range 3 {
		e.dial(e.token("u"+strconv.Itoa(i), auth.RolePeer), nil)
	}
	status, er, retry := refusedDial(t, e, nil)
	if status != http.StatusServiceUnavailable || er.Code != chat.CodeServerBusy || retry == "" {
		t.Fatalf("fourth connection: %d %+v Retry-After %q; want 503 server_busy with Retry-After", status, er, retry)
	}
	// The API is not a WebSocket: it still answers.
	if got := e.api("GET", "/api/rooms", e.token("u9", auth.RolePeer), nil, nil); got != http.StatusOK {
		t.Fatalf("GET /api/rooms with the node full: %d", got)
	}
}

// New connections from one address are limited by a token bucket: a
// burst passes, the next one is refused with rate_limited and Retry-After,
// even though every earlier connection was closed.
func TestConnectionRatePerAddress(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.ConnRatePerAddr, c.ConnBurstPerAddr = 0.2, 3 })
	for i := range 3 {
		if !canDial(e, nil) {
			t.Fatalf("connection %d of the burst was refused", i+1)
		}
	}
	status, er, retry := refusedDial(t, e, nil)
	if status != http.StatusTooManyRequests || er.Code != chat.CodeRateLimited || er.RetryAfterMS <= 0 {
		t.Fatalf("fourth connection: %d %+v; want 429 rate_limited with retry_after_ms", status, er)
	}
	if s, _ := strconv.Atoi(retry); s < 1 || s > 5 {
		t.Fatalf("Retry-After %q, want 1-5 s at 0.2 connections a second", retry)
	}
}

// Behind a trusted proxy the limits count the client's address from
// X-Forwarded-For: two clients behind one proxy are apart, and a client
// cannot pass for another by prepending hops.
func TestLimitsCountForwardedAddress(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.MaxConnsPerAddr = 1
		c.TrustedProxyHeader = "X-Forwarded-For"
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	xff := func(v string) http.Header { return http.Header{"X-Forwarded-For": {v}} }
	a := e.dialRaw(&websocket.DialOptions{HTTPHeader: xff("203.0.113.5")})
	e.dialRaw(&websocket.DialOptions{HTTPHeader: xff("203.0.113.6")})
	if status, er, _ := refusedDial(t, e, xff("198.51.100.1, 203.0.113.5")); status != http.StatusTooManyRequests || er.Code != chat.CodeTooManyConnections {
		t.Fatalf("second connection of 203.0.113.5: %d %+v, want 429 too_many_connections", status, er)
	}
	a.ws.Close(websocket.StatusNormalClosure, "")
	eventually(t, "a connection after 203.0.113.5 closed its", func() bool { return canDial(e, xff("203.0.113.5")) })
}

// From a peer that is not a trusted proxy the header is ignored: the
// connections count against the socket's address, whatever they claim.
func TestUntrustedForwardedHeaderIsIgnored(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.MaxConnsPerAddr = 1
		c.TrustedProxyHeader = "X-Forwarded-For"
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	e.dialRaw(&websocket.DialOptions{HTTPHeader: http.Header{"X-Forwarded-For": {"203.0.113.7"}}})
	if status, er, _ := refusedDial(t, e, http.Header{"X-Forwarded-For": {"203.0.113.8"}}); status != http.StatusTooManyRequests || er.Code != chat.CodeTooManyConnections {
		t.Fatalf("a second connection from 127.0.0.1 claiming another address: %d %+v, want 429", status, er)
	}
}
