package signin

import (
	"net/http"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// signedIn signs account u (with email addr) in through a link and returns
// the browser.
func (e *env) signedIn(id, addr, role string) *browser {
	e.t.Helper()
	e.account(id, addr, role)
	b := e.browser()
	b.post("/auth/email", map[string]string{"email": addr}, nil)
	if st, code := b.post("/auth/email/verify", map[string]string{"link": e.nextLink(addr)}, nil); st != 200 {
		e.t.Fatalf("sign-in = %d %s", st, code)
	}
	return b
}

// TestRefreshRotates: each refresh answers a fresh access token with the
// directory's current role and replaces the cookie; the replaced cookie
// presented again within the reuse interval (two tabs) still works, after
// it the whole session ends, the newest cookie included.
func TestRefreshRotates(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signedIn("u_rob", "rob@example.org", "peer")
	first := b.cookie()
	if err := e.st.SetAccountRole(t.Context(), "u_rob", "supervisor"); err != nil {
		t.Fatal(err)
	}
	e.advance(time.Second)
	var g Grant
	if st, code := b.post("/auth/refresh", nil, &g); st != 200 {
		t.Fatalf("refresh = %d %s", st, code)
	}
	second := b.cookie()
	if second == "" || second == first {
		t.Fatal("the refresh cookie did not rotate")
	}
	if id, err := e.verify.Verify(g.AccessToken); err != nil || id.UserID != "u_rob" || string(id.Role) != "supervisor" {
		t.Errorf("refreshed token = %+v, %v; want rob as supervisor", id, err)
	}
	// Another tab still holding the first cookie, a moment later.
	other := e.browser()
	other.setCookie(first)
	e.advance(5 * time.Second)
	if st, code := other.post("/auth/refresh", nil, nil); st != 200 {
		t.Errorf("the replaced cookie within the reuse interval = %d %s; want 200", st, code)
	}
	// The first cookie again, long after: someone replayed it.
	thief := e.browser()
	thief.setCookie(first)
	e.advance(time.Minute)
	if st, code := thief.post("/auth/refresh", nil, nil); st != 401 || code != chat.CodeAuthRequired {
		t.Fatalf("replayed cookie = %d %s; want 401", st, code)
	}
	if st, _ := b.post("/auth/refresh", nil, nil); st != 401 {
		t.Errorf("the owner's newest cookie after the replay = %d; want 401 (the session ended)", st)
	}
	if !e.audit("signin.refresh_reused") {
		t.Error("the reuse was not audited")
	}
}

// TestSignOutEndsSession: after sign-out the cookie is cleared, and the
// session's tokens are refused even if someone kept a copy.
func TestSignOutEndsSession(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signedIn("u_sue", "sue@example.org", "peer")
	kept := b.cookie()
	if st, code := b.post("/auth/signout", nil, nil); st != 200 {
		t.Fatalf("signout = %d %s", st, code)
	}
	if b.cookie() != "" {
		t.Error("cookie still set after sign-out")
	}
	if !e.audit("signin.signout") {
		t.Error("the sign-out was not audited")
	}
	copyHolder := e.browser()
	copyHolder.setCookie(kept)
	if st, _ := copyHolder.post("/auth/refresh", nil, nil); st != 401 {
		t.Errorf("refresh with a kept cookie after sign-out = %d; want 401", st)
	}
}

// TestDeactivationEndsBrowserSessions: a deactivated account's cookie no
// longer refreshes, and the answer says why (the page can then say so,
// rather than invite them to sign in again).
func TestDeactivationEndsBrowserSessions(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signedIn("u_tam", "tam@example.org", "peer")
	if err := e.st.SetAccountStatus(t.Context(), "u_tam", chat.StatusDeactivated); err != nil {
		t.Fatal(err)
	}
	if st, code := b.post("/auth/refresh", nil, nil); st != 403 || code != chat.CodeAccountDeactivated {
		t.Errorf("refresh after deactivation = %d %s; want 403 account_deactivated", st, code)
	}
}

// TestCrossSiteRefused: the cookie routes refuse a request without the
// CSRF header, or one the browser marks as from another site; the session
// survives such attempts.
func TestCrossSiteRefused(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signedIn("u_val", "val@example.org", "peer")
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		code chat.Code
	}{
		{"no header", map[string]string{}, chat.CodeForbidden},
		{"cross-site fetch", map[string]string{csrfHeader: "1", "Sec-Fetch-Site": "cross-site"}, chat.CodeOriginForbidden},
		{"other origin", map[string]string{csrfHeader: "1", "Origin": "https://evil.example"}, chat.CodeOriginForbidden},
	} {
		b.hdr = tc.hdr
		for _, path := range []string{"/auth/refresh", "/auth/signout", "/auth/email/verify"} {
			if st, code := b.post(path, map[string]string{}, nil); st != http.StatusForbidden || code != tc.code {
				t.Errorf("%s %s = %d %s; want 403 %s", tc.name, path, st, code, tc.code)
			}
		}
	}
	b.hdr = map[string]string{csrfHeader: "1", "Sec-Fetch-Site": "same-origin"}
	if st, code := b.post("/auth/refresh", nil, nil); st != 200 {
		t.Errorf("same-origin refresh after the attempts = %d %s; want 200", st, code)
	}
}

func (b *browser) setCookie(v string) {
	b.e.t.Helper()
	u := mustURL(b.e.srv.URL + "/auth/")
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: refreshCookieInsecure, Value: v, Path: cookiePath}})
}

func (e *env) audit(action string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.audited {
		if a.Action == action {
			return true
		}
	}
	return false
}
