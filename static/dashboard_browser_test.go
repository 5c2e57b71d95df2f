package static_test

// Browser tests of the crisis path: a peer's message that signals a crisis
// reaches the supervisors' dashboard (with a page: sound, notification,
// screen-reader announcement), a supervisor acts on it, and the peer sees
// a private support note. Same rules as browser_test.go: real node, real
// Chromium, waits on DOM conditions only.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/sqlite"
)

// withEscalations turns on crisis detection and escalation in a test node,
// wired as cmd/kindred wires them.
func withEscalations(c *server.Config) {
	c.Detector = crisis.NewRuleDetector(crisis.DefaultLexicon())
	st := c.Store.(*sqlite.Store)
	esc, err := server.NewEscalation(server.EscalationOptions{
		Store: st.Escalations(), Users: st, Broker: c.Broker, Presence: c.Presence, Logger: c.Logger,
	})
	if err != nil {
		panic(err)
	}
	c.Escalation = esc
}

// recordAlerts replaces the page's Notification API with one that grants
// permission when asked and records what would have been shown, and
// counts the tones started with the Web Audio API. It must be called
// before the page is loaded.
func (p *page) recordAlerts() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	const src = `(() => {
		window.__notes = [];
		window.__tones = 0;
		class FakeNotification {
			static permission = 'default';
			static async requestPermission() { FakeNotification.permission = 'granted'; return 'granted'; }
			constructor(title, opts) { window.__notes.push({ title, body: (opts && opts.body) || '', tag: (opts && opts.tag) || '' }); }
			close() {}
		}
		window.Notification = FakeNotification;
		const start = OscillatorNode.prototype.start;
		OscillatorNode.prototype.start = function (...args) { window.__tones += 1; return start.apply(this, args); };
	})()`
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		p.t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdppage.Enable, cdppage.EnableParams{}); err != nil {
		p.t.Fatal(err)
	}
}

// seed stores messages as if they had been sent earlier.
func (n *node) seed(conv string, msgs ...[2]string) {
	n.t.Helper()
	for i, m := range msgs {
		items := []chat.AppendItem{{Event: chat.Event{Conv: conv, Kind: chat.EventMessage, Sender: m[0], ClientID: fmt.Sprint("seed-", conv, i), Body: m[1]}}}
		if err := n.store.Append(context.Background(), items); err != nil || items[0].Err != nil {
			n.t.Fatal(err, items[0].Err)
		}
	}
}

func (p *page) openDashboard() {
	p.t.Helper()
	p.click("#view-toggle")
	p.waitJS("dashboard shown", `!document.getElementById('dashboard').hidden && document.getElementById('layout').hidden && document.getElementById('view-toggle').getAttribute('aria-pressed') === 'true'`)
}

const crisisText = "I have the pills and I'm taking them tonight"

