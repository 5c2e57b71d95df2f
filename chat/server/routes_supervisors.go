package server

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
)

// supervisor is one row of GET /api/supervisors.
type supervisor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
	// OnCall is the tier of the rota's shift covering now ("primary" or
	// "backup"; primary wins), absent when not on call or when the node
	// has no escalation path.
	OnCall escalation.ShiftTier `json:"on_call,omitempty"`
	// Online: at least one session open now, on any node.
	Online bool `json:"online"`
}

// supervisorRoutes: who can take an escalation over, for hand-offs and the
// rota.
func (s *Server) supervisorRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/supervisors", s.api(auth.ActViewSupervisors, s.listSupervisors))
}

// listSupervisors lists every known supervisor and admin: on call first,
// then online, then by name.
func (s *Server) listSupervisors(r *http.Request, _ auth.Identity) (int, any, error) {
	ctx := r.Context()
	users, err := s.store.UsersByRole(ctx, string(auth.RoleSupervisor), string(auth.RoleAdmin))
	if err != nil {
		return 0, nil, err
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	online, err := s.presence.Online(ctx, ids)
	if err != nil {
		s.log.Warn("presence of supervisors", "err", err)
		return 0, nil, &chat.Error{Code: chat.CodeUnavailable, Message: "who is online cannot be told right now", Temporary: true}
	}
	tiers, err := s.onCallNow(r)
	if err != nil {
		return 0, nil, err
	}
	list := make([]supervisor, len(users))
	for i, u := range users {
		list[i] = supervisor{ID: u.ID, Name: u.Name, Role: u.Role, OnCall: tiers[u.ID], Online: online[u.ID]}
	}
	slices.SortFunc(list, func(a, b supervisor) int {
		return cmp.Or(tierRank(a.OnCall)-tierRank(b.OnCall), boolRank(a.Online)-boolRank(b.Online),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return http.StatusOK, map[string]any{"supervisors": list}, nil
}

// onCallNow maps each supervisor on call now to their tier (primary wins).
func (s *Server) onCallNow(r *http.Request) (map[string]escalation.ShiftTier, error) {
	tiers := map[string]escalation.ShiftTier{}
	if s.esc == nil {
		return tiers, nil
	}
	now := time.Now()
	for _, tier := range []escalation.ShiftTier{escalation.ShiftBackup, escalation.ShiftPrimary} {
		ids, err := s.esc.Store.OnCall(r.Context(), now, tier)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			tiers[id] = tier
		}
	}
	return tiers, nil
}

func tierRank(t escalation.ShiftTier) int {
	switch t {
	case escalation.ShiftPrimary:
		return 0
	case escalation.ShiftBackup:
		return 1
	}
	return 2
}

func boolRank(b bool) int {
	if b {
		return 0
	}
	return 1
}
