package static_test

// Browser tests of the supervisor's side beyond the dashboard's basics:
// the idle sign-out a supervisor gets, the queue's order, acknowledging
// from the page banner, and the on-call rota. Same rules as
// browser_test.go: real node, real Chromium, waits on DOM conditions only.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/server"
)

// escalatingNode starts a node with escalations and returns its engine,
// to open and acknowledge escalations as other supervisors would.
func escalatingNode(t *testing.T, mod func(*server.Config)) (*node, *escalation.Engine) {
	var esc *server.Escalation
	n := startNode(t, 0, func(c *server.Config) {
		withEscalations(c)
		esc = c.Escalation
		if mod != nil {
			mod(c)
		}
	})
	return n, esc.Engine
}

// concern opens an escalation about a person, as a specialist's concern.
func concern(t *testing.T, eng *escalation.Engine, subject, name string, sev crisis.Severity) string {
	t.Helper()
	e, err := eng.Open(context.Background(), &escalation.Escalation{Source: escalation.SourceConcern, Subject: subject, SubjectName: name,
		ReportedBy: "ann", Reason: "worried about " + name, Severity: sev})
	if err != nil {
		t.Fatal(err)
	}
	return e.ID
}

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

// queueJS is the dashboard's queue as the page shows it: each person's
// group (heading) with the ids of its items, in order.
const queueJS = `[...document.querySelectorAll('#esc-list > li.esc-group')].map(g => g.querySelector('.esc-group-name').textContent + ':' + [...g.querySelectorAll('.esc-item')].map(b => b.dataset.esc).join(',')).join(' | ')`

// The queue shows what nobody has acknowledged first, then the most
// severe, then the oldest, grouped by person (a group ranks by its most
// urgent item), and keeps that order as escalations change live. The
// detail pane follows the selection, stays on it when it moves, and
// follows the arrow keys.
func TestSupervisorQueueOrder(t *testing.T) {
	n, eng := escalatingNode(t, nil)
	sueTok := n.user("sue", "Sue", auth.RoleSupervisor)
	n.user("sam", "Sam", auth.RoleSupervisor)
	b := newBrowser(t)
	sue := b.page("sue", 1280, 800)
	sue.signIn(n, sueTok)
	sue.openDashboard()

	amyOld := concern(t, eng, "amy", "Amy", crisis.Concern)
	bobHigh := concern(t, eng, "bob", "Bob", crisis.High)
	catImm := concern(t, eng, "cat", "Cat", crisis.Imminent)
	bobLow := concern(t, eng, "bob", "Bob", crisis.Concern)
	amyImm := concern(t, eng, "amy", "Amy", crisis.Imminent)
	if _, err := eng.Ack(context.Background(), catImm, "sam"); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("Amy:%s,%s | Bob:%s,%s | Cat:%s", amyImm, amyOld, bobHigh, bobLow, catImm)
	sue.waitJS("queue: unacknowledged, severity, age, by person", queueJS+` === `+js(want))
	if got := eval[string](sue, `document.querySelector('#esc-list .esc-group-title').textContent`); got != "Amy · , 2 escalations, 2 not acknowledged" {
		t.Errorf("group heading %q", got)
	}

	// Selected, then acknowledged by someone else: it moves down, the
	// pane stays on it.
	sue.click(fmt.Sprintf(`#esc-list button[data-esc=%q]`, amyImm))
	sue.waitJS("detail of Amy's imminent", `document.getElementById('esc-title').textContent === 'Amy about a person' && document.getElementById('esc-sev').textContent === 'Imminent severity'`)
	if _, err := eng.Ack(context.Background(), amyImm, "sam"); err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("Bob:%s,%s | Amy:%s,%s | Cat:%s", bobHigh, bobLow, amyOld, amyImm, catImm)
	sue.waitJS("order after the live acknowledgement", queueJS+` === `+js(want))
	sue.waitJS("the pane stays on the moved item", fmt.Sprintf(`document.getElementById('esc-status').textContent === 'Acknowledged by sam' && document.getElementById('esc-sev').textContent === 'Imminent severity' &&
		document.querySelector('#esc-list button[aria-current="true"]')?.dataset.esc === %q && document.querySelectorAll('#esc-list button[aria-current="true"]').length === 1`, amyImm))

	// The arrow keys move through the queue, and the detail follows.
	sue.do(chromedp.Focus(chromedp.CSS(`#esc-list .esc-item`)))
	sue.do(chromedp.KeyEvent(kb.ArrowDown))
	sue.waitJS("detail follows the arrow key", fmt.Sprintf(`document.activeElement?.dataset.esc === %[1]q && document.querySelector('#esc-list button[aria-current="true"]')?.dataset.esc === %[1]q &&
		document.getElementById('esc-title').textContent === 'Bob about a person' && document.getElementById('esc-sev').textContent === 'Concern severity'`, bobLow))
	sue.do(chromedp.KeyEvent(kb.End))
	sue.waitJS("End: the last item", fmt.Sprintf(`document.activeElement?.dataset.esc === %[1]q && document.getElementById('esc-title').textContent === 'Cat about a person'`, catImm))
	sue.screenshot("dashboard-grouped.png")
}

// A supervisor paged while in the chat acknowledges from the banner: the
// same server action as the dashboard's, and the banner goes away in the
// supervisor's other tab too.
func TestAcknowledgeFromBanner(t *testing.T) {
	n, eng := escalatingNode(t, nil)
	sueTok := n.user("sue", "Sue", auth.RoleSupervisor)
	b := newBrowser(t)
	tab1 := b.page("sue-1", 1280, 800)
	tab1.signIn(n, sueTok)
	tab2 := b.page("sue-2", 375, 740)
	tab2.signIn(n, sueTok)

	id := concern(t, eng, "bob", "Bob", crisis.High)
	banner := `!document.getElementById('page-banner').hidden && document.getElementById('page-banner-text').textContent === 'New high escalation about a person' && !document.getElementById('page-banner-ack').hidden`
	tab1.waitJS("banner in tab 1", banner)
	tab2.waitJS("banner in tab 2", banner)
	if w := eval[int](tab2, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("the banner makes the page %dpx wide at 375px", w)
	}
	tab1.click("#page-banner-ack")
	tab1.waitJS("banner gone, announced", `document.getElementById('page-banner').hidden && [...document.querySelectorAll('#announcer p')].some(p => p.textContent.startsWith('Acknowledged.')) && document.title === 'Kindred'`)
	tab2.waitJS("banner gone in the other tab", `document.getElementById('page-banner').hidden && document.title === 'Kindred'`)
	e, err := eng.Get(context.Background(), id)
	if err != nil || e.Status != escalation.StatusAcknowledged || e.AssignedTo != "sue" {
		t.Fatalf("after the banner's Acknowledge: %+v, %v", e, err)
	}
}