// A peer's crisis message pages the supervisors: the escalation shows in
// the dashboard (imminent, with a live countdown), is announced, sounds a
// tone and shows a notification without the message text. A supervisor
// reads its context, acknowledges it (the other supervisor's queue
// follows), joins the room (members see "A supervisor joined"), adds a note
// and resolves it. The peer alone sees a private support note; another
// member can flag a message by hand.
func TestSupervisorDashboard(t *testing.T) {
	n := startNode(t, 0, withEscalations)
	sueTok := n.user("sue", "Sue", auth.RoleSupervisor)
	samTok := n.user("sam", "Sam", auth.RoleSupervisor)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Evening group", "Peer support, weekday evenings")
	n.join(bobTok, room.ID)
	n.seed(room.ID,
		[2]string{"ann", "Welcome back, everyone. How has the week been?"},
		[2]string{"bob", "Honestly, really bad. I don't see the point any more."},
		[2]string{"ann", "Thank you for telling us, Bob. We're here with you."},
	)

	b := newBrowser(t)
	sue := b.page("sue", 1280, 800)
	sue.recordAlerts()
	sue.signIn(n, sueTok)
	if eval[bool](sue, `document.getElementById('view-toggle').hidden`) {
		t.Fatal("a supervisor is not offered the dashboard")
	}
	sue.openDashboard()
	sue.waitJS("empty queue", `!document.getElementById('esc-empty').hidden && document.getElementById('dash-summary').textContent === '0 open, 0 acknowledged'`)
	// Sound and notifications are switched on by hand (a user gesture).
	sue.click("#sound-toggle")
	sue.waitJS("sound on", `document.getElementById('sound-toggle').getAttribute('aria-pressed') === 'true'`)
	soundOn := eval[bool](sue, `document.getElementById('sound-state').textContent === 'On'`)
	sue.click("#notify-enable")
	sue.waitJS("notifications allowed", `document.getElementById('notify-enable').hidden && document.getElementById('alert-hint').textContent.includes('Desktop notifications are on')`)

	sam := b.page("sam", 375, 740)
	sam.signIn(n, samTok)
	sam.openDashboard()

	bob := b.page("bob", 1280, 800)
	bob.signIn(n, bobTok)
	bob.openConversation(room.ID)
	if eval[bool](bob, `!document.getElementById('view-toggle').hidden`) {
		t.Error("a peer is offered the supervisor dashboard")
	}
	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)

	bob.write(crisisText)
	bob.waitSent(crisisText)

	// The peer gets a calm, private note right after the message.
	bob.waitJS("support note", fmt.Sprintf(`(() => {
		const li = document.querySelector('#message-list li.support');
		const prev = li && li.previousElementSibling;
		return li && prev && prev.querySelector('.msg-body')?.textContent === %s &&
			li.querySelector('.support-title').textContent === 'A note just for you' &&
			li.querySelector('.support-text').textContent.length > 20 &&
			li.querySelector('.support-resources a[href^="https://"]') !== null &&
			li.querySelector('.support-private').textContent.startsWith('Only you can see');
	})()`, js(crisisText)))
	if eval[bool](bob, `getComputedStyle(document.querySelector('#message-list li.support .support-card')).borderLeftColor === getComputedStyle(document.getElementById('notice')).borderLeftColor`) {
		t.Error("the support note is styled as an error")
	}
	ann.waitSent(crisisText)
	bob.click(`#message-list li.support button[data-act="dismiss"]`)
	bob.waitJS("support note dismissed", `!document.querySelector('#message-list li.support') && document.activeElement?.id === 'messages'`)

	// The supervisors are paged.
	item := `[...document.querySelectorAll('#esc-list .esc-item')].find(b => b.querySelector('.sev').textContent === 'Imminent' && b.querySelector('.esc-place').textContent === 'Evening group')`
	for _, p := range []*page{sue, sam} {
		p.waitJS("imminent escalation in the queue", fmt.Sprintf(`(() => { const b = %s; return b && b.dataset.status === 'open' && b.querySelector('.esc-subject').textContent === 'Bob' && /^escalates in \d+:\d\d$/.test(b.querySelector('.esc-countdown')?.textContent ?? ''); })()`, item))
		p.waitJS("page announced", `[...document.querySelectorAll('#urgent-announcer p')].some(p => p.textContent === 'New imminent escalation in Evening group')`)
		p.waitJS("open count on the header button", `document.getElementById('view-badge').textContent === '1' && !document.getElementById('view-badge').hidden && document.getElementById('view-count').textContent === ', 1 open escalation'`)
	}
	if eval[bool](ann, `document.querySelector('#message-list li.support') !== null || !document.getElementById('view-toggle').hidden`) {
		t.Error("another member sees the support note or the dashboard")
	}
	type note struct{ Title, Body, Tag string }
	notes := eval[[]note](sue, `window.__notes`)
	if len(notes) == 0 {
		t.Error("no notification was shown")
	}
	for _, nt := range notes {
		if nt.Title != "Kindred: imminent crisis alert" || nt.Body != "Open Kindred to respond." {
			t.Errorf("notification %+v: want only that there is an imminent crisis alert", nt)
		}
	}
	if got := eval[string](sue, `document.title`); got != "Crisis alert · Kindred" {
		t.Errorf("title while paged: %q", got)
	}
	if soundOn && eval[int](sue, `window.__tones`) < 2 {
		t.Error("sound alerts are on but no tone played")
	}

	// The context, opened from the keyboard: the flagged message with what
	// matched, what came before, why, and the timeline.
	sue.do(chromedp.Focus(chromedp.CSS(`#esc-list .esc-item`)))
	sue.enter(0)
	sue.waitJS("detail shown, focus on its title", `!document.getElementById('esc-detail').hidden && document.activeElement?.id === 'esc-title' && document.getElementById('esc-title').textContent === 'Bob in Evening group' && document.getElementById('esc-sev').textContent === 'Imminent severity'`)
	sue.waitJS("flagged message with evidence marked", fmt.Sprintf(`(() => { const f = document.querySelector('#esc-flagged .esc-msg-body'); return f && f.textContent === %s && f.querySelectorAll('mark.evidence').length > 0; })()`, js(crisisText)))
	sue.waitJS("the messages before it", `[...document.querySelectorAll('#esc-messages .esc-msg-body')].some(e => e.textContent.startsWith('Honestly, really bad'))`)
	sue.waitJS("how it was raised", `[...document.querySelectorAll('#esc-facts dd')].some(d => d.textContent === 'Detected automatically in a message')`)
	sue.waitJS("timeline", `document.querySelectorAll('#esc-timeline li').length >= 2 && [...document.querySelectorAll('#esc-timeline .step-what')].some(e => e.textContent.startsWith('Paged '))`)
	sue.waitJS("status with countdown", `/^Open, not acknowledged · escalates in \d+:\d\d$/.test(document.getElementById('esc-status').textContent)`)
	sue.do(chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	sue.screenshot("dashboard-desktop.png")

	// On a phone the detail covers the queue, and comes back from it.
	sam.click(`#esc-list .esc-item`)
	sam.waitJS("phone detail", `document.getElementById('dashboard').classList.contains('detail-open') && getComputedStyle(document.getElementById('dash-queue')).display === 'none' && document.querySelectorAll('#esc-flagged mark.evidence').length > 0`)
	if w := eval[int](sam, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("dashboard is %dpx wide at a 375px viewport; too wide: %s", w, eval[string](sam, `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 375 || e.parentElement?.classList.contains('topbar')).slice(0, 12).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().left) + '-' + Math.round(e.getBoundingClientRect().right)).join(', ')`))
	}
	sam.screenshot("dashboard-phone.png")
	sam.click("#view-toggle") // back to the chat, where the header is fullest
	sam.waitJS("chat shown", `document.getElementById('dashboard').hidden && !document.getElementById('layout').hidden && getComputedStyle(document.getElementById('nav-toggle')).display !== 'none'`)
	if w := eval[int](sam, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("a supervisor's chat is %dpx wide at a 375px viewport", w)
	}
	sam.openDashboard()
	sam.click("#esc-back")
	sam.waitJS("queue again, focus on the item", `!document.getElementById('dashboard').classList.contains('detail-open') && document.activeElement?.classList.contains('esc-item')`)

	// Acknowledge: status, buttons, count and the other supervisor's queue.
	sue.click("#esc-ack")
	sue.waitJS("acknowledged", `document.getElementById('esc-status').textContent === 'Acknowledged by you' && document.getElementById('esc-ack').hidden && document.activeElement?.id === 'esc-status' &&
		document.querySelector('#esc-list .esc-item').dataset.status === 'acknowledged' && document.getElementById('view-badge').hidden &&
		[...document.querySelectorAll('#esc-timeline .step-what')].some(e => e.textContent === 'Acknowledged by you')`)
	sue.waitJS("paging stopped", `document.title === 'Kindred'`)
	sam.waitJS("acknowledged, seen by the other supervisor", `(() => { const b = document.querySelector('#esc-list .esc-item'); return b && b.dataset.status === 'acknowledged' && b.querySelector('.esc-state').textContent === 'Acknowledged by sue' && !b.querySelector('.esc-countdown'); })()`)

	// A note goes into the timeline.
	sue.do(chromedp.SendKeys(chromedp.ID("note-text"), "Called Bob; he is safe with his sister tonight."))
	sue.click(`#note-form button[type="submit"]`)
	sue.waitJS("note in the timeline", `[...document.querySelectorAll('#esc-timeline .step-note .step-detail')].some(e => e.textContent === 'Called Bob; he is safe with his sister tonight.') && document.getElementById('note-text').value === ''`)

	// Joining the room opens it; its members see that a supervisor is there.
	sue.click("#esc-join")
	sue.waitJS("room open", fmt.Sprintf(`!document.getElementById('layout').hidden && document.getElementById('conv-title').textContent === %s`, js(room.Name)))
	for _, p := range []*page{bob, ann} {
		p.waitJS("a supervisor joined", `[...document.querySelectorAll('#message-list li.sys-note')].some(li => li.textContent === 'A supervisor joined')`)
	}

	// Resolving takes it out of the queue.
	sue.openDashboard()
	sue.waitJS("join in the timeline", `[...document.querySelectorAll('#esc-timeline .step-what')].some(e => e.textContent === 'You joined the room')`)
	sue.click("#esc-resolve")
	sue.waitJS("resolve dialog", `document.getElementById('resolve-dialog').open && document.activeElement?.id === 'resolve-outcome'`)
	sue.click(`#resolve-form button[type="submit"]`)
	sue.waitJS("outcome required", `document.getElementById('resolve-error').textContent !== '' && document.getElementById('resolve-dialog').open`)
	sue.do(chromedp.SendKeys(chromedp.ID("resolve-outcome"), "Safe tonight; follow-up call booked for tomorrow."))
	sue.click(`#resolve-form button[type="submit"]`)
	sue.waitJS("resolved", `!document.getElementById('resolve-dialog').open && document.getElementById('esc-status').textContent === 'Resolved' && document.querySelectorAll('#esc-list .esc-item').length === 0 && !document.getElementById('esc-empty').hidden`)
	sam.waitJS("resolved, seen by the other supervisor", `document.querySelectorAll('#esc-list .esc-item').length === 0`)

	// Anyone may flag someone else's message by hand. A supervisor who is
	// in the chat when paged sees a banner that leads to the escalation.
	sam.click("#view-toggle")
	sam.waitJS("chat shown", `document.getElementById('dashboard').hidden`)
	ann.pick(`#message-list li.msg:not(.own) button[data-act="menu"]`, "Flag for the crisis team")
	ann.waitJS("flag dialog", `document.getElementById('report-dialog').open && document.getElementById('report-title').textContent === 'Flag this message for a supervisor?'`)
	ann.do(chromedp.SendKeys(chromedp.ID("report-reason"), "Bob sounded low all evening."))
	ann.click("#report-ok")
	ann.waitJS("flag sent", `!document.getElementById('report-dialog').open && document.getElementById('flash').textContent.startsWith('Thank you. A supervisor has been told')`)
	sue.waitJS("flag in the queue", `[...document.querySelectorAll('#esc-list .esc-item')].some(b => b.dataset.status === 'open' && b.querySelector('.esc-place').textContent === 'Evening group')`)
	sam.waitJS("page banner", `!document.getElementById('page-banner').hidden && /^New \w+ escalation in Evening group$/.test(document.getElementById('page-banner-text').textContent)`)
	sam.click("#page-banner-open")
	sam.waitJS("the flagged message's escalation", `!document.getElementById('dashboard').hidden && document.getElementById('page-banner').hidden && document.activeElement?.id === 'esc-title' &&
		document.getElementById('dashboard').classList.contains('detail-open') && [...document.querySelectorAll('#esc-facts dd')].some(d => d.textContent === 'Bob sounded low all evening.')`)

	// Escape on a phone goes back to the queue.
	sam.do(chromedp.KeyEvent(kb.Escape))
	sam.waitJS("back with Escape", `!document.getElementById('dashboard').classList.contains('detail-open') && document.activeElement?.classList.contains('esc-item')`)
}

