package oidctest

import (
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// client is a registered Client as op sees it: the code flow only, ID
// tokens with the user's claims in them, http redirect URIs allowed.
type client struct {
	Client
	loginURL string // prefix; the request id is appended
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                        { return c.ID }
func (c *client) RedirectURIs() []string               { return slices.Clone(c.Client.RedirectURIs) }
func (c *client) PostLogoutRedirectURIs() []string     { return nil }
func (c *client) LoginURL(id string) string            { return c.loginURL + url.QueryEscape(id) }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration       { return tokenLifetime }
func (c *client) DevMode() bool                        { return true } // http redirect URIs
func (c *client) IsScopeAllowed(string) bool           { return true } // e.g. Okta's "groups"
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType { return []oidc.GrantType{oidc.GrantTypeCode} }

// ApplicationType and AuthMethod: a client with a secret is a web
// application authenticating with HTTP Basic; one without is a public
// (native) client, held to PKCE alone.
func (c *client) ApplicationType() op.ApplicationType {
	if c.Secret == "" {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.Secret == "" {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
