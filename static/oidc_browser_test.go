package static_test

// Staff sign-in through a real OpenID provider (auth/oidc/oidctest); the
// helpers are in signin_browser_test.go.

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/auth/oidc"
	"github.com/kindred-health/kindred/auth/oidc/oidctest"
	"github.com/kindred-health/kindred/auth/signin"
	"github.com/kindred-health/kindred/chat"
)

// clinicIdP starts a test OpenID provider with Kindred's client registered
// for a node at base, and the auth/oidc Provider that uses it: the group
// kindred-specialists is Kindred's specialists, nobody else has a role.
func clinicIdP(t *testing.T, base string) (*oidctest.Provider, signin.OIDC) {
	t.Helper()
	callback := base + "/auth/oidc/callback"
	idp := oidctest.Start(t, oidctest.Client{ID: "kindred", Secret: "kindred-secret", RedirectURIs: []string{callback}})
	p, err := oidc.New(context.Background(), oidc.Config{Issuer: idp.Issuer(), ClientID: "kindred", ClientSecret: "kindred-secret",
		RedirectURL: callback, RoleMap: map[string]auth.Role{"kindred-specialists": auth.RoleSpecialist}})
	if err != nil {
		t.Fatal(err)
	}
	return idp, p
}

// A specialist signs in with the clinic's identity provider: a cancelled
// sign-in there is explained, "Try again" goes back to the provider, and
// they land in their groups as a specialist, under the name the provider
// gave. Someone whose groups give no role is told so.
func TestStaffSignInWithOIDC(t *testing.T) {
	var idp *oidctest.Provider
	n, _ := signinNode(t, signinSetup{oidcName: "Clinic SSO", oidc: func(base string) signin.OIDC {
		var p signin.OIDC
		idp, p = clinicIdP(t, base)
		return p
	}})
	idp.AddUser(oidctest.User{Subject: "sam", Email: "sam@clinic.example", Name: "Sam Okafor", Groups: []string{"kindred-specialists", "staff"}})
	idp.AddUser(oidctest.User{Subject: "val", Email: "val@clinic.example", Name: "Val", Groups: []string{"reception"}})
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	room := n.createRoom(annTok, "Night shift handover", "")
	n.join(n.user("sam", "Sam Okafor", auth.RoleSpecialist), room.ID)

	b := newBrowser(t)
	sam := b.page("sam", 375, 740)
	sam.do(chromedp.Navigate(n.url + "/"))
	sam.waitJS("staff sign-in offered", signinShown+` && document.getElementById('signin-oidc').textContent === 'Sign in with Clinic SSO' && document.getElementById('signin-peer').hidden`)
	// Nobody is signed in at the provider yet: it answers access_denied.
	sam.click("#signin-oidc")
	sam.waitThrough("the refusal explained", signinShown+` && document.getElementById('signin-problem-text').textContent.includes('Clinic SSO didn’t complete the sign-in') && location.hash === ''`)
	idp.SignInAs("sam")
	sam.click("#signin-problem-action")
	sam.waitThrough("signed in as a specialist", fmt.Sprintf(`document.getElementById('conn-status').dataset.state === 'connected' && document.getElementById('me-role').textContent === 'Specialist' && document.getElementById('me-name').textContent === 'Sam Okafor' && !!document.querySelector('#sidebar button[data-conv=%q]')`, room.ID))
	if got := eval[string](sam, `location.href`); got != n.url+"/" {
		t.Errorf("signed in at %s", got)
	}
	if !eval[bool](sam, `sessionStorage.getItem('kindred.kind') === 'browser' && !document.getElementById('create-room').hidden`) {
		t.Error("not a browser session with a specialist's tools")
	}
	acct, err := n.store.Account(context.Background(), "sam")
	if err != nil || acct.Source != chat.SourceOIDC || acct.Role != string(auth.RoleSpecialist) || acct.Email != "sam@clinic.example" {
		t.Errorf("Sam's account: %+v, %v", acct, err)
	}

	// Another browser: pages of one browser share Sam's refresh cookie,
	// and a page opened there is signed in as Sam.
	val := newBrowser(t).page("val", 1280, 800)
	idp.SignInAs("val")
	val.do(chromedp.Navigate(n.url + "/"))
	val.click("#signin-oidc")
	val.waitThrough("no role", signinShown+` && document.getElementById('signin-problem-text').textContent.includes('doesn’t give you access to Kindred') && document.getElementById('signin-problem-action').hidden`)
}
