package static_test

// Browser tests: a real node (SQLite in a temp dir, memory broker) serves
// the client, and headless Chromium, driven over the DevTools protocol,
// uses it as people would. Every wait is on a DOM condition with a generous
// timeout; no assertion depends on how long something took.
//
// The tests need /usr/bin/chromium. Without it they are skipped, except
// with CI=true, where a missing browser is a failure.
//
// KINDRED_UPDATE_SCREENSHOTS=1 writes the screenshots to docs/screenshots/
// (commit them); otherwise they go to a temp dir.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/broker/memory"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/sqlite"
	"github.com/kindred-health/kindred/static"
)

const chromiumPath = "/usr/bin/chromium"

// waitFor bounds every wait on the page. It only stops a hung test.
const waitFor = 45 * time.Second

var testSecret = []byte("0123456789abcdef0123456789abcdef-browser-tests")

// node is one Kindred server on a loopback port.
type node struct {
	t      *testing.T
	url    string
	store  *sqlite.Store
	signer *auth.Signer
}

func startNode(t *testing.T, idle time.Duration, mod func(*server.Config)) *node {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kindred.db"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewHMACVerifier(testSecret, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := auth.NewHMACSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{
		Store: st, Broker: memory.NewBroker(), Presence: memory.NewPresence(), Verifier: v,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Static: static.Handler(idle),
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.CloseClientConnections()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		hs.Close()
		st.Close()
	})
	return &node{t: t, url: hs.URL, store: st, signer: signer}
}

func (n *node) token(sub, name string, role auth.Role) string {
	n.t.Helper()
	tok, err := n.signer.Mint(sub, name, role, time.Hour)
	if err != nil {
		n.t.Fatal(err)
	}
	return tok
}

// api calls the HTTP API and decodes the answer into out.
func (n *node) api(method, path, token string, body, out any) {
	n.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, n.url+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		n.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			n.t.Fatal(err)
		}
	}
}

func (n *node) createRoom(token, name, topic string) chat.Conversation {
	var c chat.Conversation
	n.api("POST", "/api/rooms", token, map[string]string{"name": name, "topic": topic}, &c)
	return c
}

func (n *node) join(token, room string) {
	n.api("POST", "/api/rooms/"+room+"/join", token, nil, nil)
}

// user is a person with a token, known to the store (as after a first
// sign-in), so that names show in history and DMs can be opened.
func (n *node) user(id, name string, role auth.Role) string {
	n.t.Helper()
	if err := n.store.UpsertUser(context.Background(), chat.User{ID: id, Name: name, Role: string(role)}); err != nil {
		n.t.Fatal(err)
	}
	return n.token(id, name, role)
}

// browser is one headless Chromium with its own temporary profile.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tests need %s: %v", chromiumPath, err)
		}
		t.Skipf("skipping browser test: %s not found (install chromium; CI=true makes this a failure)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx}
}

// page opens a tab in a fresh browser context: its own storage and
// network emulation, like a separate device.
func (b *browser) page(name string, width, height int64) *page {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	p := &page{t: b.t, ctx: ctx, name: name}
	// The first action creates the tab and must run on its own context:
	// a derived one with a timeout would close the tab when it ends.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		b.t.Fatalf("%s: open tab: %v", name, err)
	}
	// The client must not write to the console (it could leak a token or
	// a message), and the page must run under its CSP without violations.
	consoleCalls := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	go func() {
		for ev, err := range consoleCalls {
			if err != nil {
				return
			}
			b.t.Errorf("%s: the client wrote to the console (console.%s)", name, ev.Type)
		}
	}()
	logEntries := chromedp.Events(ctx, cdplog.EntryAdded)
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		b.t.Fatal(err)
	}
	go func() {
		for ev, err := range logEntries {
			if err != nil {
				return
			}
			if ev.Entry.Source == cdplog.EntrySourceSecurity {
				b.t.Errorf("%s: security violation: %s", name, ev.Entry.Text)
			}
		}
	}()
	// An uncaught exception in the client fails the test.
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg = d.Exception.Description
			}
			b.t.Errorf("%s: uncaught exception in the page: %s (%s:%d)", name, msg, d.URL, d.LineNumber+1)
		}
	}()
	return p
}

type page struct {
	t    *testing.T
	ctx  context.Context
	name string
}

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v\n%s", p.name, err, p.state())
	}
}

func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, expr, err)
	}
	return v
}

