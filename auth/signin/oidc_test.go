package signin

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/auth/oidc"
	"github.com/kindred-health/kindred/auth/oidc/oidctest"
	"github.com/kindred-health/kindred/chat"
)

// oidcEnv is a sign-in handler whose staff sign in through a real OpenID
// provider started in the test, groups mapped to roles.
func oidcEnv(t *testing.T) (*env, *oidctest.Provider) {
	t.Helper()
	var op *oidctest.Provider
	e := newEnv(t, func(e *env, c *Config) {
		redirect := e.srv.URL + "/auth/oidc/callback"
		op = oidctest.Start(t, oidctest.Client{ID: "kindred", Secret: "s3cret", RedirectURIs: []string{redirect}})
		p, err := oidc.New(t.Context(), oidc.Config{Issuer: op.Issuer(), ClientID: "kindred", ClientSecret: "s3cret",
			RedirectURL: redirect, RoleMap: map[string]auth.Role{"staff": auth.RoleSpecialist, "leads": auth.RoleSupervisor}})
		if err != nil {
			t.Fatal(err)
		}
		c.OIDC, c.OIDCName, c.StateKey = p, "Clinic", []byte(strings.Repeat("k", 32))
	})
	return e, op
}

// signInOIDC follows the browser's redirects from /auth/oidc/start through
// the provider and back, and returns where the callback sent it.
func (b *browser) signInOIDC() string {
	b.e.t.Helper()
	next := b.e.srv.URL + "/auth/oidc/start"
	for range 10 {
		resp, err := b.c.Get(next)
		if err != nil {
			b.e.t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			b.e.t.Fatalf("GET %s: %d without a Location", next, resp.StatusCode)
		}
		if strings.HasPrefix(loc.String(), b.e.srv.URL+"/#") || loc.String() == b.e.srv.URL+"/" {
			return strings.TrimPrefix(loc.String(), b.e.srv.URL)
		}
		next = loc.String()
	}
	b.e.t.Fatal("more than 10 redirects")
	return ""
}

// TestOIDCSignIn: a full code flow with PKCE against a real provider: the
// staff member lands in the app with a session whose token carries the
// role their groups map to (the highest); the ID token never reaches the
// browser; someone whose groups map to nothing is refused, as is a
// deactivated account.
func TestOIDCSignIn(t *testing.T) {
	e, op := oidcEnv(t)
	op.AddUser(oidctest.User{Subject: "kc-riley", Name: "Riley", Email: "riley@clinic.example", Groups: []string{"staff", "leads", "all"}})
	op.AddUser(oidctest.User{Subject: "kc-casey", Name: "Casey", Groups: []string{"all"}})
	op.SignInAs("kc-riley")
	b := e.browser()
	if to := b.signInOIDC(); to != "/" {
		t.Fatalf("callback sent the browser to %q", to)
	}
	var g Grant
	if st, code := b.post("/auth/refresh", nil, &g); st != 200 {
		t.Fatalf("refresh after OIDC = %d %s", st, code)
	}
	id, err := e.verify.Verify(g.AccessToken)
	if err != nil || id.UserID != "kc-riley" || id.Role != auth.RoleSupervisor || id.Name != "Riley" {
		t.Fatalf("token after OIDC: %+v, %v", id, err)
	}
	acct, _ := e.st.Account(t.Context(), "kc-riley")
	if acct.Source != chat.SourceOIDC || acct.Email != "riley@clinic.example" || acct.LastSignIn.IsZero() {
		t.Errorf("account after OIDC: %+v", acct)
	}
	if !e.audit("signin.oidc") {
		t.Error("the sign-in was not audited")
	}

	op.SignInAs("kc-casey")
	if to := e.browser().signInOIDC(); to != "/#signin_error=oidc_no_role" {
		t.Errorf("no mapped group: sent to %q", to)
	}
	if _, err := e.st.SaveAccount(t.Context(), chat.Account{User: chat.User{ID: "kc-casey", Name: "Casey", Role: "specialist"},
		Source: chat.SourceOIDC}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// Without --oidc-default-role an unmapped person is refused even when
	// an account exists: the provider's groups are the gate for staff.
	if to := e.browser().signInOIDC(); to != "/#signin_error=oidc_no_role" {
		t.Errorf("no mapped group, existing account: sent to %q", to)
	}
	op.SignInAs("kc-riley")
	if err := e.st.SetAccountStatus(t.Context(), "kc-riley", chat.StatusDeactivated); err != nil {
		t.Fatal(err)
	}
	if to := e.browser().signInOIDC(); to != "/#signin_error=deactivated" {
		t.Errorf("deactivated: sent to %q", to)
	}
}

// TestOIDCStateCookie: a callback without the state cookie, or with one
// that was tampered with, signs nobody in.
func TestOIDCStateCookie(t *testing.T) {
	e, op := oidcEnv(t)
	op.AddUser(oidctest.User{Subject: "kc-sam", Name: "Sam", Groups: []string{"staff"}})
	op.SignInAs("kc-sam")
	b := e.browser()
	resp, err := b.c.Get(e.srv.URL + "/auth/oidc/start")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u := mustURL(e.srv.URL + "/auth/oidc/")
	var state *http.Cookie
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == oidcCookieInsecure {
			state = c
		}
	}
	if state == nil {
		t.Fatal("no state cookie after start")
	}
	// Follow the provider's redirect by hand, with a tampered cookie.
	loc, _ := resp.Location()
	cb := follow(t, b.c, loc.String(), e.srv.URL+"/auth/oidc/callback")
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: oidcCookieInsecure, Value: strings.Replace(state.Value, ".", "x.", 1), Path: oidcCookiePath}})
	if to := landing(t, b.c, cb); to != "/#signin_error=oidc_state" {
		t.Errorf("tampered state cookie: sent to %q", to)
	}
	if to := landing(t, e.browser().c, cb); to != "/#signin_error=oidc_state" {
		t.Errorf("no state cookie: sent to %q", to)
	}
	if st, _ := b.post("/auth/refresh", nil, nil); st != 401 {
		t.Errorf("refresh after refused callbacks = %d; want 401", st)
	}
}

// follow follows redirects from start until one points under prefix, and
// returns that URL.
func follow(t *testing.T, c *http.Client, start, prefix string) string {
	t.Helper()
	next := start
	for range 10 {
		if strings.HasPrefix(next, prefix) {
			return next
		}
		resp, err := c.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("GET %s: %d without a Location", next, resp.StatusCode)
		}
		next = loc.String()
	}
	t.Fatal("more than 10 redirects")
	return ""
}

// landing GETs u and returns the path and fragment it redirects to.
func landing(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("GET %s: %d without a Location", u, resp.StatusCode)
	}
	return (&url.URL{Path: loc.Path, Fragment: loc.Fragment}).String()
}
