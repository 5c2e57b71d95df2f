package static_test

// Browser tests of the supervisor's side beyond the dashboard's basics:
// the idle sign-out a supervisor gets, the queue's order, acknowledging
// from the page banner, and the on-call rota. Same rules as
// browser_test.go: real node, real Chromium, waits on DOM conditions only.

import (
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/server"
)

// A supervisor watching the dashboard is not signed out after the idle
// timeout that signs a peer out: the welcome gives supervisors their own,
// longer one.
func TestSupervisorIdleTimeoutIsLonger(t *testing.T) {
	n := startNode(t, 4*time.Second, func(c *server.Config) {
		withEscalations(c)
		c.IdleTimeout, c.SupervisorIdleTimeout = 4*time.Second, 10*time.Minute
	})
	sueTok := n.user("sue", "Sue", auth.RoleSupervisor)
	patTok := n.user("pat", "Pat", auth.RolePeer)

	b := newBrowser(t)
	sue := b.page("sue", 1280, 800)
	sue.signIn(n, sueTok)
	sue.openDashboard()
	pat := b.page("pat", 1280, 800)
	pat.signIn(n, patTok)
	start := time.Now()

	signedOut := `!document.getElementById('signin').hidden && document.getElementById('app').hidden`
	pat.waitJS("the peer signed out when idle", signedOut+` && document.getElementById('signin-reason').textContent.includes('without activity')`)
	if time.Since(start) < 3*time.Second {
		t.Fatalf("the peer was signed out after %v, before the timeout", time.Since(start))
	}
	// The supervisor, signed in first and idle since, is still signed
	// in, unwarned.
	if eval[bool](sue, signedOut) || eval[bool](sue, `document.getElementById('idle-dialog').open`) {
		t.Fatal("the supervisor was signed out (or warned) after the peers' idle timeout")
	}
	if !eval[bool](sue, `!document.getElementById('dashboard').hidden && document.getElementById('conn-status').dataset.state === 'connected'`) {
		t.Fatal("the supervisor's dashboard is gone")
	}
}
