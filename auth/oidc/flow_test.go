package oidc

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/auth/oidc/oidctest"
)

// A whole sign-in against a real provider: the authorization request
// carries the S256 challenge of the verifier and the nonce, the token
// request carries the verifier, and the Identity is alice's.
func TestFlowWithPKCE(t *testing.T) {
	idp := startIdP(t)
	hook := &tokenHook{}
	p := newProvider(t, testConfig(idp, hook))

	authURL, pend, err := p.Begin()
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"response_type": "code", "client_id": testClient, "redirect_uri": testRedirect, "scope": "openid profile email",
		"state": pend.State, "nonce": pend.Nonce,
		"code_challenge": oauth2.S256ChallengeFromVerifier(pend.Verifier), "code_challenge_method": "S256",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("authorization URL: %s = %q, want %q", k, got, want)
		}
	}
	if q.Has("code_verifier") || strings.Contains(authURL, pend.Verifier) {
		t.Error("the authorization URL reveals the verifier")
	}

	callback := authorize(t, authURL)
	if callback.Get("code") == "" || callback.Get("state") != pend.State {
		t.Fatalf("callback = %v, want a code and the state", callback)
	}
	id, err := p.Finish(t.Context(), pend, callback)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	want := Identity{Issuer: idp.Issuer(), Subject: "alice", Email: "alice@clinic.example", EmailVerified: true,
		Name: "Alice Example", Role: auth.RoleSpecialist, Matched: []string{"kindred-staff"}}
	if !reflect.DeepEqual(id, want) {
		t.Errorf("identity = %+v, want %+v", id, want)
	}

	forms := hook.tokenForms()
	if len(forms) != 1 {
		t.Fatalf("%d token requests, want 1", len(forms))
	}
	f := forms[0]
	if f.Get("grant_type") != "authorization_code" || f.Get("code") != callback.Get("code") ||
		f.Get("code_verifier") != pend.Verifier || f.Get("redirect_uri") != testRedirect {
		t.Errorf("token request form = %v", f)
	}
	if f.Has("client_secret") {
		t.Error("the client secret went in the form, not in HTTP Basic")
	}
}

// The provider checks the verifier: a wrong one is refused and leaves the
// code unused, the right one then succeeds, and the code works once.
func TestWrongVerifierRefused(t *testing.T) {
	idp := startIdP(t)
	p := newProvider(t, testConfig(idp, nil))
	pend, callback := signIn(t, p)
	code := callback.Get("code")

	wrong := pend
	wrong.Verifier = oauth2.GenerateVerifier()
	_, err := p.Finish(t.Context(), wrong, callback)
	wantErr(t, err, ErrExchange)
	if !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("error %q does not give the provider's reason", err)
	}
	for _, secret := range []string{code, pend.Verifier, wrong.Verifier} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains a secret", err)
		}
	}

	if _, err := p.Finish(t.Context(), pend, callback); err != nil {
		t.Fatalf("Finish with the right verifier: %v", err)
	}
	_, err = p.Finish(t.Context(), pend, callback)
	wantErr(t, err, ErrExchange)
}

// A public client (no secret) signs in with PKCE alone.
func TestPublicClient(t *testing.T) {
	idp := oidctest.Start(t, oidctest.Client{ID: "kindred-public", RedirectURIs: []string{testRedirect}})
	idp.AddUser(oidctest.User{Subject: "bob", Groups: []string{"kindred-admins"}})
	idp.SignInAs("bob")
	c := testConfig(idp, nil)
	c.ClientID, c.ClientSecret = "kindred-public", ""
	p := newProvider(t, c)
	pend, callback := signIn(t, p)
	id, err := p.Finish(t.Context(), pend, callback)
	if err != nil || id.Subject != "bob" || id.Role != auth.RoleAdmin {
		t.Fatalf("Finish = %+v, %v; want bob as admin", id, err)
	}
}

// The test provider refuses an authorization request without PKCE, so
// the flow tests above prove that the client sends it.
func TestProviderRequiresPKCE(t *testing.T) {
	idp := startIdP(t)
	p := newProvider(t, testConfig(idp, nil))
	authURL, pend, _ := p.Begin()
	u, _ := url.Parse(authURL)
	q := u.Query()
	q.Del("code_challenge")
	q.Del("code_challenge_method")
	u.RawQuery = q.Encode()
	_, err := p.Finish(t.Context(), pend, authorize(t, u.String()))
	var pe *ProviderError
	if !errors.As(err, &pe) || pe.Code != "invalid_request" {
		t.Fatalf("Finish = %v, want the provider's invalid_request", err)
	}
}

// Begin draws fresh secrets each time, and a Pending is small JSON that
// survives a round trip.
func TestBeginAndPending(t *testing.T) {
	p := newProvider(t, testConfig(startIdP(t), nil))
	_, a, _ := p.Begin()
	_, b, _ := p.Begin()
	if a.State == b.State || a.Nonce == b.Nonce || a.Verifier == b.Verifier || a.State == a.Nonce {
		t.Errorf("Begin repeats itself: %+v %+v", a, b)
	}
	if len(a.State) < 22 || len(a.Nonce) < 22 || len(a.Verifier) < 43 {
		t.Errorf("secrets too short: %+v", a)
	}
	data, err := json.Marshal(a)
	if err != nil || len(data) > 200 {
		t.Fatalf("Pending JSON = %d bytes, %v; want at most 200", len(data), err)
	}
	var back Pending
	if err := json.Unmarshal(data, &back); err != nil || back.State != a.State || back.Nonce != a.Nonce ||
		back.Verifier != a.Verifier || !back.Created.Equal(a.Created) {
		t.Errorf("Pending round trip = %+v, %v; want %+v", back, err, a)
	}
}
