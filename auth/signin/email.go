package signin

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/kindred-health/kindred/auth/mail"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/httpjson"
)

// linkRequest is POST /auth/email's body.
type linkRequest struct {
	Email  string `json:"email"`
	Invite string `json:"invite,omitempty"`
}

// sentAnswer is the one answer to every link request that is not refused
// outright (bad address, too many from this source): it says nothing of
// whether the address is known, invited or was sent anything.
var sentAnswer = map[string]any{"accepted": true,
	"message": "If this address may sign in here, a sign-in link is on its way. It works once, for a few minutes."}

// requestLink is POST /auth/email: a sign-in link is sent when the address
// belongs to an active account, or may make one (open signup, or a room
// invite in force). The answer is the same in every case, and is given
// before any email is sent, so its timing does not tell either.
func (h *Handler) requestLink(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Mailer == nil {
		fail(w, &chat.Error{Code: chat.CodeNotFound, Message: "email sign-in is not set up on this server"})
		return
	}
	if e := h.crossSite(r); e != nil {
		fail(w, e)
		return
	}
	if ok, wait := h.sources.allow(h.cfg.ClientAddr(r)); !ok {
		fail(w, &chat.Error{Code: chat.CodeRateLimited, Message: "too many sign-in requests from here; try again later",
			Temporary: true, RetryAfterMS: wait.Milliseconds() + 1})
		return
	}
	var req linkRequest
	if e := decode(w, r, &req); e != nil {
		fail(w, e)
		return
	}
	email, e := checkEmail(req.Email)
	if e != nil {
		fail(w, e)
		return
	}
	// The decision and the sending happen after the answer, on the mail
	// worker: a known address must not answer slower than an unknown one.
	h.mail.enqueue(linkJob{email: email, invite: req.Invite})
	httpjson.WriteJSON(w, http.StatusAccepted, sentAnswer)
}

// checkEmail returns the address lower-cased, or the refusal of one that
// is not a plain address.
func checkEmail(s string) (string, *chat.Error) {
	s = strings.TrimSpace(s)
	a, err := netmail.ParseAddress(s)
	if s == "" || len(s) > 254 || err != nil || a.Address != s || a.Name != "" {
		return "", &chat.Error{Code: chat.CodeInvalidField, Message: "enter an email address such as name@example.org"}
	}
	return strings.ToLower(s), nil
}

// sendLink decides whether email may have a link, and if so stores one
// and sends it. Run by the mail worker.
func (h *Handler) sendLink(ctx context.Context, job linkJob) {
	now := h.cfg.Now()
	n, err := h.cfg.Store.CountSignInLinks(ctx, job.email, now.Add(-h.cfg.LinkWindow))
	if err != nil || n >= h.cfg.LinksPerAddress {
		if err != nil {
			h.cfg.Logger.Error("count sign-in links", "err", err)
		}
		return
	}
	if !h.mayHaveLink(ctx, job) {
		return
	}
	secret := newSecret()
	link := chat.SignInLink{Hash: hashSecret(secret), Email: job.email, Invite: job.invite, CreatedAt: now,
		ExpiresAt: now.Add(h.cfg.LinkTTL)}
	if err := h.cfg.Store.CreateSignInLink(ctx, link); err != nil {
		h.cfg.Logger.Error("store sign-in link", "err", err)
		return
	}
	msg := mail.Message{To: job.email, Subject: "Your Kindred sign-in link", Text: linkText(h.cfg.PublicURL, secret, h.cfg.LinkTTL)}
	if err := h.cfg.Mailer.Send(ctx, msg); err != nil {
		h.cfg.Logger.Error("send sign-in link", "err", err) // never the address's link
	}
}

// mayHaveLink: an active account, or a new one that signup allows.
func (h *Handler) mayHaveLink(ctx context.Context, job linkJob) bool {
	acct, err := h.cfg.Store.AccountByEmail(ctx, job.email)
	switch {
	case err == nil:
		return acct.Status == chat.StatusActive
	case !errors.Is(err, chat.ErrNotFound):
		h.cfg.Logger.Error("account by email", "err", err)
		return false
	}
	return h.signup(ctx) == chat.SignupOpen || h.inviteInForce(ctx, job.invite)
}

