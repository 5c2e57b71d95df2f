package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/auth/mail"
	"github.com/kindred-health/kindred/auth/oidc"
	"github.com/kindred-health/kindred/auth/signin"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/server"
)

// Environment-only secrets of sign-in: never on a command line, where
// every user of the machine can read them.
const (
	envOIDCSecret = "KINDRED_OIDC_CLIENT_SECRET"
	envSMTPPass   = "KINDRED_SMTP_PASSWORD"
)

// signinFlags are how people sign in from a browser (auth/signin).
type signinFlags struct {
	publicURL                 string
	oidcIssuer, oidcClient    string
	oidcSecretFile, oidcRedir string
	oidcRoleClaim, oidcRoles  string
	oidcDefaultRole, oidcName string
	oidcScopes                string
	smtpURL                   string
	accessTTL, sessionTTL     time.Duration
	linkTTL                   time.Duration
	insecureCookies           bool
}

func addSignInFlags(fs *flagSet) *signinFlags {
	f := &signinFlags{}
	fs.StringVar(&f.publicURL, "public-url", "", "the address people open Kindred at (https://chat.example.org); emailed sign-in links point there, and the OpenID Connect redirect defaults to it")
	fs.StringVar(&f.oidcIssuer, "oidc-issuer", "", "staff sign in with this OpenID Connect provider (its issuer URL: Okta, Entra ID, Google, Keycloak)")
	fs.StringVar(&f.oidcClient, "oidc-client-id", "", "Kindred's client id at the OpenID Connect provider")
	fs.StringVar(&f.oidcSecretFile, "oidc-client-secret-file", "", "file holding the client secret (or set $"+envOIDCSecret+")")
	fs.StringVar(&f.oidcRedir, "oidc-redirect-url", "", "the redirect URL registered at the provider (default: --public-url + /auth/oidc/callback)")
	fs.StringVar(&f.oidcRoleClaim, "oidc-role-claim", "groups", "ID token claim holding the user's groups or roles (a dotted path such as realm_access.roles works)")
	fs.StringVar(&f.oidcRoles, "oidc-roles", "", "claim values to Kindred roles, e.g. kindred-admins=admin,kindred-supervisors=supervisor,kindred-staff=specialist (the highest match wins)")
	fs.StringVar(&f.oidcDefaultRole, "oidc-default-role", "", "role of someone whose claim matches nothing: peer, specialist, supervisor or admin; empty (the default) refuses them, since a clinic's provider holds every employee")
	fs.StringVar(&f.oidcScopes, "oidc-scopes", "openid,profile,email", "scopes asked of the provider (Okta needs groups added for the groups claim; Google and Entra ID refuse unknown scopes)")
	fs.StringVar(&f.oidcName, "oidc-name", "your organisation", "the provider's name on the sign-in page (\"Sign in with …\")")
	fs.StringVar(&f.smtpURL, "smtp-url", "", "peers sign in with emailed links sent through this server: smtp://user@host:587?from=Kindred%20<no-reply@example.org> (STARTTLS), smtps://…:465 (TLS); the password in $"+envSMTPPass)
	fs.DurationVar(&f.accessTTL, "access-token-ttl", 10*time.Minute, "life of the access tokens a browser session gets; the client renews them through its refresh cookie")
	fs.DurationVar(&f.sessionTTL, "browser-session-ttl", 30*24*time.Hour, "how long a browser stays signed in, however active")
	fs.DurationVar(&f.linkTTL, "signin-link-ttl", 15*time.Minute, "how long an emailed sign-in link works")
	fs.BoolVar(&f.insecureCookies, "insecure-cookies", false, "send the session cookie without Secure (plain-http development on another machine than localhost only)")
	fs.EnvOnly(envOIDCSecret, "the OpenID Connect client secret, instead of --oidc-client-secret-file")
	fs.EnvOnly(envSMTPPass, "the SMTP password for --smtp-url")
	return f
}

// signinHooks are what the sign-in routes borrow from the server, which is
// made after them: attach gives them the server before it serves, and
// they are called only while it does.
type signinHooks struct {
	srv *server.Server
}

func (h *signinHooks) attach(srv *server.Server) { h.srv = srv }

func (h *signinHooks) audit(ctx context.Context, e chat.AuditEntry) { h.srv.Audit(ctx, e) }
func (h *signinHooks) clientAddr(r *http.Request) string            { return h.srv.ClientAddr(r) }

// newSignIn builds the sign-in routes from serve's flags.
func newSignIn(cfg *serveConfig, st chat.Store, secret []byte, logger *slog.Logger) (*signin.Handler, *signinHooks, error) {
	hooks := &signinHooks{}
	signer, err := cfg.keys.localSigner(secret)
	if err != nil {
		return nil, nil, err
	}
	h, err := cfg.signin.build(signer, secret, st, hooks, logger)
	return h, hooks, err
}