// waitJS waits until the JavaScript expression is truthy.
func (p *page) waitJS(what, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(waitFor), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		p.t.Fatalf("%s: waiting for %s: %v\n%s", p.name, what, err, p.state())
	}
}

// state describes the page for failure messages (no tokens in it).
func (p *page) state() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		status: document.getElementById('conn-status')?.dataset.state,
		title: document.getElementById('conv-title')?.textContent,
		notice: document.getElementById('notice-text')?.textContent,
		typing: document.getElementById('typing')?.textContent,
		messages: [...document.querySelectorAll('#message-list li.msg')].map(li => li.className + ': ' + (li.querySelector('.msg-body')?.textContent ?? '')),
		view: document.getElementById('view-toggle')?.getAttribute('aria-pressed') === 'true' ? 'dashboard' : 'chat',
		escalations: [...document.querySelectorAll('#esc-list .esc-item')].map(b => b.textContent),
		escError: document.getElementById('esc-error')?.textContent || document.getElementById('dash-error')?.textContent,
		focus: document.activeElement ? document.activeElement.tagName + '#' + document.activeElement.id : '',
		dialogs: [...document.querySelectorAll('dialog[open]')].map(d => d.id),
		composer: document.getElementById('composer-input')?.disabled ? 'disabled' : 'enabled',
		roomState: document.getElementById('room-state')?.hidden ? '' : document.getElementById('room-state')?.textContent,
	})`))
	if err != nil {
		return "(page state unavailable: " + err.Error() + ")"
	}
	return "page state: " + s
}

func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (p *page) signIn(n *node, token string) {
	p.t.Helper()
	p.do(chromedp.Navigate(n.url + "/#token=" + token))
	p.waitJS("connected", `document.getElementById('conn-status').dataset.state === 'connected'`)
}

// click clicks the element as a person would: once it is shown, enabled
// and what a click at its centre reaches (not under something sliding
// away, such as the list of chats closing on a phone).
func (p *page) click(selector string) {
	p.t.Helper()
	p.waitJS(selector, fmt.Sprintf(`(() => {
		const e = document.querySelector(%s);
		if (!e || e.offsetParent === null || e.disabled) return false;
		e.scrollIntoView({ block: 'nearest', inline: 'nearest' });
		const r = e.getBoundingClientRect();
		const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		return hit !== null && e.contains(hit);
	})()`, js(selector)))
	p.do(chromedp.Click(chromedp.CSS(selector)))
}

func (p *page) openConversation(id string) {
	p.t.Helper()
	p.click(fmt.Sprintf(`#sidebar button[data-conv=%q]`, id))
	p.waitJS("conversation open", fmt.Sprintf(`document.querySelector('#sidebar button[data-conv=%q]')?.getAttribute('aria-current') === 'true' && !document.getElementById('conv').hidden`, id))
}

// write types text into the message box and presses Enter.
func (p *page) write(text string) {
	p.t.Helper()
	p.do(chromedp.Focus(chromedp.ID("composer-input")), chromedp.SendKeys(chromedp.ID("composer-input"), text))
	p.enter(0)
}

// enter presses Enter (with modifiers, e.g. chromedp.ModifierShift) as a
// keyboard does: one keydown that carries the text. (chromedp's key
// encoding sends a separate char event, which a page cannot cancel, so an
// Enter that sends a message would also type a newline.)
func (p *page) enter(mods chromedp.Modifier) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	down := input.DispatchKeyEventParams{
		Type: input.DispatchKeyEventTypeKeyDown, Modifiers: int64(mods), Key: "Enter", Code: "Enter",
		Text: "\r", UnmodifiedText: "\r", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
	}
	up := down
	up.Type, up.Text, up.UnmodifiedText = input.DispatchKeyEventTypeKeyUp, "", ""
	for _, ev := range []input.DispatchKeyEventParams{down, up} {
		if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, ev); err != nil {
			p.t.Fatalf("%s: Enter: %v", p.name, err)
		}
	}
}

// bodies lists the message texts shown, in order.
func (p *page) bodies() []string {
	return eval[[]string](p, `[...document.querySelectorAll('#message-list li.msg .msg-body')].map(e => e.textContent)`)
}

// waitSent waits until text is shown as a stored message (not pending).
func (p *page) waitSent(text string) {
	p.t.Helper()
	p.waitJS("message "+text, fmt.Sprintf(`[...document.querySelectorAll('#message-list li.msg:not(.pending):not(.failed) .msg-body')].some(e => e.textContent === %s)`, js(text)))
}

