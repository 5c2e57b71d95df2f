package server

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
)

// userDataRoutes: one user's data for admins (export, erasure) and legal
// holds (docs/security.md#retention-and-erasure).
func (s *Server) userDataRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/users/{id}/export", s.api(auth.ActExportUser, s.exportUser))
	m.HandleFunc("POST /api/users/{id}/erase", s.api(auth.ActEraseUser, s.eraseUser))
	m.HandleFunc("PUT /api/holds/users/{id}", s.api(auth.ActLegalHold, s.setHold(chat.HoldUser)))
	m.HandleFunc("PUT /api/holds/rooms/{id}", s.api(auth.ActLegalHold, s.setHold(chat.HoldRoom)))
	m.HandleFunc("DELETE /api/holds/users/{id}", s.api(auth.ActLegalHold, s.releaseHold(chat.HoldUser)))
	m.HandleFunc("DELETE /api/holds/rooms/{id}", s.api(auth.ActLegalHold, s.releaseHold(chat.HoldRoom)))
	m.HandleFunc("GET /api/holds", s.api(auth.ActLegalHold, func(r *http.Request, _ auth.Identity) (int, any, error) {
		holds, err := s.store.Holds(r.Context(), r.URL.Query().Get("subject"))
		return http.StatusOK, map[string]any{"holds": nonNil(holds)}, err
	}))
}

// userParam is the user id of the route, refused unless a token could
// carry it.
func userParam(r *http.Request) (string, error) {
	user := r.PathValue("id")
	if auth.CheckSubject(user) != nil {
		return "", chat.Errorf(chat.CodeInvalidField, "the user id is not one a token could carry")
	}
	return user, nil
}

// userExport is what GET /api/users/{id}/export answers.
type userExport struct {
	chat.UserExport
	Escalations []*escalation.Escalation `json:"escalations"`
}

// exportUser answers GET /api/users/{id}/export: everything kept about
// the user, the escalations about them included.
func (s *Server) exportUser(r *http.Request, id auth.Identity) (int, any, error) {
	user, err := userParam(r)
	if err != nil {
		return 0, nil, err
	}
	x, err := s.store.ExportUser(r.Context(), user)
	if err != nil {
		return 0, nil, err
	}
	out := userExport{UserExport: x, Escalations: []*escalation.Escalation{}}
	if s.esc != nil {
		if out.Escalations, err = s.esc.Store.List(r.Context(), escalation.Filter{Subject: user, Limit: escalation.MaxListLimit}); err != nil {
			return 0, nil, err
		}
	}
	s.audit(r.Context(), chat.AuditEntry{Actor: id.UserID, Action: "user.export", Target: user,
		Detail: fmt.Sprintf("memberships=%d messages=%d reports=%d escalations=%d audit=%d",
			len(x.Memberships), len(x.Messages), len(x.Reports), len(out.Escalations), len(x.Audit))})
	return http.StatusOK, out, nil
}

// eraseUser answers POST /api/users/{id}/erase: the user's sessions are
// revoked (every node closes them), then their messages and personal data
// are erased but what a hold or an open escalation keeps, and the store's
// write-ahead log is truncated. The answer says what went and what stayed.
func (s *Server) eraseUser(r *http.Request, id auth.Identity) (int, any, error) {
	user, err := userParam(r)
	if err != nil {
		return 0, nil, err
	}
	ctx := context.WithoutCancel(r.Context()) // once begun, it finishes
	rev, err := s.store.RevokeSessions(ctx, user)
	if err != nil {
		return 0, nil, err
	}
	s.audit(ctx, RevocationAudit(id.UserID, rev))
	s.PublishRevocation(ctx, rev)
	e, err := s.store.EraseUser(ctx, user)
	if err != nil {
		return 0, nil, err
	}
	s.checkpoint(ctx, "erasure")
	s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "user.erase", Target: user, Detail: erasureDetail(e)})
	return http.StatusOK, map[string]any{"user": e.User, "erased": e.Erased, "kept": e.Kept, "revocation": rev}, nil
}

// erasureDetail is the audit detail of e: counts only.
func erasureDetail(e chat.Erasure) string {
	var parts []string
	for what, n := range e.Erased {
		parts = append(parts, fmt.Sprintf("erased.%s=%d", what, n))
	}
	for _, k := range e.Kept {
		parts = append(parts, fmt.Sprintf("kept.%s=%d", k.What, k.Count))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// setHold answers PUT /api/holds/{users,rooms}/{id} ({"reason": ...},
// optional): the hold is set, or its reason changed.
func (s *Server) setHold(kind chat.HoldKind) handlerFunc {
	return func(r *http.Request, id auth.Identity) (int, any, error) {
		subject, err := s.holdSubject(r, kind)
		if err != nil {
			return 0, nil, err
		}
		var in struct {
			Reason string `json:"reason"`
		}
		if r.ContentLength != 0 {
			if err := decodeBody(r, &in); err != nil {
				return 0, nil, err
			}
		}
		h, err := s.store.SetHold(r.Context(), chat.Hold{Kind: kind, Subject: subject, Reason: in.Reason, By: id.UserID})
		if err != nil {
			return 0, nil, err
		}
		s.audit(r.Context(), holdAudit(id, "hold.set", h))
		return http.StatusOK, h, nil
	}
}

// releaseHold answers DELETE /api/holds/{users,rooms}/{id}; not_found
// when there is no such hold.
func (s *Server) releaseHold(kind chat.HoldKind) handlerFunc {
	return func(r *http.Request, id auth.Identity) (int, any, error) {
		subject := r.PathValue("id")
		ok, err := s.store.ReleaseHold(r.Context(), kind, subject)
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			return 0, nil, chat.Errorf(chat.CodeNotFound, "no such hold")
		}
		s.audit(r.Context(), holdAudit(id, "hold.release", chat.Hold{Kind: kind, Subject: subject}))
		return http.StatusOK, map[string]bool{"released": true}, nil
	}
}

// holdSubject is the route's user (one a token could carry) or
// conversation (one that exists: a room, or a DM).
func (s *Server) holdSubject(r *http.Request, kind chat.HoldKind) (string, error) {
	if kind == chat.HoldUser {
		return userParam(r)
	}
	c, err := s.store.Conversation(r.Context(), r.PathValue("id"))
	return c.ID, err
}

func holdAudit(id auth.Identity, action string, h chat.Hold) chat.AuditEntry {
	e := chat.AuditEntry{Actor: id.UserID, Action: action, Target: h.Subject, Reason: h.Reason, Detail: "kind=" + string(h.Kind)}
	if h.Kind == chat.HoldRoom {
		e.Room = h.Subject
	}
	return e
}
