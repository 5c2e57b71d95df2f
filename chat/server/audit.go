package server

import (
	"context"
	"net/http"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// audit appends e to the audit log (docs/moderation.md lists the actions).
// The entry is written even when the caller's request ends meanwhile; a
// store failure is logged, with ids only, and does not undo the action.
func (s *Server) audit(ctx context.Context, e chat.AuditEntry) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.store.AppendAudit(ctx, e); err != nil {
		s.log.Error("audit entry not stored", "action", e.Action, "actor", e.Actor, "room", e.Room, "target", e.Target, "err", err)
	}
}

// auditRoutes: the audit log, for supervisors and admins.
func (s *Server) auditRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/audit", s.api(auth.ActViewAudit, s.auditLog))
}

// auditLog answers GET /api/audit?room=&actor=&since=&until=&before=&limit=:
// newest first; next is the before of the following page (0: none).
func (s *Server) auditLog(r *http.Request, id auth.Identity) (int, any, error) {
	q := r.URL.Query()
	f := chat.AuditFilter{Room: q.Get("room"), Actor: q.Get("actor")}
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