func (p *page) screenshot(name string) {
	p.t.Helper()
	dir := p.t.TempDir()
	if os.Getenv("KINDRED_UPDATE_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			p.t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// colorScheme emulates the user's light or dark preference.
func (p *page) colorScheme(scheme string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		p.t.Fatal(err)
	}
}

// setOffline cuts the tab off the network (or reconnects it): requests
// fail and the page sees navigator.onLine change with an offline event.
func (p *page) setOffline(offline bool) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		p.t.Fatal(err)
	}
	conds := []*network.Conditions{}
	if offline {
		conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
	}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: conds}); err != nil {
		p.t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		p.t.Fatal(err)
	}
}

// Two people sign in from two browsers, join the same support group and
// each sees what the other writes; a new message is announced to screen
// readers with its author first.
func TestTwoPeopleChatInARoom(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Tuesday evening circle", "Recovery support, every Tuesday")

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	bob := b.page("bob", 1280, 800)

	ann.signIn(n, annTok)
	ann.openConversation(room.ID)

	bob.signIn(n, bobTok)
	bob.click("#browse-rooms")
	bob.click(fmt.Sprintf(`#rooms-dialog button[data-room=%q]`, room.ID))
	bob.waitJS("joined room open", fmt.Sprintf(`document.getElementById('conv-title').textContent === %s && !document.getElementById('rooms-dialog').open`, js(room.Name)))

	ann.write("Welcome, Bob. Glad you made it tonight.")
	ann.waitSent("Welcome, Bob. Glad you made it tonight.")
	bob.waitSent("Welcome, Bob. Glad you made it tonight.")
	bob.waitJS("announcement", `[...document.querySelectorAll('#announcer p')].some(p => p.textContent === 'Ann: Welcome, Bob. Glad you made it tonight.')`)

	bob.do(chromedp.SendKeys(chromedp.ID("composer-input"), "Thanks"))
	ann.waitJS("typing indicator", `document.getElementById('typing').textContent === 'Bob is typing…'`)
	bob.do(chromedp.SendKeys(chromedp.ID("composer-input"), ", it helps to be here."))
	bob.enter(0)
	ann.waitSent("Thanks, it helps to be here.")
	bob.waitSent("Thanks, it helps to be here.")
	ann.waitJS("typing indicator cleared", `document.getElementById('typing').textContent === ''`)

	ann.write("Let's start with a short check-in: how was your week?")
	bob.waitSent("Let's start with a short check-in: how was your week?")
	bob.write("Up and down, but I kept to my plan.")
	ann.waitSent("Up and down, but I kept to my plan.")

	want := []string{
		"Welcome, Bob. Glad you made it tonight.",
		"Thanks, it helps to be here.",
		"Let's start with a short check-in: how was your week?",
		"Up and down, but I kept to my plan.",
	}
	for _, p := range []*page{ann, bob} {
		if got := p.bodies(); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s shows %q, want %q", p.name, got, want)
		}
	}
	ann.do(chromedp.Blur(chromedp.ID("composer-input")))
	ann.screenshot("room-desktop.png")
	ann.colorScheme("dark")
	ann.screenshot("room-desktop-dark.png")
}

// One person loses the network; the other sends three messages meanwhile.
// Back online, the first shows all three once and in order, and a message
// written while offline is sent on reconnect, once.
func TestOfflineResumeShowsEverythingOnce(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Morning group", "")
	n.join(bobTok, room.ID)

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	bob := b.page("bob", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	bob.signIn(n, bobTok)
	bob.openConversation(room.ID)

	ann.write("Before the break")
	bob.waitSent("Before the break")

	bob.setOffline(true)
	bob.waitJS("offline state", `document.getElementById('conn-status').dataset.state === 'offline' && document.getElementById('conn-text').textContent === 'Offline' && !document.getElementById('offline-note').hidden`)
	bob.write("Written while offline")
	bob.waitJS("queued message", `[...document.querySelectorAll('#message-list li.msg.pending')].some(li => li.querySelector('.msg-body').textContent === 'Written while offline' && li.querySelector('.msg-state').textContent === 'Sending…')`)

	for _, s := range []string{"one", "two", "three"} {
		ann.write(s)
		ann.waitSent(s)
	}

	bob.setOffline(false)
	bob.waitJS("connected again", `document.getElementById('conn-status').dataset.state === 'connected'`)
	bob.waitSent("three")
	bob.waitSent("Written while offline")
	ann.waitSent("Written while offline")

	want := []string{"Before the break", "one", "two", "three", "Written while offline"}
	for _, p := range []*page{ann, bob} {
		if got := p.bodies(); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s shows %q, want %q (each once, in order)", p.name, got, want)
		}
	}
}

