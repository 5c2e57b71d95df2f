package static_test

// Browser tests of Kindred's own sign-in (auth/signin): an emailed link
// through a real SMTP server, staff sign-in through a real OpenID
// provider, staying signed in (reload, renewal before the access token
// expires), signing out on the server, and the admins' people directory
// and sign-in settings. Same rules as browser_test.go: a real node, real
// Chromium, waits on DOM conditions (or on what the page sends and
// receives) only.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/auth/mail"
	"github.com/kindred-health/kindred/auth/mail/mailtest"
	"github.com/kindred-health/kindred/auth/signin"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/server"
)

// mailbox is a real SMTP server on 127.0.0.1 (auth/mail/mailtest): the
// test reads the sign-in links in what it receives.
type mailbox struct {
	*mailtest.Server
	t *testing.T
}

func startMailbox(t *testing.T) *mailbox { return &mailbox{Server: mailtest.Start(t), t: t} }

// sender is an auth/mail Sender for the mailbox.
func (mb *mailbox) sender() *mail.Sender { return mb.Sender() }

var linkRE = regexp.MustCompile(`https?://\S+/#link=[A-Za-z0-9_-]+`)

// link waits for the next message, checks it is for to, and returns the
// sign-in link in its body.
func (mb *mailbox) link(to string) string {
	mb.t.Helper()
	m := mb.Next(waitFor)
	if !strings.Contains(m.To, to) {
		mb.t.Fatalf("the sign-in email went to %q, want %s", m.To, to)
	}
	link := linkRE.FindString(m.Body)
	if link == "" {
		mb.t.Fatalf("no sign-in link in the email:\n%s", m.Body)
	}
	return link
}

// lateHandler lets a node serve the sign-in routes whose handler needs the
// node's own URL (the links point at it), known once it listens.
type lateHandler struct {
	mu sync.RWMutex
	h  http.Handler
}

func (l *lateHandler) set(h http.Handler) {
	l.mu.Lock()
	l.h = h
	l.mu.Unlock()
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.RLock()
	h := l.h
	l.mu.RUnlock()
	if h == nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

// signinSetup says which ways in a test node offers: email, and staff
// sign-in with the provider oidc makes for the node's URL.
type signinSetup struct {
	email    bool
	oidc     func(base string) signin.OIDC
	oidcName string
	tweak    func(*signin.Config)
}

// signinNode starts a node with browser sign-in: an auth/signin handler
// on the node's store, with a signer for its secret, Secure cookies, and
// with setup.email the mailbox it sends its links to.
func signinNode(t *testing.T, setup signinSetup) (*node, *mailbox) {
	t.Helper()
	late := &lateHandler{}
	n := startNode(t, 0, func(c *server.Config) {
		c.SignIn, c.SignInEmail, c.SignInOIDC = late, setup.email, setup.oidc != nil
	})
	cfg := signin.Config{Store: n.store, Signer: n.signer, PublicURL: n.url, InsecureCookies: false,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var mb *mailbox
	if setup.email {
		mb = startMailbox(t)
		cfg.Mailer = mb.sender()
	}
	if setup.oidc != nil {
		cfg.OIDC, cfg.OIDCName = setup.oidc(n.url), setup.oidcName
		cfg.StateKey = []byte("0123456789abcdef0123456789abcdef-oidc-state")
	}
	if setup.tweak != nil {
		setup.tweak(&cfg)
	}
	h, err := signin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	late.set(h)
	return n, mb
}

// account adds a person to the directory, as an admin's import would.
func (n *node) account(id, name, email string, role auth.Role) {
	n.t.Helper()
	_, err := n.store.SaveAccount(context.Background(), chat.Account{User: chat.User{ID: id, Name: name, Role: string(role)},
		Email: email, Source: chat.SourceEmail}, time.Time{})
	if err != nil {
		n.t.Fatal(err)
	}
}

// waitThrough is waitJS across navigations the page makes itself (to an
// identity provider and back): a poll cut short by a new document is
// started again on it.
func (p *page) waitThrough(what, expr string) {
	p.t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, time.Until(deadline)+5*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(50*time.Millisecond)))
		cancel()
		if err == nil {
			return
		}
		// The page navigated under the poll: the old document's context is
		// gone, or (a cross-site hop to the identity provider and back
		// swaps the renderer) the inspected target itself.
		gone := strings.Contains(err.Error(), "Cannot find context") || strings.Contains(err.Error(), "Execution context was destroyed") ||
			strings.Contains(err.Error(), "Inspected target navigated or closed")
		if time.Now().After(deadline) || !gone {
			p.t.Fatalf("%s: waiting for %s: %v\n%s", p.name, what, err, p.state())
		}
	}
}

