package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/kindred-health/kindred/auth"
)

func TestValidate(t *testing.T) {
	good := Config{Issuer: "https://idp.example", ClientID: "kindred", RedirectURL: testRedirect,
		RoleMap: map[string]auth.Role{"staff": auth.RoleSpecialist}}
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate(good) = %v", err)
	}
	onlyDefault := good
	onlyDefault.RoleMap, onlyDefault.DefaultRole = nil, auth.RolePeer
	if err := onlyDefault.Validate(); err != nil {
		t.Errorf("a default role without a map: %v", err)
	}
	for want, edit := range map[string]func(c *Config){
		"issuer URL is missing":  func(c *Config) { c.Issuer = "" },
		"not an absolute":        func(c *Config) { c.Issuer = "idp.example" },
		"client id is missing":   func(c *Config) { c.ClientID = "" },
		"redirect URL is":        func(c *Config) { c.RedirectURL = "" },
		"has a fragment":         func(c *Config) { c.RedirectURL = testRedirect + "#x" },
		"unknown role":           func(c *Config) { c.RoleMap = map[string]auth.Role{"staff": "boss"} },
		"unknown default role":   func(c *Config) { c.DefaultRole = "Peer" },
		"every sign-in would be": func(c *Config) { c.RoleMap = nil },
	} {
		c := good
		edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want an error with %q", err, want)
		}
	}
}

func TestScopes(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{nil, []string{"openid", "profile", "email"}},
		{[]string{"openid", "groups"}, []string{"openid", "groups"}},
		{[]string{"email", "groups"}, []string{"openid", "email", "groups"}},
	} {
		if got := (Config{Scopes: tc.in}).scopes(); !slices.Equal(got, tc.want) {
			t.Errorf("scopes(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// New fails clearly when the provider cannot be discovered or does not
// fit.
func TestNewErrors(t *testing.T) {
	idp := startIdP(t)
	c := testConfig(idp, nil)
	c.Issuer += "/"
	if _, err := New(t.Context(), c); err == nil || !strings.Contains(err.Error(), "did not match") {
		t.Errorf("issuer with a trailing slash: %v", err)
	}

	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	c.Issuer = down.URL
	if _, err := New(t.Context(), c); err == nil || !strings.Contains(err.Error(), "discovery at "+down.URL) {
		t.Errorf("unreachable issuer: %v", err)
	}

	c.Issuer = fakeDiscovery(t, map[string]any{"code_challenge_methods_supported": []string{"plain"}})
	if _, err := New(t.Context(), c); err == nil || !strings.Contains(err.Error(), "S256") {
		t.Errorf("provider without S256: %v", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c.Issuer = idp.Issuer()
	if _, err := New(ctx, c); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled discovery: %v", err)
	}
}

func TestAuthStyle(t *testing.T) {
	for _, tc := range []struct {
		secret  string
		methods []string
		want    oauth2.AuthStyle
	}{
		{"", []string{"client_secret_basic"}, oauth2.AuthStyleInParams},
		{"s", nil, oauth2.AuthStyleInHeader},
		{"s", []string{"client_secret_post", "client_secret_basic"}, oauth2.AuthStyleInHeader},
		{"s", []string{"client_secret_post"}, oauth2.AuthStyleInParams},
		{"s", []string{"private_key_jwt"}, oauth2.AuthStyleInHeader},
	} {
		if got := authStyle(tc.secret, tc.methods); got != tc.want {
			t.Errorf("authStyle(%q, %q) = %v, want %v", tc.secret, tc.methods, got, tc.want)
		}
	}
}

// fakeDiscovery serves a discovery document with extra fields and returns
// its issuer.
func fakeDiscovery(t *testing.T, extra map[string]any) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc := map[string]any{"issuer": issuer, "authorization_endpoint": issuer + "/authorize",
			"token_endpoint": issuer + "/token", "jwks_uri": issuer + "/keys"}
		for k, v := range extra {
			doc[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}