// A one-on-one chat is started from the member list; the other person
// sees it appear with an unread count and reads it.
func TestDirectMessageFromMemberList(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Thursday circle", "")
	n.join(bobTok, room.ID)

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	bob := b.page("bob", 1280, 800)
	bob.signIn(n, bobTok)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)

	ann.click("#members-open")
	ann.waitJS("Bob listed online", `[...document.querySelectorAll('#members-list li')].some(li => li.textContent.includes('Bob') && li.querySelector('.member-status').textContent === 'Online')`)
	ann.screenshot("members-dialog.png")
	ann.click(`#members-list button[data-user="bob"]`)
	ann.waitJS("DM open", `document.getElementById('conv-title').textContent === 'Bob' && !document.getElementById('members-dialog').open`)
	ann.write("Hi Bob, checking in privately. How are you doing?")
	ann.waitSent("Hi Bob, checking in privately. How are you doing?")

	bob.waitJS("DM with unread count", `(() => { const b = document.querySelector('#dm-list button.conv-item'); return b && b.textContent.includes('Ann') && b.querySelector('.badge')?.textContent === '1'; })()`)
	bob.click("#dm-list button.conv-item")
	bob.waitSent("Hi Bob, checking in privately. How are you doing?")
	bob.waitJS("unread cleared", `!document.querySelector('#dm-list .badge')`)
	bob.write("Better than last week, thank you.")
	ann.waitSent("Better than last week, thank you.")

	// Bob blocks Ann from the chat's details: her next message is refused
	// in plain words, until he unblocks her.
	bob.click("#members-open")
	bob.waitJS("details", `document.getElementById('members-dialog').open && document.querySelectorAll('#members-list li').length === 2`)
	bob.pick(memberMenu("ann"), "Block")
	bob.waitJS("block dialog", `document.getElementById('action-dialog').open && document.getElementById('action-title').textContent === 'Block Ann?' && document.getElementById('action-reason').hidden`)
	bob.click("#action-ok")
	bob.waitJS("blocked", `!document.getElementById('action-dialog').open && document.getElementById('flash').textContent === 'You blocked Ann.'`)
	ann.write("Are you still there?")
	ann.waitJS("refused in words", `[...document.querySelectorAll('#message-list li.msg.failed')].some(li => li.textContent.includes('Are you still there?') && li.querySelector('.msg-state').textContent === 'Not sent. You can’t message this person.')`)
	if got := strings.Join(bob.menuItems(memberMenu("ann")), "|"); got != "Unblock" {
		t.Errorf("after blocking, the menu offers %q", got)
	}
	bob.pick(memberMenu("ann"), "Unblock")
	bob.waitJS("unblocked", `document.getElementById('flash').textContent === 'You unblocked Ann.'`)
}

// Refused actions are explained: a message over the size limit, and
// sending faster than the rate limit (which then goes through by itself).
func TestRefusedActionsShowTheirErrors(t *testing.T) {
	n := startNode(t, 0, func(c *server.Config) {
		c.MaxMessageBytes = 200
		// Two at once, then one every 10 s: the three messages below are
		// typed well within that even on a loaded machine (at one every
		// 2 s a slow run typed them slower than the bucket refilled).
		c.SendRate = 0.1
		c.SendBurst = 2
	})
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	room := n.createRoom(annTok, "Weekend group", "")

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)

	// Too long: refused with message_too_long's text, and the text kept.
	long := strings.Repeat("So much to say. ", 14)
	ann.do(chromedp.SendKeys(chromedp.ID("composer-input"), long))
	ann.enter(0)
	ann.waitJS("message_too_long shown", `(() => { const n = document.getElementById('notice'); return !n.hidden && n.textContent.includes('This message is too long to send (the limit is 200 bytes'); })()`)
	ann.waitJS("counter and value kept", `document.getElementById('composer-count').textContent.startsWith('Too long') && document.getElementById('composer-input').getAttribute('aria-invalid') === 'true' && document.getElementById('composer-input').value.length > 200`)
	ann.screenshot("error-state.png")
	ann.do(chromedp.Evaluate[chromedp.Void](`(() => { const i = document.getElementById('composer-input'); i.value = ''; i.dispatchEvent(new Event('input')); })()`))

	// Rate limited: the third quick message is refused with the retry
	// time, shown as waiting, and sent when allowed.
	ann.write("first")
	ann.write("second")
	ann.write("third")
	ann.waitJS("rate_limited shown", `(() => { const n = document.getElementById('notice'); return !n.hidden && /You can send again in \d+ seconds?/.test(n.textContent); })()`)
	ann.waitSent("third")
	if got := ann.bodies(); strings.Join(got, "|") != "first|second|third" {
		t.Errorf("after the rate limit: %q", got)
	}
}

