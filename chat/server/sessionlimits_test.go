package server_test

import (
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/chat/server"
)

// pingFor sends a ping every interval for d, expecting each pong: the
// session is alive throughout.
func pingFor(t *testing.T, c *client, interval, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(interval) {
		c.send(map[string]any{"type": "ping", "ref": "p"})
		if f := c.take(func(f frame) bool { return f.Ref == "p" || f.Type == "error" }); f.Type != "pong" {
			t.Fatalf("while pinging: %s", f.raw)
		}
	}
}

// expectEnded waits for c to get the error code, then the close with
// closeCode.
func expectEnded(t *testing.T, c *client, code chat.Code, closeCode websocket.StatusCode, who string) {
	t.Helper()
	if f := c.take(func(f frame) bool { return f.Type == "error" }); f.Code != code {
		t.Errorf("%s: %s, want %s", who, f.raw, code)
	}
	if got := c.waitClosed(); got != closeCode {
		t.Errorf("%s: closed with %d, want %d", who, got, closeCode)
	}
}

// With --session-idle-timeout a session that sends nothing is closed with
// session_idle and 4012, while one that pings (as the browser client does
// when the line is quiet) stays open well past the timeout.
func TestSessionIdleTimeout(t *testing.T) {
	const idle = 400 * time.Millisecond
	e := newEnv(t, func(c *server.Config) { c.SessionIdleTimeout = idle })
	tok := e.token("ann", auth.RolePeer)
	quiet, busy := e.dial(tok, nil), e.dial(tok, nil)
	start := time.Now()
	pingFor(t, busy, idle/4, 3*idle)
	expectEnded(t, quiet, chat.CodeSessionIdle, protocol.CloseSessionIdle, "quiet session")
	if d := time.Since(start); d < idle {
		t.Errorf("quiet session closed after %v, before the idle timeout %v", d, idle)
	}
	pingFor(t, busy, idle/4, idle) // still open
	expectEnded(t, busy, chat.CodeSessionIdle, protocol.CloseSessionIdle, "busy session, once quiet")
}

// With --session-max-age a session is closed with session_max_age and
// 4013 that long after its hello though it was busy until then, and the
// same token
// then signs in again.
func TestSessionMaxAge(t *testing.T) {
	const maxAge = 600 * time.Millisecond
	e := newEnv(t, func(c *server.Config) { c.SessionMaxAge = maxAge })
	tok := e.token("ann", auth.RolePeer)
	start := time.Now() // before the hello: the server's clock starts when it reads it
	c := e.dial(tok, nil)
	pingFor(t, c, 50*time.Millisecond, maxAge-150*time.Millisecond) // busy until just before
	expectEnded(t, c, chat.CodeSessionMaxAge, protocol.CloseSessionMaxAge, "busy session")
	if d := time.Since(start); d < maxAge {
		t.Errorf("closed after %v, before the maximum age %v", d, maxAge)
	}
	e.dial(tok, nil) // a new session with the same token
}
