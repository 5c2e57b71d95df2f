package static_test

// Browser test of Web Push for supervisors: the dashboard's "Notify me when
// my tab is closed" toggle registers /sw.js and subscribes with the
// server's VAPID key, and a crisis message then reaches a push service.
//
// Headless Chromium cannot subscribe to its push service: each page runs
// in its own (off the record) browser context, and PushManager.subscribe
// fails there with "AbortError: Registration failed - permission denied"
// even with notifications granted. So the page's PushManager is replaced
// by one that hands out a subscription at a local push service
// (webpushtest) and records the applicationServerKey it was asked for.
// Everything else is real: the service worker's registration, the
// client's states, the HTTP API, the server's push, its encryption and
// VAPID token (checked and decrypted by the local push service), and the
// service worker's notice, driven by a push message delivered over the
// DevTools protocol. A click on the notice is not tested (headless
// Chromium shows no notification to click).

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	cdpsw "github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/sqlite"
	"github.com/kindred-health/kindred/chat/webpush"
	"github.com/kindred-health/kindred/chat/webpush/webpushtest"
)

// withPush is withEscalations plus a Web Push sender that may reach the
// local push service.
func withPush(c *server.Config) {
	withEscalations(c)
	st := c.Store.(*sqlite.Store)
	keys, err := webpush.StoredKeys(context.Background(), st)
	if err != nil {
		panic(err)
	}
	if c.Push, err = webpush.NewSender(webpush.Options{Store: st, Keys: keys, Subject: "mailto:oncall@example.org",
		LoopbackHTTP: true, Logger: c.Logger}); err != nil {
		panic(err)
	}
}

// before runs src in the page before its own scripts, on every load.
func (p *page) before(src string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		p.t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdppage.Enable, cdppage.EnableParams{}); err != nil {
		p.t.Fatal(err)
	}
}

// fakePushManager makes PushManager hand out sub (a subscription at the
// local push service) and record the key it is asked to subscribe with.
func (p *page) fakePushManager(sub webpush.Subscription) {
	j, _ := json.Marshal(map[string]any{"endpoint": sub.Endpoint, "expirationTime": nil, "keys": map[string]string{"p256dh": sub.P256DH, "auth": sub.Auth}})
	p.before(fmt.Sprintf(`(() => {
		const json = %s;
		let current = null;
		window.__unsubscribed = 0;
		PushManager.prototype.getSubscription = async function () { return current; };
		PushManager.prototype.subscribe = async function (opts) {
			const key = new Uint8Array(opts.applicationServerKey);
			window.__pushKey = btoa(String.fromCharCode(...key)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
			window.__userVisibleOnly = opts.userVisibleOnly;
			current = {
				endpoint: json.endpoint,
				options: { applicationServerKey: key.buffer, userVisibleOnly: true },
				toJSON: () => json,
				unsubscribe: async () => { current = null; window.__unsubscribed += 1; return true; },
			};
			return current;
		};
	})()`, j))
}

func (p *page) pushState(state, hint string) {
	p.t.Helper()
	p.waitJS("push toggle "+state, fmt.Sprintf(`(() => {
		const b = document.getElementById('push-toggle'), h = document.getElementById('push-hint').textContent;
		const want = %s;
		const shown = want === 'On' || want === 'Off';
		return b.hidden === !shown && (!shown || (document.getElementById('push-state').textContent === want &&
			b.getAttribute('aria-pressed') === String(want === 'On') && !b.disabled)) && h.includes(%s);
	})()`, js(state), js(hint)))
}

// deliverPush hands data to the page's service worker as a push message
// (the DevTools protocol stands in for the browser's push service), with
// notifications allowed for the page's origin.
func (p *page) deliverPush(n *node, data string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	if _, err := chromedp.Call(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"}, Setting: cdpbrowser.PermissionSettingGranted,
		Origin: n.url, BrowserContextID: chromedp.FromContext(p.ctx).BrowserContextID,
	}); err != nil {
		p.t.Fatal(err)
	}
	var id cdpsw.RegistrationID
	regs := chromedp.Events(ctx, cdpsw.WorkerRegistrationUpdated) // subscribed before Enable sends them
	if _, err := chromedp.Call(ctx, cdpsw.Enable, cdp.Empty{}); err != nil {
		p.t.Fatal(err)
	}
	for ev, err := range regs {
		if err != nil {
			p.t.Fatalf("no service worker registration: %v", err)
		}
		for _, r := range ev.Registrations {
			if r.ScopeURL == n.url+"/" && !r.IsDeleted {
				id = r.RegistrationID
			}
		}
		if id != "" {
			break
		}
	}
	if _, err := chromedp.Call(ctx, cdpsw.DeliverPushMessage, cdpsw.DeliverPushMessageParams{Origin: n.url, RegistrationID: id, Data: data}); err != nil {
		p.t.Fatal(err)
	}
}

func (n *node) pushSubscriptions(user string) []webpush.Subscription {
	n.t.Helper()
	subs, err := n.store.PushSubscriptions(context.Background(), user)
	if err != nil {
		n.t.Fatal(err)
	}
	return subs
}