// Everything works from the keyboard: Tab reaches the message box, Enter
// sends, Shift+Enter makes a new line, focus is visible, and Escape closes
// a dialog and returns focus to its button.
func TestKeyboardOnlySending(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	room := n.createRoom(annTok, "Open circle", "")

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	ann.do(chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))

	tabTo := func(what, cond string) {
		t.Helper()
		for range 60 {
			if eval[bool](ann, cond) {
				return
			}
			ann.do(chromedp.KeyEvent(kb.Tab))
		}
		t.Fatalf("Tab never reached %s", what)
	}
	tabTo("the message box", `document.activeElement?.id === 'composer-input'`)
	if !eval[bool](ann, `getComputedStyle(document.activeElement).outlineStyle !== 'none'`) {
		t.Error("the focused message box has no visible focus outline")
	}
	ann.do(chromedp.KeyEvent("Typed with the keyboard"))
	ann.enter(chromedp.ModifierShift)
	ann.do(chromedp.KeyEvent("on two lines"))
	ann.enter(0)
	ann.waitSent("Typed with the keyboard\non two lines")
	if got := eval[string](ann, `document.getElementById('composer-input').value`); got != "" {
		t.Errorf("message box not cleared after sending: %q", got)
	}

	ann.do(chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	tabTo("the Members button", `document.activeElement?.id === 'members-open'`)
	ann.enter(0)
	ann.waitJS("members dialog open", `document.getElementById('members-dialog').open`)
	ann.do(chromedp.KeyEvent(kb.Escape))
	ann.waitJS("dialog closed, focus back", `!document.getElementById('members-dialog').open && document.activeElement?.id === 'members-open'`)
}

// After the idle timeout the tab signs out by itself: the token is gone
// from sessionStorage and no message is left in the page.
func TestIdleSignOutClearsTokenAndHistory(t *testing.T) {
	n := startNode(t, 3*time.Second, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	room := n.createRoom(annTok, "Late group", "")
	items := []chat.AppendItem{{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: "ann", ClientID: "seed", Body: "Something private about my week"}}}
	if err := n.store.Append(context.Background(), items); err != nil || items[0].Err != nil {
		t.Fatal(err, items[0].Err)
	}

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	if eval[bool](ann, `location.hash.includes('token')`) {
		t.Error("the token was left in the address bar")
	}
	if eval[int](ann, `sessionStorage.length`) == 0 || eval[string](ann, `sessionStorage.getItem('kindred.token')`) != annTok {
		t.Error("the token is not kept in sessionStorage")
	}
	ann.openConversation(room.ID)
	ann.waitSent("Something private about my week")
	// What was seen, per conversation (for "New since you left"), is kept
	// in the tab's session, and must go with it.
	markRead := fmt.Sprintf(`Number.isInteger(JSON.parse(sessionStorage.getItem('kindred.marks') || '{}')[%s]?.read)`, js(room.ID))
	signedOut := `!document.getElementById('signin').hidden && document.getElementById('app').hidden`
	ann.waitJS("what was seen kept", markRead+` || `+signedOut)
	sawMark, outEarly := eval[bool](ann, markRead), eval[bool](ann, signedOut)

	ann.waitJS("signed out", signedOut)
	if got := eval[int](ann, `sessionStorage.length`); got != 0 {
		t.Errorf("sessionStorage still holds %d items after sign-out", got)
	}
	if eval[bool](ann, `sessionStorage.getItem('kindred.marks') !== null`) {
		t.Error("the marks of what was seen are still stored after sign-out")
	}
	if !sawMark && !outEarly {
		t.Error("what was seen was not kept before sign-out")
	}
	if eval[bool](ann, `document.body.textContent.includes('Something private') || document.querySelectorAll('#message-list li, #room-list li, #announcer p').length > 0`) {
		t.Error("history is still in the page after sign-out")
	}
	if !eval[bool](ann, `document.getElementById('signin-reason').textContent.includes('without activity')`) {
		t.Error("the sign-in screen does not say why")
	}
	ann.screenshot("signed-out.png")
}

