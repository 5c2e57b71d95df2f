package signin

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/httpjson"
)

// Grant is what a sign-in or a refresh answers: the access token for the
// WebSocket's hello and the API's Authorization header, when it expires,
// and who it is for. The refresh token travels only in its cookie.
type Grant struct {
	AccessToken string    `json:"access_token"`
	ExpiresAt   time.Time `json:"expires_at"`
	User        chat.User `json:"user"`
	// NewAccount is set on the sign-in that created the account, so the
	// client can offer to choose the name others see.
	NewAccount bool `json:"new_account,omitempty"`
}

// newSecret returns 256 random bits, base64url: a refresh token or a link
// secret.
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported systems
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// hashSecret is what the store keeps of a secret.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// startSession opens a browser session for acct: its first refresh token
// in the cookie, an access token in the answer.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, acct chat.Account, isNew bool) (Grant, *chat.Error) {
	now := h.cfg.Now()
	tok := newSecret()
	sess := chat.AuthSession{ID: "as_" + strings.ToLower(rand.Text()[:16]), User: acct.ID, CreatedAt: now,
		ExpiresAt: now.Add(h.cfg.SessionTTL)}
	if err := h.cfg.Store.CreateAuthSession(r.Context(), sess, hashSecret(tok)); err != nil {
		h.cfg.Logger.Error("create browser session", "user", acct.ID, "err", err)
		return Grant{}, unavailable()
	}
	h.setRefreshCookie(w, tok, sess.ExpiresAt)
	g, e := h.grant(acct)
	g.NewAccount = isNew
	return g, e
}

// grant mints an access token for acct as the directory has it now.
func (h *Handler) grant(acct chat.Account) (Grant, *chat.Error) {
	role, err := auth.ParseRole(acct.Role)
	if err != nil {
		return Grant{}, &chat.Error{Code: chat.CodeForbidden, Message: "your account has no role in Kindred; ask an administrator"}
	}
	tok, err := h.cfg.Signer.Mint(acct.ID, acct.Name, role, h.cfg.AccessTTL)
	if err != nil {
		h.cfg.Logger.Error("mint access token", "user", acct.ID, "err", err)
		return Grant{}, &chat.Error{Code: chat.CodeInternal, Message: "could not sign you in"}
	}
	return Grant{AccessToken: tok, ExpiresAt: h.cfg.Now().Add(h.cfg.AccessTTL).UTC().Truncate(time.Second),
		User: acct.User}, nil
}

// refresh is POST /auth/refresh: the refresh cookie's token is exchanged
// for a new one and an access token. A token used before (past the reuse
// interval) ends the whole session.
func (h *Handler) refresh(w http.ResponseWriter, r *http.Request) {
	if e := h.crossSite(r); e != nil {
		fail(w, e)
		return
	}
	old := h.refreshCookie(r)
	if old == "" {
		fail(w, &chat.Error{Code: chat.CodeAuthRequired, Message: "you are not signed in"})
		return
	}
	next := newSecret()
	sess, err := h.cfg.Store.RotateRefresh(r.Context(), hashSecret(old), hashSecret(next), h.cfg.Now(), h.cfg.ReuseInterval)
	if err != nil {
		if errors.Is(err, chat.ErrRefreshReused) {
			h.cfg.Audit(r.Context(), chat.AuditEntry{Actor: "", Action: "signin.refresh_reused", Target: "",
				Source: h.cfg.ClientAddr(r), Detail: "a rotated refresh token was presented again; its session ended"})
		}
		if e, ok := errors.AsType[*chat.Error](err); ok {
			h.clearRefreshCookie(w)
			fail(w, e)
			return
		}
		h.cfg.Logger.Error("rotate refresh token", "err", err)
		fail(w, unavailable())
		return
	}
	acct, err := h.cfg.Store.Account(r.Context(), sess.User)
	if err != nil {
		h.cfg.Logger.Error("account", "user", sess.User, "err", err)
		fail(w, unavailable())
		return
	}
	h.afterRevocation(r, acct.ID)
	h.setRefreshCookie(w, next, sess.ExpiresAt)
	g, e := h.grant(acct)
	if e != nil {
		fail(w, e)
		return
	}
	httpjson.WriteJSON(w, http.StatusOK, g)
}

// afterRevocation waits out the second of a revocation of user's sessions
// made this very second: tokens carry whole seconds, and one issued in the
// revocation's second counts as revoked (chat.Revocation.Revoked).
func (h *Handler) afterRevocation(r *http.Request, user string) {
	rev, err := h.cfg.Store.SessionRevocation(r.Context(), user)
	if err != nil || rev.Generation == 0 {
		return
	}
	if wait := time.Unix(rev.At.Unix()+1, 0).Sub(h.cfg.Now()); wait > 0 && wait <= time.Second {
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
		}
	}
}

// signout is POST /auth/signout: the cookie's session ends (its refresh
// tokens are refused from now on, on every node), the cookie is cleared
// and the browser told to drop its cache; the client forgets its access
// token, which dies within AccessTTL.
func (h *Handler) signout(w http.ResponseWriter, r *http.Request) {
	if e := h.crossSite(r); e != nil {
		fail(w, e)
		return
	}
	if tok := h.refreshCookie(r); tok != "" {
		user, err := h.cfg.Store.RevokeAuthSession(r.Context(), hashSecret(tok), "signed out")
		if err != nil {
			h.cfg.Logger.Error("sign out", "err", err)
			fail(w, unavailable())
			return
		}
		if user != "" {
			h.cfg.Audit(r.Context(), chat.AuditEntry{Actor: user, Action: "signin.signout", Target: user, Source: h.cfg.ClientAddr(r)})
		}
	}
	h.clearRefreshCookie(w)
	// The cache only: "storage" would also unregister the service worker
	// that brings a supervisor's crisis notifications, for the whole site.
	w.Header().Set("Clear-Site-Data", `"cache"`)
	httpjson.WriteJSON(w, http.StatusOK, map[string]bool{"signed_out": true})
}
