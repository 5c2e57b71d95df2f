package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// typeSessionsRevoked is the news, on a user's channel, that an admin
// revoked every session of theirs: each session whose token was issued
// before the revocation closes with 4011. For the server only: the client
// hears token_revoked and the close.
const typeSessionsRevoked = "sessions_revoked"

type sessionsRevokedNews struct {
	Type       string          `json:"type"`
	Revocation chat.Revocation `json:"revocation"`
}

// revokeRoutes: revoking every session of a user, for admins.
func (s *Server) revokeRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /api/users/{id}/revoke", s.api(auth.ActRevokeSessions, s.revokeSessions))
}

// revokeSessions answers POST /api/users/{id}/revoke: the user's session
// generation is bumped, so tokens issued until now are refused, and every
// session of theirs, on every node, is told to close.
func (s *Server) revokeSessions(r *http.Request, id auth.Identity) (int, any, error) {
	user := r.PathValue("id")
	if e := auth.CheckSubject(user); e != nil {
		return 0, nil, chat.Errorf(chat.CodeInvalidField, "the user id is not one a token could carry")
	}
	if _, err := s.store.RevokeAuthSessions(r.Context(), user, "revoked"); err != nil {
		return 0, nil, err
	}
	rev, err := s.endSessions(r.Context(), user)
	if err != nil {
		return 0, nil, err
	}
	s.audit(r.Context(), RevocationAudit(id.UserID, rev))
	return http.StatusOK, rev, nil
}

// RevocationAudit is the audit entry of rev, made by actor (the API and
// kindred revoke record the same).
func RevocationAudit(actor string, rev chat.Revocation) chat.AuditEntry {
	return chat.AuditEntry{Actor: actor, Action: "user.revoke_sessions", Target: rev.User,
		Detail: "generation=" + strconv.FormatInt(rev.Generation, 10)}
}

// PublishRevocation tells every session of rev.User, on every node, that
// their sessions were revoked (kindred revoke calls it after the store's
// RevokeSessions).
func (s *Server) PublishRevocation(ctx context.Context, rev chat.Revocation) {
	s.pub.publish(ctx, RevocationPublication(rev))
}

// RevocationPublication is the news of rev for the sessions of rev.User,
// for a process that is not a node (kindred revoke) to publish on the
// nodes' broker.
func RevocationPublication(rev chat.Revocation) *chat.Publication {
	return &chat.Publication{Channel: userChannel(rev.User),
		Data: protocol.Encode(sessionsRevokedNews{Type: typeSessionsRevoked, Revocation: rev})}
}

// checkRevoked refuses id's token when the user's sessions were revoked
// after it was issued (or it does not say when it was), or when an admin
// deactivated the account (whoever minted the token).
func (s *Server) checkRevoked(ctx context.Context, id auth.Identity) *chat.Error {
	rev, err := s.store.SessionRevocation(ctx, id.UserID)
	if err != nil {
		s.log.Error("session revocation", "user", id.UserID, "err", err)
		return &chat.Error{Code: chat.CodeUnavailable, Message: "the service is temporarily unavailable", Temporary: true}
	}
	if rev.Revoked(id.Issued) {
		return revokedError()
	}
	if rev.Generation == 0 {
		return nil // never revoked: deactivation always revokes too
	}
	acct, err := s.store.Account(ctx, id.UserID)
	if err != nil && !errors.Is(err, chat.ErrNotFound) {
		s.log.Error("account", "user", id.UserID, "err", err)
		return &chat.Error{Code: chat.CodeUnavailable, Message: "the service is temporarily unavailable", Temporary: true}
	}
	if err == nil && acct.Status == chat.StatusDeactivated {
		return chat.ErrDeactivated
	}
	return nil
}

func revokedError() *chat.Error {
	return &chat.Error{Code: chat.CodeTokenRevoked, Message: "your sessions were ended by an administrator; sign in again"}
}

// revokedLocked ends the session when news of a revocation covers its
// token: the client gets token_revoked, then close 4011. Called by
// Deliver with c.mu held.
func (c *conn) revokedLocked(data []byte) {
	var ev sessionsRevokedNews
	if json.Unmarshal(data, &ev) != nil || !ev.Revocation.Revoked(c.issued) {
		return
	}
	e := revokedError()
	c.srv.metrics.rejected.WithLabelValues(string(e.Code)).Inc()
	c.srv.log.Info("session revoked", "session", c.id, "user", c.ident.UserID)
	c.enqueueLocked(&chat.Publication{Data: protocol.Encode(protocol.ErrorFrame{Type: protocol.TypeError, Error: *e})})
	c.closeLocked(protocol.CloseRevoked, "sessions revoked")
}