// Scrolling up pages back through history until the start, with every
// message once and in order.
func TestScrollBackLoadsHistory(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	room := n.createRoom(annTok, "Long-running group", "")
	var items []chat.AppendItem
	for i := 1; i <= 130; i++ {
		items = append(items, chat.AppendItem{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: "ann", ClientID: fmt.Sprint("seed-", i), Body: fmt.Sprint("Message ", i)}})
	}
	if err := n.store.Append(context.Background(), items); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	ann.waitSent("Message 130")
	if got := len(ann.bodies()); got >= 130 {
		t.Fatalf("all %d messages loaded at once; expected paging", got)
	}
	for i := 0; !eval[bool](ann, `document.getElementById('history-status').textContent.startsWith('This is the start')`); i++ {
		if i > 20 {
			t.Fatalf("never reached the start of history\n%s", ann.state())
		}
		before := len(ann.bodies())
		ann.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('messages').scrollTop = 0`))
		ann.waitJS("an older page", fmt.Sprintf(`document.querySelectorAll('#message-list li.msg').length > %d || document.getElementById('history-status').textContent.startsWith('This is the start')`, before))
	}
	got := ann.bodies()
	if len(got) != 130 {
		t.Fatalf("%d messages after scrolling back, want 130", len(got))
	}
	for i, body := range got {
		if body != fmt.Sprint("Message ", i+1) {
			t.Fatalf("message %d is %q", i+1, body)
		}
	}
}

// At 375px the layout fits, the conversation list hides behind a button,
// and the button opens and (with Escape) closes it.
func TestPhoneLayout(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Evening support circle", "Peer support for the evenings")
	n.join(bobTok, room.ID)
	n.createRoom(annTok, "Family and friends", "")
	for i, m := range []struct{ tok, body string }{
		{annTok, "Good evening, everyone. Take a breath; we start in a minute."},
		{bobTok, "Evening. Rough day, but I'm here."},
		{annTok, "Thank you for coming anyway, Bob. That counts."},
	} {
		from := "ann"
		if m.tok == bobTok {
			from = "bob"
		}
		items := []chat.AppendItem{{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: from, ClientID: fmt.Sprint("p", i), Body: m.body}}}
		if err := n.store.Append(context.Background(), items); err != nil || items[0].Err != nil {
			t.Fatal(err, items[0].Err)
		}
	}

	b := newBrowser(t)
	bob := b.page("bob", 375, 740)
	bob.signIn(n, bobTok)
	bob.waitJS("list collapsed", `getComputedStyle(document.getElementById('sidebar')).visibility === 'hidden' && document.getElementById('nav-toggle').offsetParent !== null`)
	listOpen := `getComputedStyle(document.getElementById('sidebar')).visibility === 'visible' && document.getElementById('sidebar').getBoundingClientRect().left === 0 && document.getElementById('nav-toggle').getAttribute('aria-expanded') === 'true'`
	bob.click("#nav-toggle")
	bob.waitJS("list open", listOpen)
	bob.do(chromedp.KeyEvent(kb.Escape))
	bob.waitJS("list closed by Escape", `getComputedStyle(document.getElementById('sidebar')).visibility === 'hidden' && document.activeElement?.id === 'nav-toggle'`)
	bob.click("#nav-toggle")
	bob.waitJS("list open again", listOpen)
	bob.screenshot("nav-phone.png")
	bob.click(fmt.Sprintf(`#sidebar button[data-conv=%q]`, room.ID))
	bob.waitJS("room open, list closed", fmt.Sprintf(`document.getElementById('conv-title').textContent === %s && getComputedStyle(document.getElementById('sidebar')).visibility === 'hidden'`, js(room.Name)))
	bob.waitSent("Thank you for coming anyway, Bob. That counts.")
	if w := eval[int](bob, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("page is %dpx wide at a 375px viewport", w)
	}
	bob.screenshot("room-phone.png")
}