// A specialist raises a concern about a member from the member list (a
// peer is not offered to); a supervisor hands it off to another, who
// acknowledges it; messaging the person opens a one-on-one chat.
func TestRaiseAConcern(t *testing.T) {
	n := startNode(t, 0, withEscalations)
	sueTok := n.user("sue", "Sue", auth.RoleSupervisor)
	samTok := n.user("sam", "Sam", auth.RoleSupervisor)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Tuesday group", "")
	n.join(bobTok, room.ID)

	b := newBrowser(t)
	sue := b.page("sue", 1280, 800)
	sue.signIn(n, sueTok)
	sue.openDashboard()
	sam := b.page("sam", 1280, 800)
	sam.signIn(n, samTok)
	sam.openDashboard()
	bob := b.page("bob", 1280, 800)
	bob.signIn(n, bobTok)
	bob.openConversation(room.ID)
	bob.click("#members-open")
	bob.waitJS("member list", `document.querySelectorAll('#members-list li').length === 2`)
	if got := strings.Join(bob.menuItems(memberMenu("ann")), "|"); got != "Report to the moderators|Block" {
		t.Errorf("a peer's menu about a member offers %q (no concern)", got)
	}

	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	ann.click("#members-open")
	ann.pick(memberMenu("bob"), "Raise a concern")
	ann.waitJS("concern dialog", `document.getElementById('report-dialog').open && document.getElementById('report-title').textContent === 'Raise a concern about Bob?' && document.activeElement?.id === 'report-reason'`)
	ann.click("#report-ok")
	ann.waitJS("reason required", `document.getElementById('report-error').textContent !== '' && document.getElementById('report-reason').getAttribute('aria-invalid') === 'true'`)
	ann.do(chromedp.SendKeys(chromedp.ID("report-reason"), "Missed three sessions and stopped answering."))
	ann.click("#report-ok")
	ann.waitJS("concern sent", `!document.getElementById('report-dialog').open && document.getElementById('flash').textContent.includes('concern for Bob')`)

	sue.waitJS("concern in the queue", `[...document.querySelectorAll('#esc-list .esc-item')].some(b => b.querySelector('.esc-subject').textContent === 'Bob')`)
	sue.click(`#esc-list .esc-item`)
	sue.waitJS("concern detail", `!document.getElementById('esc-no-message').hidden && [...document.querySelectorAll('#esc-facts dd')].some(d => d.textContent === 'Missed three sessions and stopped answering.') && [...document.querySelectorAll('#esc-facts dd')].some(d => d.textContent === 'Concern raised by ann')`)

	// Handing off pages the other supervisor, who has to acknowledge.
	sue.click("#esc-handoff")
	sue.waitJS("hand-off dialog", `document.getElementById('handoff-dialog').open && document.activeElement?.id === 'handoff-to' && [...document.querySelectorAll('#handoff-people option')].some(o => o.value === 'sam')`)
	sue.do(chromedp.SendKeys(chromedp.ID("handoff-to"), "sam"))
	sue.click(`#handoff-form button[type="submit"]`)
	sue.waitJS("handed off", `!document.getElementById('handoff-dialog').open && document.getElementById('esc-status').textContent.startsWith('Handed to sam, not acknowledged') && document.getElementById('esc-handoff').hidden`)
	sam.waitJS("hand-off page", `[...document.querySelectorAll('#urgent-announcer p')].some(p => p.textContent === 'Escalation handed to you: high, in Tuesday group')`)
	sam.click(`#esc-list .esc-item`)
	sam.waitJS("acknowledge the hand-off", `document.getElementById('esc-ack').textContent === 'Acknowledge hand-off'`)
	sam.click("#esc-ack")
	sam.waitJS("acknowledged by sam", `document.getElementById('esc-status').textContent === 'Acknowledged by you'`)

	// Messaging the person opens a one-on-one chat with them.
	sue.click("#esc-dm")
	sue.waitJS("DM open", `!document.getElementById('layout').hidden && document.getElementById('conv-title').textContent === 'Bob'`)
}

