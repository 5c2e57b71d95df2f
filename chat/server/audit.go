package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// audit appends e to the audit log (docs/moderation.md lists the actions)
// and waits until it is stored. The entry is written even when the
// caller's request ends meanwhile; a store failure is logged, with ids
// only, and does not undo the action. Audit is the same for the sign-in
// routes, which the node serves but another package implements.
func (s *Server) Audit(ctx context.Context, e chat.AuditEntry) { s.audit(ctx, e) }

func (s *Server) audit(ctx context.Context, e chat.AuditEntry) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	_ = s.recordAudit(ctx, e) // the writer logs a failure
}

// recordAudit appends e, with the source address ctx carries (withSource)
// unless e has one, and returns once it is stored: a read that must leave
// a trace is refused when this fails (errAuditUnavailable).
func (s *Server) recordAudit(ctx context.Context, e chat.AuditEntry) error {
	if e.Source == "" {
		e.Source, _ = ctx.Value(sourceKey{}).(string)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, auditTimeout)
		defer cancel()
	}
	return s.auditW.record(ctx, e)
}

// auditHistoryRead records a staff member's read of conv's history over
// the HTTP API (query: the request's before/after/limit), with the range
// of sequence numbers it returned, never their content.
func (s *Server) auditHistoryRead(ctx context.Context, id auth.Identity, conv, query string, evs []chat.Event) error {
	detail := query + " events=0"
	if len(evs) > 0 {
		lo, hi := evs[0].Seq, evs[len(evs)-1].Seq
		detail = fmt.Sprintf("%s events=%d seq=%d-%d", query, len(evs), min(lo, hi), max(lo, hi))
	}
	if err := s.recordAudit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "history.read", Room: conv, Detail: strings.TrimSpace(detail)}); err != nil {
		return errAuditUnavailable
	}
	return nil
}

// sourceKey is the context key of the address a request or session comes
// from (clientAddr), which audit entries record.
type sourceKey struct{}

func withSource(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, sourceKey{}, addr)
}

// staff reports whether id's reads are audited: specialists, supervisors
// and admins read other people's conversations as part of their work;
// peers' reads of their own rooms are not recorded.
func staff(id auth.Identity) bool {
	switch id.Role {
	case auth.RoleSpecialist, auth.RoleSupervisor, auth.RoleAdmin:
		return true
	}
	return false
}

// auditRoutes: the audit log, for supervisors and admins.
func (s *Server) auditRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/audit", s.api(auth.ActViewAudit, s.auditLog))
}

// auditLog answers GET /api/audit?room=&actor=&action=&target=&source=&since=&until=&before=&limit=:
// newest first; next is the before of the following page (0: none).
func (s *Server) auditLog(r *http.Request, id auth.Identity) (int, any, error) {
	q := r.URL.Query()
	f := chat.AuditFilter{Room: q.Get("room"), Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), Source: q.Get("source")}
	var err error
	if f.Since, err = queryTime(q.Get("since")); err == nil {
		f.Until, err = queryTime(q.Get("until"))
	}
	before, err2 := queryInt(q.Get("before"))
	limit, err3 := queryInt(q.Get("limit"))
	if err != nil || err2 != nil || err3 != nil {
		return 0, nil, chat.Errorf(chat.CodeInvalidField, "since and until are RFC 3339 times; before and limit are whole numbers")
	}
	f.Before, f.Limit = before, int(min(max(limit, 1), 200))
	if limit == 0 {
		f.Limit = 50
	}
	entries, err := s.store.Audit(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	var next int64
	if len(entries) == f.Limit {
		next = entries[len(entries)-1].ID
	}
	return http.StatusOK, map[string]any{"entries": nonNil(entries), "next": next}, nil
}

func queryTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, v)
}