func (h *Handler) inviteInForce(ctx context.Context, code string) bool {
	if code == "" {
		return false
	}
	inv, err := h.cfg.Store.InviteByCode(ctx, code)
	return err == nil && !inv.Revoked && inv.Uses < inv.MaxUses && h.cfg.Now().Before(inv.ExpiresAt)
}

func linkText(base, secret string, ttl time.Duration) string {
	return fmt.Sprintf(`Hello,

Someone, hopefully you, asked to sign in to Kindred with this email address.
Open this link to sign in. It works once, within %d minutes:

%s/#link=%s

If you did not ask for it, you can ignore this email: nobody can sign in
without the link. Never share it.
`, int(ttl.Minutes()), strings.TrimRight(base, "/"), secret)
}

// verifyRequest is POST /auth/email/verify's body.
type verifyRequest struct {
	Link string `json:"link"`
}

// verifyLink is POST /auth/email/verify: the link's secret, used once,
// opens a browser session for its address's account, made now when the
// address may have one.
func (h *Handler) verifyLink(w http.ResponseWriter, r *http.Request) {
	if e := h.crossSite(r); e != nil {
		fail(w, e)
		return
	}
	var req verifyRequest
	if e := decode(w, r, &req); e != nil {
		fail(w, e)
		return
	}
	link, err := h.cfg.Store.UseSignInLink(r.Context(), hashSecret(req.Link), h.cfg.Now())
	if err != nil {
		if errors.Is(err, chat.ErrNotFound) {
			err = &chat.Error{Code: chat.CodeLinkInvalid, Message: "this sign-in link is not valid; ask for a new one"}
		}
		h.failStore(w, err)
		return
	}
	acct, isNew, err := h.linkAccount(r.Context(), link)
	if err != nil {
		h.failStore(w, err)
		return
	}
	h.cfg.Audit(r.Context(), chat.AuditEntry{Actor: acct.ID, Action: "signin.email", Target: acct.ID, Source: h.cfg.ClientAddr(r)})
	g, e := h.startSession(w, r, acct, isNew)
	if e != nil {
		fail(w, e)
		return
	}
	httpjson.WriteJSON(w, http.StatusOK, struct {
		Grant
		Invite string `json:"invite,omitempty"`
	}{g, link.Invite})
}

// linkAccount returns the account a used link signs into, creating it
// when the address has none and signup or the link's invite allows.
func (h *Handler) linkAccount(ctx context.Context, link chat.SignInLink) (chat.Account, bool, error) {
	now := h.cfg.Now()
	acct, err := h.cfg.Store.AccountByEmail(ctx, link.Email)
	switch {
	case err == nil && acct.Status != chat.StatusActive:
		return chat.Account{}, false, chat.ErrDeactivated
	case err == nil:
		acct, err = h.cfg.Store.SaveAccount(ctx, acct, now)
		return acct, false, err
	case !errors.Is(err, chat.ErrNotFound):
		return chat.Account{}, false, err
	}
	if h.signup(ctx) != chat.SignupOpen && !h.inviteInForce(ctx, link.Invite) {
		return chat.Account{}, false, &chat.Error{Code: chat.CodeNotInvited, Message: "this address has not been invited; ask your group's facilitator for an invite link"}
	}
	acct = chat.Account{User: chat.User{ID: "u_" + strings.ToLower(rand.Text()[:16]), Name: memberName(), Role: "peer"},
		Email: link.Email, Source: chat.SourceEmail}
	acct, err = h.cfg.Store.SaveAccount(ctx, acct, now)
	return acct, err == nil, err
}

// memberName is a new account's name until its owner chooses one: never
// derived from the email address, which often holds a real name.
func memberName() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9000))
	return fmt.Sprintf("Member %d", 1000+n.Int64())
}

// failStore answers a store error: a client-facing one as it is, anything
// else as unavailable (logged).
func (h *Handler) failStore(w http.ResponseWriter, err error) {
	if e, ok := errors.AsType[*chat.Error](err); ok {
		fail(w, e)
		return
	}
	h.cfg.Logger.Error("sign-in store", "err", err)
	fail(w, unavailable())
}

// decode reads a small JSON body into v.
func decode(w http.ResponseWriter, r *http.Request, v any) *chat.Error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	if err := dec.Decode(v); err != nil {
		return &chat.Error{Code: chat.CodeBadJSON, Message: "the request body is not the JSON expected"}
	}
	return nil
}