// The dashboard's pure parts, run in the browser: evidence spans are byte
// ranges of UTF-8 text and must mark exactly the matched words whatever
// comes before them; the queue orders by severity, then age.
func TestDashboardHighlightsAndOrder(t *testing.T) {
	n := startNode(t, 0, nil)
	b := newBrowser(t)
	p := b.page("unit", 800, 600)
	p.do(chromedp.Navigate(n.url + "/"))
	type result struct {
		Segments [][2]any `json:"segments"`
		Order    []string `json:"order"`
		Count    string   `json:"count"`
		Page     string   `json:"page"`
	}
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[result](`(async () => {
		const { segments, countdown, pageText } = await import('/js/ui/dashboard.js');
		const { EscalationQueue } = await import('/js/escalations.js');
		const body = 'Ça va? 😔 I have the pills, tonight';
		const enc = new TextEncoder();
		const at = (s) => enc.encode(body.slice(0, body.indexOf(s))).length;
		const span = (s) => ({ start: at(s), end: at(s) + enc.encode(s).length, text: s, rule: 'r' });
		const segs = segments(body, [span('tonight'), span('have the pills'), span('the pills'), { start: 2, end: 999, rule: 'bad' }]);
		const q = new EscalationQueue();
		const e = (id, severity, created_at, status = 'open') => ({ id, severity, created_at, status, timeline: [{}] });
		q.replaceAll([e('a', 'high', '2026-01-01T10:00:00Z'), e('b', 'imminent', '2026-01-01T10:05:00Z'),
			e('c', 'high', '2026-01-01T09:00:00Z'), e('d', 'concern', '2026-01-01T08:00:00Z', 'acknowledged')], 0);
		q.upsert(e('e', 'imminent', '2026-01-01T10:01:00Z'));
		// Newer (a longer timeline): resolved, it leaves the queue.
		q.upsert({ ...e('a', 'high', '2026-01-01T10:00:00Z', 'resolved'), timeline: [{}, {}] });
		// Older than what is known: ignored.
		q.upsert({ ...e('b', 'imminent', '2026-01-01T10:05:00Z', 'resolved'), timeline: [] });
		return {
			segments: segs.map((s) => [s.text, s.match]),
			order: q.queue().map((x) => x.id),
			count: [countdown(42000), countdown(61500), countdown(3723000)].join(' '),
			page: pageText({ severity: 'imminent', conv_kind: 'room', conv_name: 'Evening group' }, { kind: 'notified' }),
		};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	want := result{
		Segments: [][2]any{{"Ça va? 😔 I ", false}, {"have the pills", true}, {", ", false}, {"tonight", true}},
		Order:    []string{"e", "b", "c", "d"},
		Count:    "0:42 1:02 1:02:03",
		Page:     "New imminent escalation in Evening group",
	}
	if a, b := mustJSON(got), mustJSON(want); a != b {
		t.Errorf("got  %s\nwant %s", a, b)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