// A supervisor turns on notifications for when the tab is closed: the
// service worker is registered for the whole client, the browser is
// subscribed with the server's key, and a crisis message then sends a push
// (decrypted by the push service) that says nothing of what was written.
// Turning it off, and signing out, remove the subscription. A browser
// without Push, or with notifications blocked, says so.
func TestWebPushToggle(t *testing.T) {
	svc := webpushtest.New()
	defer svc.Close()
	n := startNode(t, 0, withPush)
	now := time.Now()
	if _, err := n.store.Escalations().PutShift(context.Background(), escalation.Shift{
		Supervisor: "sue", Tier: escalation.ShiftPrimary, Start: now.Add(-time.Hour), End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	sueTok := n.user("sue", "Sue", auth.RoleSupervisor)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(n.user("ann", "Ann", auth.RoleSpecialist), "Evening group", "")
	n.join(bobTok, room.ID)
	var key struct {
		PublicKey string `json:"public_key"`
	}
	n.api("GET", "/api/push/key", sueTok, nil, &key)
	svc.VAPIDKey = key.PublicKey

	b := newBrowser(t)
	sue := b.page("sue", 1280, 800)
	sue.recordAlerts() // permission is granted when asked
	sue.fakePushManager(svc.Subscribe("sue-laptop"))
	sue.signIn(n, sueTok)
	sue.openDashboard()
	sue.pushState("Off", "")
	sue.click("#push-toggle")
	sue.pushState("On", "will notify you of pages while Kindred is closed")
	sue.waitJS("service worker active for the whole client", `navigator.serviceWorker.getRegistration('/').then(r => !!r && !!r.active &&
		r.scope === location.origin + '/' && r.active.scriptURL === location.origin + '/sw.js')`)
	if got := eval[string](sue, `window.__pushKey`); got != key.PublicKey {
		t.Errorf("subscribed with key %q, want the server's %q", got, key.PublicKey)
	}
	if !eval[bool](sue, `window.__userVisibleOnly === true`) {
		t.Error("subscribed without userVisibleOnly")
	}
	if subs := n.pushSubscriptions("sue"); len(subs) != 1 || !strings.HasPrefix(subs[0].Endpoint, svc.URL) {
		t.Fatalf("sue's subscriptions on the server: %+v", subs)
	}
	sue.deliverPush(n, `{"type":"escalation","id":"esc_test","severity":"imminent"}`)
	sue.waitJS("the service worker's notification", `navigator.serviceWorker.getRegistration('/').then(r => r.getNotifications()).then(ns =>
		ns.some(n => n.title === 'Kindred: imminent crisis alert' && n.body === 'An escalation is waiting. Open Kindred to respond.' && n.tag === 'escalation-esc_test'))`)

	// Sue closes her tab; Bob writes a crisis message.
	sue.do(chromedp.Navigate("about:blank"))
	bob := b.page("bob", 1280, 800)
	bob.signIn(n, bobTok)
	bob.openConversation(room.ID)
	marker := "zq" + fmt.Sprint(time.Now().UnixNano())
	bob.write(crisisText + " " + marker)
	bob.waitSent(crisisText + " " + marker)
	push, err := svc.Next(waitFor)
	if err != nil || push.Err != nil {
		t.Fatalf("no verified push: %v %v", err, push.Err)
	}
	var payload map[string]string
	if err := json.Unmarshal(push.Payload, &payload); err != nil || payload["type"] != "escalation" || payload["severity"] != "imminent" {
		t.Errorf("payload %q: %v", push.Payload, err)
	}
	for _, secret := range []string{marker, "pills", "Bob", "Evening"} {
		if strings.Contains(string(push.Payload), secret) {
			t.Errorf("the push carries %q: %s", secret, push.Payload)
		}
	}

	// Back on the dashboard (where she left it), she turns it off.
	sue.signIn(n, sueTok)
	sue.waitJS("dashboard shown again", `!document.getElementById('dashboard').hidden`)
	sue.pushState("Off", "") // the fake subscription did not outlive the page; the server is told again when on
	sue.click("#push-toggle")
	sue.pushState("On", "")
	sue.click("#push-toggle")
	sue.pushState("Off", "")
	if subs := n.pushSubscriptions("sue"); len(subs) != 0 || eval[int](sue, `window.__unsubscribed`) != 1 {
		t.Errorf("after turning it off: server %+v, unsubscribed %d", subs, eval[int](sue, `window.__unsubscribed`))
	}
	// Signing out by hand stops the pushes too.
	sue.click("#push-toggle")
	sue.pushState("On", "")
	sue.click("#signout")
	sue.waitJS("signed out", `!document.getElementById('signin').hidden`)
	waitUntil(t, "the subscription removed at sign-out", func() bool { return len(n.pushSubscriptions("sue")) == 0 })

	blocked := b.page("blocked", 1280, 800)
	blocked.before(`Object.defineProperty(Notification, 'permission', { get: () => 'denied' })`)
	blocked.signIn(n, sueTok)
	blocked.openDashboard()
	blocked.pushState("hidden", "blocked in this browser’s settings")
	old := b.page("old", 1280, 800)
	old.before(`delete window.PushManager`)
	old.signIn(n, sueTok)
	old.openDashboard()
	old.pushState("hidden", "cannot notify you while Kindred is closed")

	// A server without Web Push offers nothing.
	plain := startNode(t, 0, withEscalations)
	other := b.page("plain", 1280, 800)
	other.signIn(plain, plain.user("sue", "Sue", auth.RoleSupervisor))
	other.openDashboard()
	other.waitJS("dashboard loaded", `document.getElementById('dash-summary').textContent !== ''`)
	other.waitJS("no push toggle", `document.getElementById('push-toggle').dataset.state === 'hidden' && document.getElementById('push-toggle').hidden && document.getElementById('push-hint').textContent === ''`)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(waitFor); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
