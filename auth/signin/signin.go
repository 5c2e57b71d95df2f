// Package signin is how people sign in to Kindred from a browser: staff
// through the clinic's OpenID Connect provider (auth/oidc), peers through
// an emailed single-use link (auth/mail), and both then through a browser
// session: a short-lived access token (the JWT every WebSocket and API
// call carries) and an HttpOnly refresh cookie that is rotated on every
// use, where a rotated token presented again ends the whole session.
// Tokens minted elsewhere keep working beside it; this package only adds
// ways in.
//
// Routes (docs/protocol.md#signing-in), all under /auth/:
//
//	GET  /auth/config         what the sign-in page offers
//	POST /auth/email          send a sign-in link (same answer whether or not the address is known)
//	POST /auth/email/verify   exchange a link's secret for a session
//	GET  /auth/oidc/start     go to the identity provider
//	GET  /auth/oidc/callback  come back from it, with a session
//	POST /auth/refresh        a new access token, the refresh cookie rotated
//	POST /auth/signout        end the browser session
//
// The cookie-authenticated routes (refresh, signout) refuse cross-site
// requests (csrf.go). Secrets (link secrets, refresh tokens) are stored
// only as SHA-256 hashes and never logged.
package signin

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/auth/mail"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/httpjson"
)

// Mailer sends one email (auth/mail.Sender).
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Config is what the sign-in routes need. Store and Signer are required;
// Mailer and OIDC each enable a way in.
type Config struct {
	Store  chat.Store
	Signer *auth.Signer
	// Mailer and PublicURL (the scheme://host the emailed links point at,
	// never taken from a request's Host) enable email sign-in.
	Mailer    Mailer
	PublicURL string
	// OIDC enables staff sign-in; OIDCName is the provider's name on the
	// sign-in page ("Sign in with …").
	OIDC     OIDC
	OIDCName string
	// StateKey signs the short-lived cookie that carries an OIDC sign-in
	// from start to callback (32 bytes or more).
	StateKey []byte
	// AccessTTL is the access token's life (default 10 minutes);
	// SessionTTL the browser session's, however active (default 30 days);
	// ReuseInterval how long a rotated refresh token is still taken, for
	// two tabs refreshing at once (default 10 s); LinkTTL an emailed
	// link's life (default 15 minutes).
	AccessTTL, SessionTTL, ReuseInterval, LinkTTL time.Duration
	// LinksPerAddress is how many links one email address may be sent per
	// LinkWindow (default 3 per 15 minutes); LinksPerSource how many link
	// requests one client address may make per LinkWindow (default 10).
	LinksPerAddress, LinksPerSource int
	LinkWindow                      time.Duration
	// InsecureCookies drops the Secure attribute, for plain-http
	// development on a non-loopback address only.
	InsecureCookies bool
	// ClientAddr returns the caller's address (behind trusted proxies);
	// Audit records an audit entry.
	ClientAddr func(*http.Request) string
	Audit      func(context.Context, chat.AuditEntry)
	Logger     *slog.Logger
	Now        func() time.Time
}

// Handler serves /auth/.
type Handler struct {
	cfg     Config
	mux     *http.ServeMux
	sources *limiter
	mail    *mailQueue
}

// New checks cfg and returns the handler; with a Mailer, its worker runs
// until Close.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil || cfg.Signer == nil {
		return nil, errors.New("signin: a store and a local token signer are needed")
	}
	if cfg.Mailer != nil && cfg.PublicURL == "" {
		return nil, errors.New("signin: email sign-in needs the server's public URL (--public-url), which the links point at")
	}
	if cfg.OIDC != nil && len(cfg.StateKey) < 32 {
		return nil, errors.New("signin: OIDC sign-in needs a state key of 32 bytes or more")
	}
	fill(&cfg)
	h := &Handler{cfg: cfg, mux: http.NewServeMux()}
	h.sources = newLimiter(cfg.LinksPerSource, cfg.LinkWindow, cfg.Now)
	if cfg.Mailer != nil {
		h.startMail()
	}
	h.mux.HandleFunc("GET /auth/config", h.config)
	h.mux.HandleFunc("POST /auth/email", h.requestLink)
	h.mux.HandleFunc("POST /auth/email/verify", h.verifyLink)
	h.mux.HandleFunc("GET /auth/oidc/start", h.oidcStart)
	h.mux.HandleFunc("GET /auth/oidc/callback", h.oidcCallback)
	h.mux.HandleFunc("POST /auth/refresh", h.refresh)
	h.mux.HandleFunc("POST /auth/signout", h.signout)
	return h, nil
}

func fill(c *Config) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.AccessTTL, 10*time.Minute)
	def(&c.SessionTTL, 30*24*time.Hour)
	def(&c.ReuseInterval, 10*time.Second)
	def(&c.LinkTTL, 15*time.Minute)
	def(&c.LinkWindow, 15*time.Minute)
	if c.LinksPerAddress <= 0 {
		c.LinksPerAddress = 3
	}
	if c.LinksPerSource <= 0 {
		c.LinksPerSource = 10
	}
	if c.ClientAddr == nil {
		c.ClientAddr = func(r *http.Request) string {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				return r.RemoteAddr
			}
			return host
		}
	}
	if c.Audit == nil {
		c.Audit = func(context.Context, chat.AuditEntry) {}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// pageConfig is GET /auth/config: what the sign-in page shows.
type pageConfig struct {
	Email    bool        `json:"email"`
	OIDC     bool        `json:"oidc"`
	OIDCName string      `json:"oidc_name,omitempty"`
	Signup   chat.Signup `json:"signup"`
}

func (h *Handler) config(w http.ResponseWriter, r *http.Request) {
	httpjson.WriteJSON(w, http.StatusOK, pageConfig{Email: h.cfg.Mailer != nil, OIDC: h.cfg.OIDC != nil,
		OIDCName: h.cfg.OIDCName, Signup: h.signup(r.Context())})
}

// signup reads the deployment's policy; a store that cannot answer means
// the stricter one.
func (h *Handler) signup(ctx context.Context) chat.Signup {
	v, err := h.cfg.Store.Setting(ctx, chat.SettingSignup)
	if err != nil {
		return chat.SignupInvite
	}
	return chat.SignupOf(v)
}

func fail(w http.ResponseWriter, e *chat.Error) { httpjson.WriteError(w, e) }

func unavailable() *chat.Error {
	return &chat.Error{Code: chat.CodeUnavailable, Message: "the service is temporarily unavailable", Temporary: true, RetryAfterMS: 1000}
}
