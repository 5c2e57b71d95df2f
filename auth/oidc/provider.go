package oidc

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/kindred-health/kindred/auth"
)

// Provider is a discovered identity provider, ready to sign people in.
// It is safe for concurrent use and holds no per-sign-in state: that is
// the Pending, which the caller keeps.
type Provider struct {
	issuer    string
	clientID  string
	oauth     oauth2.Config
	verifier  *gooidc.IDTokenVerifier
	client    *http.Client
	roleClaim string
	roleMap   map[string]auth.Role
	defRole   auth.Role
	now       func() time.Time
}

// New validates c (Config.Validate) and runs discovery at c.Issuer: the
// discovery document's issuer must equal c.Issuer exactly, and a provider
// that lists its PKCE methods must offer S256. The JWKS is fetched later,
// when the first ID token is verified (and again when a token names an
// unknown key), through c.HTTPClient; ctx bounds discovery only.
func New(ctx context.Context, c Config) (*Provider, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	client := c.httpClient()
	disc, err := gooidc.NewProvider(gooidc.ClientContext(ctx, client), c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discovery at %s: %w", c.Issuer, err)
	}
	var meta struct {
		PKCE        []string `json:"code_challenge_methods_supported"`
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := disc.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidc: discovery at %s: %w", c.Issuer, err)
	}
	if len(meta.PKCE) > 0 && !slices.Contains(meta.PKCE, "S256") {
		return nil, fmt.Errorf("oidc: the provider at %s does not offer PKCE with S256 (it lists %q)", c.Issuer, meta.PKCE)
	}
	endpoint := disc.Endpoint()
	endpoint.AuthStyle = authStyle(c.ClientSecret, meta.AuthMethods)
	return &Provider{
		issuer:   c.Issuer,
		clientID: c.ClientID,
		oauth: oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret,
			Endpoint: endpoint, RedirectURL: c.RedirectURL, Scopes: c.scopes()},
		verifier:  disc.Verifier(&gooidc.Config{ClientID: c.ClientID}),
		client:    client,
		roleClaim: c.roleClaim(),
		roleMap:   maps.Clone(c.RoleMap),
		defRole:   c.DefaultRole,
		now:       time.Now,
	}, nil
}

// authStyle picks how the client authenticates at the token endpoint:
// HTTP Basic (client_secret_basic, the default of the specification)
// unless the provider lists only client_secret_post; a public client
// sends its id in the form.
func authStyle(secret string, methods []string) oauth2.AuthStyle {
	switch {
	case secret == "":
		return oauth2.AuthStyleInParams
	case len(methods) == 0 || slices.Contains(methods, "client_secret_basic"):
		return oauth2.AuthStyleInHeader
	case slices.Contains(methods, "client_secret_post"):
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

// Issuer returns the provider's issuer URL.
func (p *Provider) Issuer() string { return p.issuer }
