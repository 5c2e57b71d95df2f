// Package oidctest runs a real OpenID Connect provider for tests: the
// OpenID Provider of github.com/zitadel/oidc/v3/pkg/op over an in-memory
// store, on an httptest server at http://127.0.0.1:<port>.
//
// It serves discovery (/.well-known/openid-configuration), the JWKS
// (/keys, one RS256 key generated at Start), the authorization endpoint
// (/authorize), the token endpoint (/oauth/token) and userinfo
// (/userinfo). It requires PKCE with S256 on every authorization request,
// checks the code_verifier at the token endpoint, puts the request's nonce
// in the ID token, and authenticates confidential clients with HTTP Basic
// (client_secret_basic).
//
// There is no login form. The authorization endpoint sends the browser to
// /login, which completes the request at once as the user chosen with
// SignInAs and redirects to the provider's callback, which redirects to
// the client's redirect URI with ?code=...&state=...: three redirects in
// all, so an http.Client that follows redirects, or a headless browser,
// reaches the redirect URI with no interaction. With no user chosen the
// redirect URI gets ?error=access_denied&state=... instead, as when a user
// cancels at a real provider.
//
// The ID token carries sub, email and email_verified (with the email
// scope), name and preferred_username (with the profile scope), the
// user's Groups as the "groups" claim, and the user's extra Claims. The
// same claims are served at /userinfo.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Client is an application registered at the provider. An empty Secret
// makes a public client, which must rely on PKCE alone.
type Client struct {
	ID, Secret   string
	RedirectURIs []string // exact matches; http URIs are allowed
}

// User is someone who can sign in.
type User struct {
	Subject string // "sub"; required
	Email   string
	// EmailUnverified sends email_verified false; by default the provider
	// vouches for the address, as a clinic's directory does.
	EmailUnverified bool
	Name            string
	Groups          []string       // the "groups" claim (omitted when nil)
	Claims          map[string]any // more claims, e.g. {"realm_access": map[string]any{"roles": []string{"admin"}}}
}

// Provider is a running test provider.
type Provider struct {
	t      testing.TB
	issuer string
	store  *storage
	op     *op.Provider
}

// Start runs a provider for clients until the test ends (t.Cleanup stops
// it). It fails the test if a client has no ID or no redirect URI, or the
// provider cannot be set up.
func Start(t testing.TB, clients ...Client) *Provider {
	t.Helper()
	for _, c := range clients {
		if c.ID == "" || len(c.RedirectURIs) == 0 {
			t.Fatalf("oidctest: client %q needs an ID and a redirect URI", c.ID)
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("oidctest: signing key: %v", err)
	}
	srv := httptest.NewUnstartedServer(nil)
	p := &Provider{t: t, issuer: "http://" + srv.Listener.Addr().String()}
	p.store = newStorage(p.issuer+"/login?id=", key, clients)
	cfg := &op.Config{CodeMethodS256: true}
	rand.Read(cfg.CryptoKey[:]) // the key of the provider's opaque codes and access tokens
	p.op, err = op.NewProvider(cfg, p.store, op.StaticIssuer(p.issuer), op.WithAllowInsecure())
	if err != nil {
		srv.Close()
		t.Fatalf("oidctest: provider: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", p.op)
	mux.HandleFunc("GET /login", p.login)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// Issuer returns the issuer URL, http://127.0.0.1:<port> (no trailing
// slash), which is also the base of every endpoint.
func (p *Provider) Issuer() string { return p.issuer }

// AddUser adds u, or replaces the user with u's Subject: the next ID
// token for that subject has u's claims. A user without a Subject is a
// test error (t.Errorf).
func (p *Provider) AddUser(u User) {
	p.t.Helper()
	if u.Subject == "" {
		p.t.Error("oidctest: AddUser: a user needs a Subject")
		return
	}
	p.store.addUser(u)
}

// SignInAs chooses who is signed in at the provider: every authorization
// request from now on completes at once as the user with this subject
// (added with AddUser), until SignInAs is called again. SignInAs("")
// signs them out: authorization requests are then answered with
// error=access_denied. Before the first SignInAs nobody is signed in.
// An unknown subject is a test error (t.Errorf) and signs everyone out.
func (p *Provider) SignInAs(subject string) {
	p.t.Helper()
	if !p.store.signInAs(subject) {
		p.t.Errorf("oidctest: SignInAs(%q): no such user (AddUser first)", subject)
		p.store.signInAs("")
	}
}

// login stands in for the provider's login page: it completes the
// authorization request named by ?id= as the chosen user and sends the
// browser on to the provider's callback, which redirects to the client
// with a code; with nobody signed in, it sends the browser to the client
// with error=access_denied.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	req, done := p.store.complete(id)
	switch {
	case req == nil:
		http.Error(w, "oidctest: no such authorization request", http.StatusBadRequest)
	case !done:
		op.AuthRequestError(w, r, req, oidc.ErrAccessDenied().WithDescription("nobody is signed in at the test provider"), p.op)
	default:
		callback := op.AuthCallbackURL(p.op)(op.ContextWithIssuer(r.Context(), p.issuer), id)
		http.Redirect(w, r, callback, http.StatusFound)
	}
}