// People can edit and delete their own messages; the others see the new
// text marked "(edited)", and a deleted message as "message deleted".
func TestEditAndDeleteOwnMessages(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Sunday group", "")
	n.join(bobTok, room.ID)

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	bob := b.page("bob", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	bob.signIn(n, bobTok)
	bob.openConversation(room.ID)

	bob.write("I relapsed on Friday")
	ann.waitSent("I relapsed on Friday")
	if got := strings.Join(ann.menuItems(ann.msgMenu("I relapsed on Friday")), "|"); got != "Flag for the crisis team|Pin|Hide from the group" {
		t.Errorf("Ann's menu on Bob's message offers %q", got)
	}
	if got := strings.Join(bob.menuItems(bob.msgMenu("I relapsed on Friday")), "|"); got != "Edit|Delete|Ask a supervisor for help" {
		t.Errorf("Bob's menu on his own message offers %q", got)
	}

	bob.pick(bob.msgMenu("I relapsed on Friday"), "Edit")
	bob.waitJS("edit box", `document.activeElement?.classList.contains('edit-input')`)
	bob.do(chromedp.Evaluate[chromedp.Void](`document.activeElement.select()`), chromedp.KeyEvent("I slipped on Friday, and I'm back on track"))
	bob.enter(0)
	bob.waitJS("edit box closed, focus on the menu", `!document.querySelector('.edit-form') && document.activeElement?.dataset.act === 'menu'`)
	ann.waitJS("edited text", `(() => { const li = document.querySelector('#message-list li.msg'); return li.querySelector('.msg-body').textContent === "I slipped on Friday, and I'm back on track" && li.querySelector('.msg-edited')?.textContent === '(edited)'; })()`)

	bob.pick(bob.msgMenu("I slipped on Friday, and I'm back on track"), "Delete")
	bob.waitJS("confirmation", `document.getElementById('confirm-dialog').open`)
	bob.click("#confirm-ok")
	for _, p := range []*page{ann, bob} {
		p.waitJS("tombstone", `(() => { const li = document.querySelector('#message-list li.msg'); return li.classList.contains('deleted') && li.querySelector('.msg-body').textContent === 'message deleted'; })()`)
	}
	if eval[int](bob, `document.querySelectorAll('#message-list [data-act]').length`) != 0 {
		t.Error("a deleted message still offers actions")
	}
}

// A token that expires during the session ends it (close 4001): the tab
// asks to sign in again and keeps nothing.
func TestExpiredSignInAsksToSignInAgain(t *testing.T) {
	n := startNode(t, 0, nil)
	n.user("ann", "Ann", auth.RoleSpecialist)
	tok, err := n.signer.Mint("ann", "Ann", auth.RoleSpecialist, 4*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	// Usually the session starts and is then closed with 4001 when the
	// token expires; on a slow machine the token may expire before the
	// hello, which is refused with 4001 too. Either way: sign in again.
	ann.do(chromedp.Navigate(n.url + "/#token=" + tok))
	ann.waitJS("sign-in screen", `!document.getElementById('signin').hidden && document.getElementById('signin-reason').textContent.includes('expired')`)
	if got := eval[int](ann, `sessionStorage.length`); got != 0 {
		t.Errorf("sessionStorage holds %d items after the session expired", got)
	}
}

// An admin revokes the user's sessions (close 4011): the open tab says so,
// asks to sign in again and keeps nothing.
func TestRevokedSignInAsksToSignInAgain(t *testing.T) {
	n := startNode(t, 0, nil)
	tok := n.user("ann", "Ann", auth.RoleSpecialist)
	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	ann.do(chromedp.Navigate(n.url + "/#token=" + tok))
	ann.waitJS("signed in", `!document.getElementById('app').hidden`)
	n.api("POST", "/api/users/ann/revoke", n.token("ada", "Ada", auth.RoleAdmin), nil, nil)
	ann.waitJS("sign-in screen", `!document.getElementById('signin').hidden && document.getElementById('signin-reason').textContent.includes('ended your sessions')`)
	if got := eval[int](ann, `sessionStorage.length`); got != 0 {
		t.Errorf("sessionStorage holds %d items after the sessions were revoked", got)
	}
}

// Reloading the tab keeps the sign-in (sessionStorage), reopens the
// conversation and shows its history once.
func TestReloadKeepsSessionAndHistory(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Friday group", "")
	n.join(bobTok, room.ID)

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	bob := b.page("bob", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	bob.signIn(n, bobTok)
	bob.openConversation(room.ID)
	ann.write("first")
	bob.waitSent("first")

	bob.do(chromedp.Reload())
	bob.waitJS("reconnected", `document.getElementById('conn-status').dataset.state === 'connected'`)
	bob.waitJS("conversation reopened", fmt.Sprintf(`document.getElementById('conv-title').textContent === %s`, js(room.Name)))
	ann.write("second")
	bob.waitSent("second")
	bob.waitSent("first")
	if got := bob.bodies(); strings.Join(got, "|") != "first|second" {
		t.Errorf("after reload: %q", got)
	}
}

// A specialist creates a support group from the dialog and later leaves
// it; a peer is not offered to create one.
func TestCreateAndLeaveGroup(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)

	b := newBrowser(t)
	bob := b.page("bob", 1280, 800)
	bob.signIn(n, bobTok)
	if eval[bool](bob, `!document.getElementById('create-room').hidden`) {
		t.Error("a peer is offered to create a group")
	}

	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	ann.click("#create-room")
	ann.waitJS("create dialog", `document.getElementById('create-dialog').open && document.activeElement?.id === 'create-name'`)
	ann.do(chromedp.SendKeys(chromedp.ID("create-name"), "Grief support"), chromedp.SendKeys(chromedp.ID("create-topic"), "For anyone who has lost someone"))
	ann.click(`#create-form button[type="submit"]`)
	ann.waitJS("new group open", `document.getElementById('conv-title').textContent === 'Grief support' && document.getElementById('conv-sub').textContent.startsWith('For anyone who has lost someone')`)
	ann.write("This group is open now.")
	ann.waitSent("This group is open now.")

	ann.click("#members-open")
	ann.click("#leave-room")
	ann.waitJS("confirmation", `document.getElementById('confirm-dialog').open && document.getElementById('confirm-title').textContent === 'Leave Grief support?'`)
	ann.click("#confirm-ok")
	ann.waitJS("group left", `!document.querySelector('#room-list li') && !document.getElementById('no-conv').hidden && document.getElementById('message-list').childElementCount === 0`)
}

// The conversation store, run in the browser on its own: the stream, a
// history page and the outbox overlap, and each message is kept once, in
// order, with the latest change applied.
func TestStoreMergesStreamHistoryAndOutbox(t *testing.T) {
	n := startNode(t, 0, nil)
	b := newBrowser(t)
	p := b.page("store", 800, 600)
	p.do(chromedp.Navigate(n.url + "/"))
	type result struct {
		Bodies  []string `json:"bodies"`
		States  []string `json:"states"`
		Gap     bool     `json:"gap"`
		Seen    int      `json:"seen"`
		Unread  int      `json:"unread"`
		Outbox  int      `json:"outbox"`
		AtStart bool     `json:"atStart"`
		Resume  map[string]int
	}
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[result](`(async () => {
		const { Store } = await import('/js/store.js');
		const s = new Store();
		s.welcome({ user: { id: 'me', name: 'Me', role: 'peer' }, limits: {},
			conversations: [{ id: 'c', kind: 'room', name: 'C', last_seq: 2, members: 2 }] });
		const ts = '2026-01-01T00:00:00Z';
		s.applyEvent({ type: 'message', conv: 'c', seq: 2, from: 'x', body: 'replayed twice', ts });
		s.applyEvent({ type: 'message', conv: 'c', seq: 3, from: 'x', id: 'a', body: 'three', ts });
		s.applyEvent({ type: 'message', conv: 'c', seq: 3, from: 'x', id: 'a', body: 'three', ts });
		s.applyEvent({ type: 'edit', conv: 'c', seq: 4, target: 1, body: 'one, edited', ts: '2026-01-01T00:00:09Z' });
		s.enqueue('c', 'm1', 'mine');
		s.enqueue('c', 'm2', 'still waiting');
		s.applyEvent({ type: 'message', conv: 'c', seq: 5, from: 'me', id: 'm1', body: 'mine', ts });
		s.ack({ type: 'ack', conv: 'c', id: 'm1', seq: 5, ts });
		const gap = !s.applyEvent({ type: 'message', conv: 'c', seq: 7, from: 'x', body: 'after a gap', ts });
		const api = { history: async () => [
			{ type: 'message', conv: 'c', seq: 1, from: 'x', name: 'X', body: 'one', ts },
			{ type: 'message', conv: 'c', seq: 2, from: 'x', name: 'X', body: 'two', ts },
		] };
		await s.loadOlder(api, 'c');
		const c = s.convs.get('c');
		const items = s.timeline(c);
		return { bodies: items.map((i) => i.message.body), states: items.map((i) => i.state), gap,
			seen: c.seen, unread: c.unread, outbox: s.outbox.length, atStart: c.atStart, Resume: s.resume() };
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	want := result{
		Bodies: []string{"one, edited", "two", "three", "mine", "still waiting"},
		States: []string{"sent", "sent", "sent", "sent", "pending"},
		Gap:    true, Seen: 5, Unread: 1, Outbox: 1, AtStart: true, Resume: map[string]int{"c": 5},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("store state\n got %+v\nwant %+v", got, want)
	}
}