// build returns the sign-in handler, or nil when tokens come from an
// external identity provider (no local signer) and nothing asks for it.
func (f *signinFlags) build(signer *auth.Signer, secret []byte, st chat.Store, hooks *signinHooks, logger *slog.Logger) (*signin.Handler, error) {
	if signer == nil {
		if f.oidcIssuer != "" || f.smtpURL != "" {
			return nil, errors.New("--oidc-issuer and --smtp-url need the local signing secret: the server mints the access tokens of browser sessions (drop --jwt-public-key/--jwt-jwks)")
		}
		return nil, nil
	}
	if f.accessTTL <= 0 || f.sessionTTL <= 0 || f.linkTTL <= 0 {
		return nil, errors.New("--access-token-ttl, --browser-session-ttl and --signin-link-ttl must be positive")
	}
	cfg := signin.Config{Store: st, Signer: signer, PublicURL: strings.TrimRight(f.publicURL, "/"),
		AccessTTL: f.accessTTL, SessionTTL: f.sessionTTL, LinkTTL: f.linkTTL, InsecureCookies: f.insecureCookies,
		Audit: hooks.audit, ClientAddr: hooks.clientAddr, Logger: logger}
	if f.smtpURL != "" {
		m, err := f.mailer()
		if err != nil {
			return nil, err
		}
		cfg.Mailer = m
	}
	if f.oidcIssuer != "" {
		p, err := f.provider()
		if err != nil {
			return nil, err
		}
		cfg.OIDC, cfg.OIDCName, cfg.StateKey = p, f.oidcName, stateKey(secret)
	}
	return signin.New(cfg)
}

func (f *signinFlags) mailer() (*mail.Sender, error) {
	mc, err := mail.ParseURL(f.smtpURL)
	if err != nil {
		return nil, fmt.Errorf("--smtp-url: %w", err)
	}
	if p := os.Getenv(envSMTPPass); p != "" {
		mc.Password = p
	}
	if f.publicURL == "" {
		return nil, errors.New("--smtp-url needs --public-url: the emailed links point there")
	}
	return mail.New(mc)
}

// provider checks the OpenID Connect settings; the provider itself is
// discovered on first use (lazyOIDC), so a provider that is down does not
// keep the node, and the crisis path, from starting.
func (f *signinFlags) provider() (*lazyOIDC, error) {
	secret := os.Getenv(envOIDCSecret)
	if f.oidcSecretFile != "" {
		b, err := os.ReadFile(f.oidcSecretFile)
		if err != nil {
			return nil, fmt.Errorf("--oidc-client-secret-file: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	redirect := f.oidcRedir
	if redirect == "" && f.publicURL != "" {
		redirect = strings.TrimRight(f.publicURL, "/") + "/auth/oidc/callback"
	}
	if f.oidcClient == "" || redirect == "" {
		return nil, errors.New("--oidc-issuer needs --oidc-client-id and --public-url (or --oidc-redirect-url)")
	}
	if _, err := url.Parse(redirect); err != nil {
		return nil, fmt.Errorf("--oidc-redirect-url: %w", err)
	}
	roles, err := oidc.ParseRoleMap(f.oidcRoles)
	if err != nil {
		return nil, fmt.Errorf("--oidc-roles: %w", err)
	}
	var def auth.Role
	if f.oidcDefaultRole != "" {
		if def, err = auth.ParseRole(f.oidcDefaultRole); err != nil {
			return nil, fmt.Errorf("--oidc-default-role: %w", err)
		}
	}
	cfg := oidc.Config{Issuer: f.oidcIssuer, ClientID: f.oidcClient, ClientSecret: secret, Scopes: splitList(f.oidcScopes),
		RedirectURL: redirect, RoleClaim: f.oidcRoleClaim, RoleMap: roles, DefaultRole: def}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &lazyOIDC{cfg: cfg}, nil
}

// stateKey derives the key of the OIDC state cookie from the token secret,
// which every node shares: a sign-in may start on one node and come back
// to another.
func stateKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("kindred oidc state cookie"))
	return m.Sum(nil)
}

// lazyOIDC discovers the provider on first use and again after a failure.
type lazyOIDC struct {
	cfg oidc.Config

	mu sync.Mutex
	p  *oidc.Provider
}

func (l *lazyOIDC) get(ctx context.Context) (*oidc.Provider, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.p != nil {
		return l.p, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.New(ctx, l.cfg)
	if err != nil {
		return nil, err
	}
	l.p = p
	return p, nil
}

func (l *lazyOIDC) Begin() (string, oidc.Pending, error) {
	p, err := l.get(context.Background())
	if err != nil {
		return "", oidc.Pending{}, err
	}
	return p.Begin()
}

func (l *lazyOIDC) Finish(ctx context.Context, pend oidc.Pending, callback url.Values) (oidc.Identity, error) {
	p, err := l.get(ctx)
	if err != nil {
		return oidc.Identity{}, err
	}
	return p.Finish(ctx, pend, callback)
}
