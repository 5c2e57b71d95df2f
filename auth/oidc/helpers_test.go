package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/auth/oidc/oidctest"
)

// The client registered at the test provider. The redirect URI is never
// contacted: the test's "browser" stops when it is redirected there.
const (
	testClient   = "kindred"
	testSecret   = "client-secret-for-tests"
	testRedirect = "https://kindred.test/auth/oidc/callback"
)

// startIdP runs a test provider with Kindred's client and alice, a
// verified specialist-to-be, signed in.
func startIdP(t *testing.T) *oidctest.Provider {
	t.Helper()
	idp := oidctest.Start(t, oidctest.Client{ID: testClient, Secret: testSecret, RedirectURIs: []string{testRedirect}})
	idp.AddUser(oidctest.User{Subject: "alice", Email: "alice@clinic.example", Name: "Alice Example",
		Groups: []string{"everyone", "kindred-staff"}})
	idp.SignInAs("alice")
	return idp
}

// testConfig is a valid Config for idp, through hook (which may be nil).
func testConfig(idp *oidctest.Provider, hook *tokenHook) Config {
	c := Config{Issuer: idp.Issuer(), ClientID: testClient, ClientSecret: testSecret, RedirectURL: testRedirect,
		RoleMap: map[string]auth.Role{"kindred-staff": auth.RoleSpecialist, "kindred-admins": auth.RoleAdmin}}
	if hook != nil {
		c.HTTPClient = &http.Client{Transport: hook}
	}
	return c
}

// newProvider runs discovery for c, failing the test on error.
func newProvider(t *testing.T, c Config) *Provider {
	t.Helper()
	p, err := New(context.Background(), c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// authorize plays the browser: it follows the provider's redirects from
// authURL until one goes to testRedirect, and returns that redirect's
// query (code and state, or error and state).
func authorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	var back *url.URL
	browser := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), testRedirect+"?") {
			back = req.URL
			return http.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if back == nil {
		t.Fatalf("authorize: the provider did not send the browser back: %s %s", resp.Status, body)
	}
	return back.Query()
}

// signIn runs Begin and the browser's part of a sign-in.
func signIn(t *testing.T, p *Provider) (Pending, url.Values) {
	t.Helper()
	authURL, pend, err := p.Begin()
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return pend, authorize(t, authURL)
}

// tokenHook is the RoundTripper of the Provider's HTTP client: it records
// the forms sent to the token endpoint and can rewrite the ID token in
// its answers.
type tokenHook struct {
	rewrite func(idToken string) string // nil: answers pass unchanged

	mu    sync.Mutex
	forms []url.Values
}

func (h *tokenHook) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/oauth/token") {
		return http.DefaultTransport.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body.Close()
	form, _ := url.ParseQuery(string(body))
	h.mu.Lock()
	h.forms = append(h.forms, form)
	h.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || h.rewrite == nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	return h.rewriteIDToken(resp)
}

func (h *tokenHook) rewriteIDToken(resp *http.Response) (*http.Response, error) {
	var answer map[string]any
	err := json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	raw, _ := answer["id_token"].(string)
	answer["id_token"] = h.rewrite(raw)
	out, _ := json.Marshal(answer)
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return resp, nil
}

// tokenForms returns the forms sent to the token endpoint so far.
func (h *tokenHook) tokenForms() []url.Values {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]url.Values(nil), h.forms...)
}

// wantErr fails the test unless errors.Is(err, want).
func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}
