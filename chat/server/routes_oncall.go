package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
)

// oncallRoutes: the on-call rota, read by supervisors, kept by admins.
func (s *Server) oncallRoutes(m *http.ServeMux) {
	rota := func(a auth.Action, h handlerFunc) http.HandlerFunc {
		return s.api(a, func(r *http.Request, id auth.Identity) (int, any, error) {
			if s.esc == nil {
				return 0, nil, errNoEscalation
			}
			return h(r, id)
		})
	}
	m.HandleFunc("GET /api/oncall/shifts", rota(auth.ActViewOncall, func(r *http.Request, id auth.Identity) (int, any, error) {
		from, to := time.Now().Add(-24*time.Hour), time.Now().Add(30*24*time.Hour)
		shifts, err := s.esc.Store.ListShifts(r.Context(), from, to)
		return http.StatusOK, map[string]any{"shifts": nonNil(shifts)}, err
	}))
	m.HandleFunc("POST /api/oncall/shifts", rota(auth.ActManageOncall, func(r *http.Request, id auth.Identity) (int, any, error) {
		var in escalation.Shift
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		if err := in.Validate(); err != nil {
			return 0, nil, err
		}
		if err := s.checkOnCall(r.Context(), in.Supervisor); err != nil {
			return 0, nil, err
		}
		sh, err := s.esc.Store.PutShift(r.Context(), in)
		if err == nil {
			s.audit(r.Context(), chat.AuditEntry{Actor: id.UserID, Action: "oncall.shift_add", Target: sh.Supervisor,
				Detail: fmt.Sprintf("shift=%s tier=%s from=%s to=%s", sh.ID, sh.Tier, sh.Start.UTC().Format(time.RFC3339), sh.End.UTC().Format(time.RFC3339))})
		}
		return http.StatusCreated, sh, err
	}))
	m.HandleFunc("DELETE /api/oncall/shifts/{id}", rota(auth.ActManageOncall, func(r *http.Request, id auth.Identity) (int, any, error) {
		err := s.esc.Store.DeleteShift(r.Context(), r.PathValue("id"))
		if err == nil {
			s.audit(r.Context(), chat.AuditEntry{Actor: id.UserID, Action: "oncall.shift_remove", Detail: "shift=" + r.PathValue("id")})
		}
		return http.StatusOK, map[string]string{"deleted": r.PathValue("id")}, err
	}))
}

// checkOnCall refuses to put anyone but a known supervisor or admin on
// call: whoever is paged sees the message and its context.
func (s *Server) checkOnCall(ctx context.Context, user string) error {
	u, err := s.store.User(ctx, user)
	if err != nil {
		if chat.ErrorCode(err) == chat.CodeNotFound {
			return chat.Errorf(chat.CodeInvalidField, "%q has never signed in; only known supervisors can be on call", user)
		}
		return err
	}
	if !auth.Role(u.Role).Can(auth.ActReceivePages) {
		return chat.Errorf(chat.CodeInvalidField, "%q is not a supervisor", user)
	}
	return nil
}