const signinShown = `!document.getElementById('signin').hidden && document.getElementById('app').hidden`

// emailSignIn signs the page in as a person with an email account would:
// it asks for a link on the sign-in page, "opens" the emailed link, and
// waits until the chat is connected. It returns the link.
func (p *page) emailSignIn(n *node, mb *mailbox, email string) string {
	p.t.Helper()
	p.do(chromedp.Navigate(n.url + "/"))
	p.waitJS("the email form", `!document.getElementById('signin-peer').hidden && document.getElementById('signin-email').offsetParent !== null`)
	p.do(chromedp.SendKeys(chromedp.ID("signin-email"), email))
	p.click(`#email-form button[type="submit"]`)
	p.waitJS("check your email", `!document.getElementById('email-sent').hidden && document.activeElement?.id === 'email-sent-title'`)
	link := mb.link(email)
	p.do(chromedp.Navigate("about:blank"), chromedp.Navigate(link))
	p.waitJS("signed in", `document.getElementById('conn-status').dataset.state === 'connected' && !document.getElementById('app').hidden`)
	return link
}

// refreshStatus is what POST /auth/refresh answers the page now.
func (p *page) refreshStatus() int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/auth/refresh', { method: 'POST', headers: { 'X-Kindred-CSRF': '1' } }).then((r) => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatal(err)
	}
	return status
}

// cookies are the browser's cookies for the node's sign-in routes.
func (p *page) cookies(n *node) []*network.Cookie {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{n.url + "/auth/refresh"}})
	if err != nil {
		p.t.Fatal(err)
	}
	return res.Cookies
}

