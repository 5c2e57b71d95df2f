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
	n.user("tom", "Tom", auth.RoleSupervisor)
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

	// Hand-offs offer every supervisor, with who is online and on call,
	// not only those seen in the queue.
	sue.click(fmt.Sprintf(`#esc-list button[data-esc=%q]`, bobLow))
	sue.click("#esc-handoff")
	sue.waitJS("hand-off offers every supervisor", `document.getElementById('handoff-dialog').open && [...document.querySelectorAll('#handoff-people option')].some(o => o.value === 'tom' && o.label === 'Tom (tom): offline') && ![...document.querySelectorAll('#handoff-people option')].some(o => o.value === 'sue')`)
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

// An admin keeps the on-call rota in the browser, at phone width: the
// supervisor is picked from GET /api/supervisors, and the shift added is
// the one GET /api/oncall/shifts answers; removing it takes it out. A
// supervisor sees the rota but cannot change it.
func TestAdminKeepsTheRota(t *testing.T) {
	n, _ := escalatingNode(t, nil)
	adaTok := n.user("ada", "Ada", auth.RoleAdmin)
	sueTok := n.user("sue", "Sue", auth.RoleSupervisor)
	n.user("pat", "Pat", auth.RolePeer)
	b := newBrowser(t)
	sue := b.page("sue", 1280, 800)
	sue.signIn(n, sueTok) // online, for the list
	ada := b.page("ada", 375, 740)
	ada.signIn(n, adaTok)
	ada.openDashboard()
	ada.click("#rota-open")
	ada.waitJS("rota dialog with the supervisors", `document.getElementById('rota-dialog').open && document.activeElement?.id === 'rota-supervisor' &&
		!document.getElementById('rota-empty').hidden && !document.getElementById('rota-form').hidden &&
		[...document.querySelectorAll('#rota-supervisor option')].map(o => o.value).join(',') === ',ada,sue' &&
		document.querySelector('#rota-supervisor option[value="sue"]').textContent === 'Sue (sue): online'`)

	// A supervisor is required.
	ada.click(`#rota-form button[type="submit"]`)
	ada.waitJS("supervisor required", `document.getElementById('rota-form-error').textContent === 'Choose who is on call.' && document.getElementById('rota-supervisor').getAttribute('aria-invalid') === 'true' && document.activeElement?.id === 'rota-supervisor'`)

	ada.do(chromedp.SetValue(chromedp.ID("rota-supervisor"), "sue"), chromedp.SetValue(chromedp.ID("rota-tier"), "backup"))
	// From an hour ago for two hours, in the device's time.
	start := eval[string](ada, `(() => {
		const p = (n) => String(n).padStart(2, '0');
		const f = (d) => d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
		const s = new Date(Math.floor(Date.now() / 60000) * 60000 - 3600000);
		document.getElementById('rota-start').value = f(s);
		document.getElementById('rota-end').value = f(new Date(s.getTime() + 7200000));
		return s.toISOString();
	})()`)
	if w := eval[int](ada, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("the rota is %dpx wide at a 375px viewport", w)
	}
	ada.click(`#rota-form button[type="submit"]`)
	ada.waitJS("the shift in the list, on call now", `document.querySelectorAll('#rota-list li').length === 1 && document.querySelector('#rota-list .rota-name').textContent === 'Sue' &&
		document.querySelector('#rota-list .rota-tier').textContent === 'Backup' && document.querySelector('#rota-list .rota-now')?.textContent === 'on call now' &&
		[...document.querySelectorAll('#announcer p')].some(p => p.textContent === 'Shift added: Sue, backup.') &&
		document.querySelector('#rota-supervisor option[value="sue"]').textContent === 'Sue (sue): on call now, backup, online'`)
	var got struct{ Shifts []escalation.Shift }
	n.api("GET", "/api/oncall/shifts", adaTok, nil, &got)
	if len(got.Shifts) != 1 || got.Shifts[0].Supervisor != "sue" || got.Shifts[0].Tier != escalation.ShiftBackup ||
		got.Shifts[0].Start.UTC().Format(time.RFC3339) != mustTime(t, start).Format(time.RFC3339) || got.Shifts[0].End.Sub(got.Shifts[0].Start) != 2*time.Hour {
		t.Fatalf("GET /api/oncall/shifts after adding in the browser: %+v (start %s)", got.Shifts, start)
	}
	ada.screenshot("rota-phone.png")

	// The supervisor reads it, without the form or Remove.
	sue.openDashboard()
	sue.click("#rota-open")
	sue.waitJS("the rota, read only", `document.getElementById('rota-dialog').open && document.querySelectorAll('#rota-list li').length === 1 &&
		document.getElementById('rota-form').hidden && !document.querySelector('#rota-list button')`)

	// Removing asks first.
	ada.click(`#rota-list button[data-shift]`)
	ada.waitJS("confirm removal", `document.getElementById('confirm-dialog').open && document.getElementById('confirm-title').textContent === 'Remove this shift?'`)
	ada.click("#confirm-ok")
	ada.waitJS("removed", `!document.getElementById('confirm-dialog').open && document.querySelectorAll('#rota-list li').length === 0 && !document.getElementById('rota-empty').hidden && document.activeElement?.id === 'rota-title'`)
	n.api("GET", "/api/oncall/shifts", adaTok, nil, &got)
	if len(got.Shifts) != 0 {
		t.Fatalf("shifts after removing: %+v", got.Shifts)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}
