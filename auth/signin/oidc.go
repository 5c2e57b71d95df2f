package signin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/auth/oidc"
	"github.com/kindred-health/kindred/chat"
)

// OIDC is the clinic's identity provider (auth/oidc.Provider).
type OIDC interface {
	Begin() (authURL string, pend oidc.Pending, err error)
	Finish(ctx context.Context, pend oidc.Pending, callback url.Values) (oidc.Identity, error)
}

// The cookie that carries a sign-in from start to callback: signed with
// StateKey, HttpOnly, SameSite=Lax (the callback is a navigation from the
// provider's site, on which Strict cookies are not sent), for ten
// minutes, on the callback's path only.
const (
	oidcCookie         = "__Secure-kindred_oidc"
	oidcCookieInsecure = "kindred_oidc"
	oidcCookiePath     = "/auth/oidc/"
)

func (h *Handler) oidcCookieName() string {
	if h.cfg.InsecureCookies {
		return oidcCookieInsecure
	}
	return oidcCookie
}

// oidcStart is GET /auth/oidc/start: off to the provider, with state,
// nonce and the PKCE verifier kept in the signed cookie.
func (h *Handler) oidcStart(w http.ResponseWriter, r *http.Request) {
	if h.cfg.OIDC == nil {
		fail(w, &chat.Error{Code: chat.CodeNotFound, Message: "sign-in with an identity provider is not set up on this server"})
		return
	}
	to, pend, err := h.cfg.OIDC.Begin()
	if err != nil {
		h.cfg.Logger.Error("oidc begin", "err", err)
		fail(w, unavailable())
		return
	}
	data, _ := json.Marshal(pend) // plain strings and a time
	payload := base64.RawURLEncoding.EncodeToString(data)
	http.SetCookie(w, &http.Cookie{Name: h.oidcCookieName(), Value: payload + "." + h.stateMAC(payload),
		Path: oidcCookiePath, MaxAge: 600, HttpOnly: true, Secure: !h.cfg.InsecureCookies, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusFound)
}

func (h *Handler) stateMAC(payload string) string {
	m := hmac.New(sha256.New, h.cfg.StateKey)
	m.Write([]byte("kindred oidc state\x00" + payload))
	return hex.EncodeToString(m.Sum(nil))
}

// pending reads and checks the state cookie, and clears it.
func (h *Handler) pending(w http.ResponseWriter, r *http.Request) (oidc.Pending, bool) {
	var pend oidc.Pending
	c, err := r.Cookie(h.oidcCookieName())
	http.SetCookie(w, &http.Cookie{Name: h.oidcCookieName(), Value: "", Path: oidcCookiePath, MaxAge: -1,
		HttpOnly: true, Secure: !h.cfg.InsecureCookies, SameSite: http.SameSiteLaxMode})
	if err != nil {
		return pend, false
	}
	payload, mac, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(h.stateMAC(payload))) {
		return pend, false
	}
	data, err := base64.RawURLEncoding.DecodeString(payload)
	return pend, err == nil && json.Unmarshal(data, &pend) == nil
}

// oidcCallback is GET /auth/oidc/callback: the provider's answer is
// checked (state, code exchange with the verifier, ID token and nonce),
// the account saved with its mapped role, and the browser sent to the
// app with a session cookie; the app then asks /auth/refresh for its
// access token, so no token ever travels in a URL. Failures go to the
// sign-in page with a code it explains.
func (h *Handler) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if h.cfg.OIDC == nil {
		fail(w, &chat.Error{Code: chat.CodeNotFound, Message: "sign-in with an identity provider is not set up on this server"})
		return
	}
	pend, ok := h.pending(w, r)
	if !ok {
		h.toSignInPage(w, r, "oidc_state")
		return
	}
	id, err := h.cfg.OIDC.Finish(r.Context(), pend, r.URL.Query())
	if err != nil {
		code := oidcFailure(err)
		h.cfg.Logger.Warn("oidc sign-in refused", "why", code, "err", err)
		h.toSignInPage(w, r, code)
		return
	}
	acct, code := h.oidcAccount(r.Context(), id)
	if code != "" {
		h.toSignInPage(w, r, code)
		return
	}
	h.cfg.Audit(r.Context(), chat.AuditEntry{Actor: acct.ID, Action: "signin.oidc", Target: acct.ID,
		Source: h.cfg.ClientAddr(r), Detail: "role=" + acct.Role})
	if _, e := h.startSession(w, r, acct, false); e != nil {
		h.toSignInPage(w, r, "unavailable")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// oidcFailure names a refused sign-in for the sign-in page.
func oidcFailure(err error) string {
	var pe *oidc.ProviderError
	switch {
	case errors.As(err, &pe):
		return "oidc_provider"
	case errors.Is(err, oidc.ErrNoRole):
		return "oidc_no_role"
	case errors.Is(err, oidc.ErrExpired):
		return "oidc_expired"
	default:
		return "oidc_failed"
	}
}

// oidcAccount saves the account of a verified identity: its id is the
// provider's subject; the role is the mapped one, except that when no
// claim value matched, an existing account keeps the role an admin gave
// it. An email another account holds is not taken over.
func (h *Handler) oidcAccount(ctx context.Context, id oidc.Identity) (chat.Account, string) {
	if auth.CheckSubject(id.Subject) != nil {
		return chat.Account{}, "oidc_failed"
	}
	acct := chat.Account{User: chat.User{ID: id.Subject, Name: id.Name, Role: string(id.Role)}, Source: chat.SourceOIDC}
	if id.EmailVerified {
		acct.Email = id.Email
	}
	if acct.Name == "" {
		acct.Name = id.Subject
	}
	old, err := h.cfg.Store.Account(ctx, id.Subject)
	switch {
	case err == nil && old.Status != chat.StatusActive:
		return chat.Account{}, "deactivated"
	case err == nil && len(id.Matched) == 0:
		acct.Role = old.Role
	case err != nil && !errors.Is(err, chat.ErrNotFound):
		h.cfg.Logger.Error("account", "err", err)
		return chat.Account{}, "unavailable"
	}
	saved, err := h.cfg.Store.SaveAccount(ctx, acct, h.cfg.Now())
	if chat.ErrorCode(err) == chat.CodeConflict {
		acct.Email = ""
		saved, err = h.cfg.Store.SaveAccount(ctx, acct, h.cfg.Now())
	}
	if err != nil {
		h.cfg.Logger.Error("save account", "err", err)
		return chat.Account{}, "unavailable"
	}
	return saved, ""
}

// toSignInPage sends the browser to the app's sign-in page with a code it
// explains (in the fragment: never sent to a server or a Referer).
func (h *Handler) toSignInPage(w http.ResponseWriter, r *http.Request, code string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/#signin_error="+url.QueryEscape(code), http.StatusSeeOther)
}