// A peer with an account asks for a sign-in link by email, opens it and is
// in their groups; the refresh cookie is HttpOnly, Secure (accepted on
// http://127.0.0.1, a secure context) and SameSite=Strict, and the link is
// gone from the address bar. The same link opened again (say, on another
// device) says it was already used, with a way to ask for a new one.
func TestEmailSignIn(t *testing.T) {
	n, mb := signinNode(t, signinSetup{email: true})
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	room := n.createRoom(annTok, "Thursday circle", "")
	n.account("pia", "Pia", "pia@example.org", auth.RolePeer)
	n.join(n.token("pia", "Pia", auth.RolePeer), room.ID)

	b := newBrowser(t)
	pia := b.page("pia", 375, 740)
	pia.do(chromedp.Navigate(n.url + "/"))
	pia.waitJS("sign-in page", signinShown+` && !document.getElementById('signin-peer').hidden`)
	// Pasting a link or token is still there, folded away.
	if !eval[bool](pia, `document.getElementById('signin-other').hidden && document.getElementById('signin-other-toggle').getAttribute('aria-expanded') === 'false' && document.getElementById('signin-other-toggle').offsetParent !== null`) {
		t.Error(`"Have a sign-in link or token?" is not offered folded`)
	}
	if !eval[bool](pia, `document.getElementById('signin-staff').hidden`) {
		t.Error("staff sign-in is offered without an identity provider")
	}
	pia.noSideScroll(375, "sign-in page")
	pia.screenshot("signin-email-phone.png")

	// A mistyped address is caught on the page.
	pia.do(chromedp.SendKeys(chromedp.ID("signin-email"), "pia.example.org"))
	pia.click(`#email-form button[type="submit"]`)
	pia.waitJS("address refused", `document.getElementById('signin-email').getAttribute('aria-invalid') === 'true' && document.activeElement?.id === 'signin-email' && document.getElementById('signin-email-error').textContent.includes('email address')`)
	pia.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('signin-email').value = ''`))

	link := pia.emailSignIn(n, mb, "pia@example.org")
	if got := eval[string](pia, `location.href`); strings.Contains(got, "link") {
		t.Errorf("the link is still in the address bar: %s", got)
	}
	pia.waitJS("her group", fmt.Sprintf(`!!document.querySelector('#sidebar button[data-conv=%q]') && document.getElementById('me-name').textContent === 'Pia'`, room.ID))
	if eval[bool](pia, `document.getElementById('name-dialog').open`) {
		t.Error("an existing account is asked to choose a name")
	}
	var refresh *network.Cookie
	for _, c := range pia.cookies(n) {
		if c.Name == "__Secure-kindred_refresh" {
			refresh = c
		}
	}
	switch {
	case refresh == nil:
		t.Fatalf("Chromium kept no __Secure-kindred_refresh cookie from http://127.0.0.1 (cookies: %v)", pia.cookies(n))
	case !refresh.Secure || !refresh.HTTPOnly || refresh.SameSite != network.CookieSameSiteStrict || refresh.Path != "/auth/":
		t.Errorf("refresh cookie: secure %v, httpOnly %v, sameSite %q, path %q", refresh.Secure, refresh.HTTPOnly, refresh.SameSite, refresh.Path)
	}
	if eval[bool](pia, `document.cookie.includes('kindred')`) {
		t.Error("the page's script can read the refresh cookie")
	}

	again := b.page("pia-again", 375, 740)
	again.do(chromedp.Navigate(link))
	again.waitJS("link refused", signinShown+` && !document.getElementById('signin-problem').hidden && document.getElementById('signin-problem-text').textContent.includes('already been used')`)
	if !eval[bool](again, `document.getElementById('signin-problem-action').textContent === 'Email me a new link'`) {
		t.Error("no way to ask for a new link")
	}
	again.click("#signin-problem-action")
	again.waitJS("the email form, focused", `document.activeElement?.id === 'signin-email'`)
	again.noSideScroll(375, "link already used")
}

// Someone new, with signup open, signs in by email and is asked for the
// name others will see (never taken from the address); the name chosen
// is what the chat shows, in this session already. An address that was
// not invited, with signup by invitation only, is told so.
func TestEmailSignUpChoosesName(t *testing.T) {
	n, mb := signinNode(t, signinSetup{email: true})
	if err := n.store.PutSetting(context.Background(), chat.SettingSignup, string(chat.SignupOpen)); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	riv := b.page("riv", 1280, 800)
	riv.emailSignIn(n, mb, "river@example.org")
	riv.waitJS("asked for a name", `document.getElementById('name-dialog').open && document.activeElement?.id === 'name-input' && document.getElementById('name-hint').textContent.includes('Member ')`)
	if name := eval[string](riv, `document.getElementById('me-name').textContent`); strings.Contains(strings.ToLower(name), "river") {
		t.Errorf("a new account is named after its email address: %q", name)
	}
	riv.do(chromedp.SendKeys(chromedp.ID("name-input"), "Riv"))
	riv.click("#name-ok")
	riv.waitJS("renamed and reconnected", `!document.getElementById('name-dialog').open && document.getElementById('me-name').textContent === 'Riv' && document.getElementById('conn-status').dataset.state === 'connected'`)
	riv.waitJS("the session has the name", `(() => { const t = sessionStorage.getItem('kindred.token'); return JSON.parse(atob(t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).name === 'Riv'; })()`)

	// A link asked for while signup was open, used once it is closed.
	other := b.page("other", 1280, 800)
	other.do(chromedp.Navigate(n.url + "/"))
	other.waitJS("email form", `document.getElementById('signin-email').offsetParent !== null`)
	other.do(chromedp.SendKeys(chromedp.ID("signin-email"), "sam@example.org"))
	other.click(`#email-form button[type="submit"]`)
	link := mb.link("sam@example.org")
	if err := n.store.PutSetting(context.Background(), chat.SettingSignup, string(chat.SignupInvite)); err != nil {
		t.Fatal(err)
	}
	other.do(chromedp.Navigate("about:blank"), chromedp.Navigate(link))
	other.waitJS("not invited", signinShown+` && document.getElementById('signin-problem-text').textContent.includes('hasn’t been invited')`)
}

// Signed in by email, a reload needs no sign-in (never shows the sign-in
// page), nor does a new tab's first load (the refresh cookie); the access
// token, which lives 20 seconds here, is renewed twice on the open
// WebSocket (reauth), which stays open throughout, and the API takes the
// renewed token.
func TestBrowserSessionStaysSignedIn(t *testing.T) {
	n, mb := signinNode(t, signinSetup{email: true, tweak: func(c *signin.Config) { c.AccessTTL = 20 * time.Second }})
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	n.createRoom(annTok, "Open circle", "")
	n.account("pia", "Pia", "pia@example.org", auth.RolePeer)

	b := newBrowser(t)
	pia := b.page("pia", 1280, 800)
	// Notes, across loads, whether the sign-in page was ever shown.
	pia.before(`document.addEventListener('DOMContentLoaded', () => {
		const page = document.getElementById('signin');
		if (!page) return;
		new MutationObserver(() => { if (!page.hidden) sessionStorage.setItem('test.sawSignin', '1'); }).observe(page, { attributes: true });
	})`)
	pia.emailSignIn(n, mb, "pia@example.org")
	pia.do(chromedp.Evaluate[chromedp.Void](`sessionStorage.removeItem('test.sawSignin')`))

	pia.do(chromedp.Reload())
	pia.waitJS("connected after a reload", `document.getElementById('conn-status').dataset.state === 'connected'`)
	// A new tab: nothing in sessionStorage but the browser's cookie.
	pia.do(chromedp.Evaluate[chromedp.Void](`(() => { for (const k of Object.keys(sessionStorage)) if (k.startsWith('kindred.')) sessionStorage.removeItem(k); })()`))
	pia.do(chromedp.Reload())
	pia.waitJS("connected in a new tab", `document.getElementById('conn-status').dataset.state === 'connected' && sessionStorage.getItem('kindred.kind') === 'browser'`)
	if eval[bool](pia, `sessionStorage.getItem('test.sawSignin') === '1'`) {
		t.Error("the sign-in page was shown to someone signed in")
	}

	// Watch the WebSocket: renewals arrive on it, and it is never replaced.
	ctx, cancel := context.WithTimeout(pia.ctx, 3*waitFor)
	defer cancel()
	reauthed := make(chan struct{}, 4)
	var mu sync.Mutex
	sockets := 0
	frames := chromedp.Events(ctx, network.WebSocketFrameReceived)
	created := chromedp.Events(ctx, network.WebSocketCreated)
	go func() {
		for ev, err := range frames {
			if err != nil {
				return
			}
			if ev.Response != nil && strings.Contains(string(ev.Response.PayloadData), `"type":"reauthed"`) {
				reauthed <- struct{}{}
			}
		}
	}()
	go func() {
		for _, err := range created {
			if err != nil {
				return
			}
			mu.Lock()
			sockets++
			mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	first := eval[string](pia, `sessionStorage.getItem('kindred.token')`)
	for i := range 2 {
		select {
		case <-reauthed:
		case <-time.After(waitFor):
			t.Fatalf("renewal %d: no reauthed frame\n%s", i+1, pia.state())
		}
	}
	if eval[string](pia, `sessionStorage.getItem('kindred.token')`) == first {
		t.Error("the stored token was not renewed")
	}
	// The first token has expired by now: the session and the API go on.
	pia.click("#browse-rooms")
	pia.waitJS("groups listed", `document.querySelectorAll('#rooms-dialog-list li').length === 1`)
	pia.waitJS("still connected", `document.getElementById('conn-status').dataset.state === 'connected'`)
	mu.Lock()
	defer mu.Unlock()
	if sockets != 0 {
		t.Errorf("the WebSocket was replaced %d times; renewals should go over the open one", sockets)
	}
}

// Signing out ends the browser session on the server: the refresh cookie
// is refused from then on, and the tab keeps nothing.
func TestSignOutEndsBrowserSession(t *testing.T) {
	n, mb := signinNode(t, signinSetup{email: true})
	n.account("pia", "Pia", "pia@example.org", auth.RolePeer)
	b := newBrowser(t)
	pia := b.page("pia", 1280, 800)
	pia.emailSignIn(n, mb, "pia@example.org")
	if got := pia.refreshStatus(); got != http.StatusOK {
		t.Fatalf("refresh while signed in: %d", got)
	}
	pia.click("#signout")
	pia.waitJS("signed out on the server", signinShown+` && document.getElementById('signin').dataset.signout === 'done' && document.getElementById('signin-reason').textContent.includes('You have signed out')`)
	if got := pia.refreshStatus(); got != http.StatusUnauthorized {
		t.Errorf("refresh after signing out: %d, want 401", got)
	}
	if got := eval[int](pia, `Object.keys(sessionStorage).filter((k) => k.startsWith('kindred.')).length`); got != 0 {
		t.Errorf("sessionStorage holds %d items after sign-out", got)
	}
	pia.do(chromedp.Reload())
	pia.waitJS("sign-in page after a reload", signinShown)
}

// An admin finds a person in the people directory (phone width), gives
// them another role, which their open page takes at once (a new session
// with the new role, without signing in again), and deactivates them
// (after confirming), which signs their open page out.
func TestPeopleDirectory(t *testing.T) {
	n, mb := signinNode(t, signinSetup{email: true})
	adaTok := n.user("ada", "Ada", auth.RoleAdmin)
	n.account("pia", "Pia", "pia@example.org", auth.RolePeer)
	n.account("paul", "Paul", "paul@example.org", auth.RolePeer)

	b := newBrowser(t)
	pia := b.page("pia", 1280, 800)
	pia.emailSignIn(n, mb, "pia@example.org")
	if got := eval[string](pia, `document.getElementById('me-role').textContent`); got != "Peer" {
		t.Fatalf("Pia's role shows %q", got)
	}

	ada := b.page("ada", 375, 740)
	ada.signIn(n, adaTok)
	ada.openDashboard()
	ada.click("#people-open")
	ada.waitJS("people listed", `document.getElementById('people-dialog').open && document.activeElement?.id === 'people-q' && document.querySelectorAll('#people-list li.person').length === 3`)
	ada.do(chromedp.SendKeys(chromedp.ID("people-q"), "pia@"))
	ada.click(`#people-form button[type="submit"]`)
	const piaItem = `document.querySelector('#people-list li.person[data-id="pia"]')`
	ada.waitJS("Pia found", `document.querySelectorAll('#people-list li.person').length === 1 && `+piaItem+`?.textContent.includes('pia@example.org') && document.getElementById('people-status').textContent === '1 person'`)
	if !eval[bool](ada, piaItem+`.textContent.includes('Email link') && !`+piaItem+`.textContent.includes('Never')`) {
		t.Errorf("Pia's entry: %s", eval[string](ada, piaItem+`.textContent`))
	}
	ada.click(`#people-list li[data-id="pia"] button[data-act="details"]`)
	ada.waitJS("her sessions", piaItem+`.querySelectorAll('.person-sessions li').length === 1 && !!`+piaItem+`.querySelector('.person-role select')`)
	ada.noSideScroll(375, "people directory")
	ada.screenshot("people-phone.png")

	ada.do(chromedp.Evaluate[chromedp.Void](piaItem + `.querySelector('.person-role select').value = 'specialist'`))
	ada.click(`#people-list li[data-id="pia"] .person-role button[type="submit"]`)
	ada.waitJS("role changed", piaItem+`.querySelector('.role-tag').textContent === 'Specialist' && document.activeElement === `+piaItem+`.querySelector('.person-role select')`)
	pia.waitJS("Pia's page has the new role", `document.getElementById('me-role').textContent === 'Specialist' && document.getElementById('conn-status').dataset.state === 'connected' && !document.getElementById('create-room').hidden`)

	ada.click(`#people-list li[data-id="pia"] button[data-act="deactivate"]`)
	ada.waitJS("asked to confirm", `document.getElementById('confirm-dialog').open && document.getElementById('confirm-title').textContent === 'Deactivate Pia?'`)
	ada.click("#confirm-ok")
	ada.waitJS("deactivated", piaItem+`.querySelector('.person-state')?.textContent === 'Deactivated' && !!`+piaItem+`.querySelector('button[data-act="reactivate"]')`)
	pia.waitJS("Pia signed out", signinShown+` && /ended your sessions|deactivated/.test(document.getElementById('signin-reason').textContent)`)
	if got := pia.refreshStatus(); got == http.StatusOK {
		t.Error("a deactivated person's browser session still refreshes")
	}

	// Admins cannot deactivate themselves; the server says why.
	ada.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('people-q').value = 'ada'`))
	ada.click(`#people-form button[type="submit"]`)
	ada.waitJS("Ada found", `document.querySelectorAll('#people-list li.person').length === 1 && !!document.querySelector('#people-list li[data-id="ada"]')`)
	ada.click(`#people-list li[data-id="ada"] button[data-act="details"]`)
	ada.waitJS("no actions on oneself", `document.querySelector('#people-list li[data-id="ada"] .person-details')?.textContent.includes('This is you') && !document.querySelector('#people-list li[data-id="ada"] button[data-act="deactivate"]')`)
}

// An admin of a server with sign-in but no way in set up gets the
// checklist as their first screen, chooses open signup right there, and
// is not shown it again once closed.
func TestSignInFirstRunChecklist(t *testing.T) {
	n, _ := signinNode(t, signinSetup{})
	adaTok := n.user("ada", "Ada", auth.RoleAdmin)
	b := newBrowser(t)
	ada := b.page("ada", 375, 740)
	ada.signIn(n, adaTok)
	ada.waitJS("the checklist", `document.getElementById('setup-dialog').open && document.getElementById('setup-title').textContent === 'Set up sign-in' && document.activeElement?.id === 'setup-title'`)
	for _, flag := range []string{"--oidc-issuer", "--oidc-client-id", "$KINDRED_OIDC_CLIENT_SECRET", "--oidc-roles", "--smtp-url", "$KINDRED_SMTP_PASSWORD", "--public-url"} {
		if !eval[bool](ada, fmt.Sprintf(`[...document.querySelectorAll('#setup-dialog code')].some((c) => c.offsetParent !== null && c.textContent === %s)`, js(flag))) {
			t.Errorf("the checklist does not show %s", flag)
		}
	}
	ada.noSideScroll(375, "sign-in checklist")
	ada.screenshot("signin-setup-phone.png")
	ada.click("#signup-open")
	ada.click(`#setup-form button[type="submit"]`)
	ada.waitJS("saved", `document.getElementById('setup-saved').textContent.includes('anyone')`)
	if v, _ := n.store.Setting(context.Background(), chat.SettingSignup); v != string(chat.SignupOpen) {
		t.Errorf("signup setting %q", v)
	}
	ada.click(`#setup-form button[data-close]`)
	ada.waitJS("closed", `!document.getElementById('setup-dialog').open`)

	ada.do(chromedp.Reload())
	ada.waitJS("connected again", `document.getElementById('conn-status').dataset.state === 'connected' && !document.getElementById('setup-open').hidden`)
	ada.openDashboard()
	if eval[bool](ada, `document.getElementById('setup-dialog').open`) {
		t.Error("the checklist came back after it was closed")
	}
	ada.click("#setup-open")
	ada.waitJS("settings again", `document.getElementById('setup-dialog').open && document.getElementById('signup-open').checked`)
}
