package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
)

// escHandler is a route about one escalation, loaded for it.
type escHandler func(r *http.Request, id auth.Identity, e *escalation.Escalation) (int, any, error)

// apiEsc wraps a route about the escalation in its {id}: action a, then
// the rule beside the table that the person an escalation is about never
// sees or handles it. Actions (POST) are written to the audit log.
func (s *Server) apiEsc(a auth.Action, h escHandler) http.HandlerFunc {
	return s.api(a, func(r *http.Request, id auth.Identity) (int, any, error) {
		if s.esc == nil {
			return 0, nil, errNoEscalation
		}
		e, err := s.esc.Engine.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		entry := chat.AuditEntry{Actor: id.UserID, Room: e.Conv, Target: e.ID}
		if e.Subject == id.UserID {
			entry.Action, entry.Detail = "escalation.denied", r.Method+" "+escAction(r)
			s.audit(r.Context(), entry)
			return 0, nil, chat.Errorf(chat.CodeForbidden, "this escalation is about you; another supervisor will handle it")
		}
		status, body, err := h(r, id, e)
		// The audit log: reads are recorded here; a successful action is
		// recorded by the store with the timeline step it adds; a refused
		// one here, with its code.
		switch {
		case r.Method == http.MethodGet && err == nil:
			entry.Action = "escalation.read"
			if s.recordAudit(r.Context(), entry) != nil {
				return 0, nil, errAuditUnavailable // not shown without its trace
			}
		case err != nil:
			entry.Action, entry.Detail = "escalation."+escAction(r)+".refused", string(chat.AsError(err).Code)
			s.audit(r.Context(), entry)
		}
		return status, body, err
	})
}

// escAction is the last part of an escalation route's path (ack, notes, …).
func escAction(r *http.Request) string {
	return r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
}

// escalationRoutes: the supervisors' queue and their actions.
func (s *Server) escalationRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/escalations", s.api(auth.ActViewEscalations, s.listEscalations))
	m.HandleFunc("GET /api/escalations/{id}", s.apiEsc(auth.ActViewEscalations, func(r *http.Request, id auth.Identity, e *escalation.Escalation) (int, any, error) {
		return http.StatusOK, e, nil
	}))
	m.HandleFunc("POST /api/escalations/{id}/ack", s.apiEsc(auth.ActHandleEscalation, func(r *http.Request, id auth.Identity, e *escalation.Escalation) (int, any, error) {
		e, err := s.esc.Engine.Ack(r.Context(), e.ID, id.UserID)
		return http.StatusOK, e, err
	}))
	m.HandleFunc("POST /api/escalations/{id}/notes", s.apiEsc(auth.ActHandleEscalation, func(r *http.Request, id auth.Identity, e *escalation.Escalation) (int, any, error) {
		var in struct{ Text string }
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		if strings.TrimSpace(in.Text) == "" {
			return 0, nil, missing("text")
		}
		e, err := s.esc.Engine.AddNote(r.Context(), e.ID, id.UserID, in.Text)
		return http.StatusOK, e, err
	}))
	m.HandleFunc("POST /api/escalations/{id}/handoff", s.apiEsc(auth.ActHandleEscalation, s.handOff))
	m.HandleFunc("POST /api/escalations/{id}/resolve", s.apiEsc(auth.ActHandleEscalation, func(r *http.Request, id auth.Identity, e *escalation.Escalation) (int, any, error) {
		var in struct{ Outcome string }
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		if strings.TrimSpace(in.Outcome) == "" {
			return 0, nil, missing("outcome")
		}
		e, err := s.esc.Engine.Resolve(r.Context(), e.ID, id.UserID, in.Outcome)
		return http.StatusOK, e, err
	}))
	m.HandleFunc("POST /api/escalations/{id}/join", s.apiEsc(auth.ActHandleEscalation, s.joinEscalationRoom))
	m.HandleFunc("POST /api/escalations/{id}/release", s.apiEsc(auth.ActHandleEscalation, func(r *http.Request, id auth.Identity, e *escalation.Escalation) (int, any, error) {
		e, err := s.release(r.Context(), id, e)
		return http.StatusOK, e, err
	}))
	m.HandleFunc("POST /api/escalations/{id}/dm", s.apiEsc(auth.ActHandleEscalation, func(r *http.Request, id auth.Identity, e *escalation.Escalation) (int, any, error) {
		c, err := s.openDutyDM(r.Context(), id, e.Subject)
		if err != nil {
			return 0, nil, err
		}
		if _, err := s.esc.Engine.OpenedDM(r.Context(), e.ID, id.UserID, c.ID); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]any{"conversation": c}, nil
	}))
}

// listEscalations is the queue, without the escalations about the caller.
func (s *Server) listEscalations(r *http.Request, id auth.Identity) (int, any, error) {
	if s.esc == nil {
		return 0, nil, errNoEscalation
	}
	var f escalation.Filter
	for _, st := range splitComma(r.URL.Query().Get("status")) {
		if !escalation.Status(st).Valid() {
			return 0, nil, chat.Errorf(chat.CodeInvalidField, "status is open, acknowledged or resolved")
		}
		f.Status = append(f.Status, escalation.Status(st))
	}
	f.Subject = r.URL.Query().Get("subject")
	list, err := s.esc.Engine.List(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	if s.recordAudit(r.Context(), chat.AuditEntry{Actor: id.UserID, Action: "escalation.list", Detail: r.URL.RawQuery}) != nil {
		return 0, nil, errAuditUnavailable
	}
	list = slices.DeleteFunc(list, func(e *escalation.Escalation) bool { return e.Subject == id.UserID })
	return http.StatusOK, map[string]any{"escalations": nonNil(list)}, nil
}

func (s *Server) handOff(r *http.Request, id auth.Identity, e *escalation.Escalation) (int, any, error) {
	var in struct{ To string }
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	if in.To == "" {
		return 0, nil, missing("to")
	}
	to, err := s.store.User(r.Context(), in.To)
	if err != nil {
		return 0, nil, err
	}
	if !auth.Role(to.Role).Can(auth.ActHandleEscalation) {
		return 0, nil, chat.Errorf(chat.CodeInvalidField, "hand off to a supervisor")
	}
	e, err = s.esc.Engine.HandOff(r.Context(), e.ID, id.UserID, to.ID)
	return http.StatusOK, e, err
}

// joinEscalationRoom joins the supervisor to the escalation's room,
// visibly to its members (a member frame with the supervisor role); the
// room limit does not apply to a crisis.
func (s *Server) joinEscalationRoom(r *http.Request, id auth.Identity, e *escalation.Escalation) (int, any, error) {
	if e.Conv == "" || e.ConvKind != chat.KindRoom {
		return 0, nil, chat.Errorf(chat.CodeInvalidField, "this escalation has no room to join")
	}
	if _, err := s.join(r.Context(), identUser(id), e.Conv, 0); err != nil {
		return 0, nil, err
	}
	e, err := s.esc.Engine.JoinedRoom(r.Context(), e.ID, id.UserID)
	return http.StatusOK, e, err
}
