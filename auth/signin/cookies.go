package signin

import (
	"net/http"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// The refresh cookie: HttpOnly (no script reads it), Secure (the
// __Secure- prefix makes browsers insist), SameSite=Strict (never sent
// from another site), and scoped to /auth/, the only routes that read it.
const (
	refreshCookie         = "__Secure-kindred_refresh"
	refreshCookieInsecure = "kindred_refresh"
	cookiePath            = "/auth/"
)

func (h *Handler) refreshCookieName() string {
	if h.cfg.InsecureCookies {
		return refreshCookieInsecure
	}
	return refreshCookie
}

func (h *Handler) setRefreshCookie(w http.ResponseWriter, tok string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: h.refreshCookieName(), Value: tok, Path: cookiePath,
		Expires: expires, HttpOnly: true, Secure: !h.cfg.InsecureCookies, SameSite: http.SameSiteStrictMode})
}

func (h *Handler) clearRefreshCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: h.refreshCookieName(), Value: "", Path: cookiePath, MaxAge: -1,
		HttpOnly: true, Secure: !h.cfg.InsecureCookies, SameSite: http.SameSiteStrictMode})
}

// refreshCookie returns the refresh token, "" when there is none.
func (h *Handler) refreshCookie(r *http.Request) string {
	c, err := r.Cookie(h.refreshCookieName())
	if err != nil || len(c.Value) > 128 {
		return ""
	}
	return c.Value
}

// csrfHeader must be on every POST to /auth/: a form on another site
// cannot send it, and a script there could only after a CORS preflight
// that this server never approves.
const csrfHeader = "X-Kindred-CSRF"

// crossOrigin refuses requests that browsers mark as coming from another
// origin (Sec-Fetch-Site, or Origin against Host).
var crossOrigin = http.NewCrossOriginProtection()

// crossSite refuses a POST that did not come from Kindred's own pages:
// the CSRF protection of the cookie-authenticated routes, and of the
// sign-in routes against logging a victim in as someone else.
func (h *Handler) crossSite(r *http.Request) *chat.Error {
	if r.Header.Get(csrfHeader) != "1" {
		return &chat.Error{Code: chat.CodeForbidden, Message: "missing the " + csrfHeader + " header; sign in from Kindred's own page"}
	}
	if err := crossOrigin.Check(r); err != nil {
		return &chat.Error{Code: chat.CodeOriginForbidden, Message: "this request came from another site"}
	}
	return nil
}
