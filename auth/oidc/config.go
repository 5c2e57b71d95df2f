package oidc

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kindred-health/kindred/auth"
)

// DefaultRoleClaim is the claim read for groups when Config.RoleClaim is
// empty.
const DefaultRoleClaim = "groups"

// MaxPendingAge is how long a sign-in may take from Begin to Finish.
const MaxPendingAge = 10 * time.Minute

// httpTimeout bounds each request to the provider when Config.HTTPClient
// is nil (discovery, token exchange, JWKS).
const httpTimeout = 30 * time.Second

// Config is Kindred's registration at the identity provider and how its
// users become Kindred roles.
type Config struct {
	// Issuer is the provider's issuer URL, exactly as its discovery
	// document (Issuer + "/.well-known/openid-configuration") states it,
	// trailing slash included or not. Required.
	Issuer string
	// ClientID and ClientSecret are Kindred's client at the provider.
	// ClientID is required; an empty ClientSecret makes a public client
	// (PKCE alone), which few clinic providers allow for a server.
	ClientID, ClientSecret string
	// RedirectURL is the absolute callback URL registered at the provider
	// (https://chat.example.org/auth/oidc/callback). Required.
	RedirectURL string
	// Scopes requested; empty means openid, profile, email. "openid" is
	// added when missing. Nothing is added for RoleClaim: list the scope a
	// provider needs for its groups claim here (Okta: "groups").
	Scopes []string
	// RoleClaim names the ID token claim holding the user's groups or
	// roles, a string or an array of strings. A claim of exactly that name
	// is used if present; otherwise a dotted name is a path through nested
	// objects ("realm_access.roles"). Empty means DefaultRoleClaim.
	RoleClaim string
	// RoleMap maps claim values (exact, case-sensitive) to Kindred roles;
	// the highest matched role wins. See ParseRoleMap.
	RoleMap map[string]auth.Role
	// DefaultRole is the role of a user whose claim matches nothing. Empty
	// (the default) refuses such a sign-in with ErrNoRole.
	DefaultRole auth.Role
	// HTTPClient is used for discovery, the token exchange and the JWKS.
	// Nil means a client with a 30-second timeout.
	HTTPClient *http.Client
}

// Validate checks c without contacting the provider, so a server can
// refuse a bad configuration at startup. New calls it.
func (c Config) Validate() error {
	var errs []error
	if c.Issuer == "" {
		errs = append(errs, errors.New("the issuer URL is missing"))
	} else if err := checkURL(c.Issuer); err != nil {
		errs = append(errs, fmt.Errorf("issuer %w", err))
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("the client id is missing"))
	}
	if c.RedirectURL == "" {
		errs = append(errs, errors.New("the redirect URL is missing"))
	} else if err := checkURL(c.RedirectURL); err != nil {
		errs = append(errs, fmt.Errorf("redirect URL %w", err))
	}
	for value, role := range c.RoleMap {
		if !role.Valid() {
			errs = append(errs, fmt.Errorf("role map: %q maps to unknown role %q", value, role))
		}
	}
	if c.DefaultRole != "" && !c.DefaultRole.Valid() {
		errs = append(errs, fmt.Errorf("unknown default role %q", c.DefaultRole))
	}
	if len(c.RoleMap) == 0 && c.DefaultRole == "" {
		errs = append(errs, errors.New("no role map and no default role: every sign-in would be refused"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("oidc: %w", err)
	}
	return nil
}

// checkURL requires an absolute http(s) URL without a fragment.
func checkURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL", s)
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	case u.Fragment != "":
		return fmt.Errorf("%q has a fragment", s)
	}
	return nil
}

// scopes returns the scopes to request: c.Scopes or the default, with
// "openid" first.
func (c Config) scopes() []string {
	if len(c.Scopes) == 0 {
		return []string{"openid", "profile", "email"}
	}
	if slices.Contains(c.Scopes, "openid") {
		return slices.Clone(c.Scopes)
	}
	return append([]string{"openid"}, c.Scopes...)
}

// roleClaim returns the claim name to read roles from.
func (c Config) roleClaim() string {
	if s := strings.TrimSpace(c.RoleClaim); s != "" {
		return s
	}
	return DefaultRoleClaim
}

// httpClient returns the client for all requests to the provider.
func (c Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{Timeout: httpTimeout}
}
