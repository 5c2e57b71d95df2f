package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// roomRoutes: the caller, rooms, DMs and the conversations they belong to.
func (s *Server) roomRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/me", s.api(auth.ActViewOwn, func(r *http.Request, id auth.Identity) (int, any, error) {
		return http.StatusOK, identUser(id), nil
	}))
	m.HandleFunc("GET /api/rooms", s.api(auth.ActListRooms, func(r *http.Request, id auth.Identity) (int, any, error) {
		rooms, err := s.store.Rooms(r.Context(), id.UserID)
		return http.StatusOK, map[string]any{"rooms": nonNil(rooms)}, err
	}))
	m.HandleFunc("POST /api/rooms", s.api(auth.ActCreateRoom, func(r *http.Request, id auth.Identity) (int, any, error) {
		var in struct {
			Name  string `json:"name"`
			Topic string `json:"topic"`
			chat.RoomSettings
		}
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		c, err := s.createRoom(r.Context(), id, in.Name, in.Topic, in.RoomSettings)
		return http.StatusCreated, c, err
	}))
	m.HandleFunc("POST /api/rooms/{id}/join", s.apiIn(auth.ActJoinRoom, func(r *http.Request, id auth.Identity) (int, any, error) {
		if err := s.takeMembership(id.UserID); err != nil {
			return 0, nil, err
		}
		c, err := s.joinRoom(r.Context(), id, r.PathValue("id"))
		return http.StatusOK, c, err
	}))
	m.HandleFunc("POST /api/rooms/{id}/leave", s.apiIn(auth.ActLeaveRoom, func(r *http.Request, id auth.Identity) (int, any, error) {
		if err := s.takeMembership(id.UserID); err != nil {
			return 0, nil, err
		}
		err := s.leaveRoom(r.Context(), id, r.PathValue("id"))
		return http.StatusOK, map[string]string{"left": r.PathValue("id")}, err
	}))
	m.HandleFunc("GET /api/conversations", s.api(auth.ActViewOwn, func(r *http.Request, id auth.Identity) (int, any, error) {
		cs, err := s.store.UserConversations(r.Context(), id.UserID)
		return http.StatusOK, map[string]any{"conversations": nonNil(cs)}, err
	}))
	m.HandleFunc("POST /api/dms", s.api(auth.ActOpenDM, func(r *http.Request, id auth.Identity) (int, any, error) {
		var in struct {
			User string `json:"user"`
		}
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		if err := s.takeMembership(id.UserID); err != nil {
			return 0, nil, err
		}
		c, err := s.openDM(r.Context(), id, in.User)
		return http.StatusOK, c, err
	}))
	m.HandleFunc("GET /api/conversations/{id}/members", s.apiIn(auth.ActListMembers, func(r *http.Request, id auth.Identity) (int, any, error) {
		hidden, err := s.hiddenFrom(r.Context(), id.UserID)
		if err != nil {
			return 0, nil, err
		}
		ms, err := s.memberList(r.Context(), id, r.PathValue("id"), hidden)
		return http.StatusOK, map[string]any{"members": nonNil(ms)}, err
	}))
	m.HandleFunc("GET /api/conversations/{id}/messages", s.apiIn(auth.ActReadHistory, s.messages))
	m.HandleFunc("GET /api/rooms/{id}/policy", s.apiIn(auth.ActViewRoomPolicy, func(r *http.Request, id auth.Identity) (int, any, error) {
		p, err := s.store.RoomPolicy(r.Context(), r.PathValue("id"))
		return http.StatusOK, p, err
	}))
	m.HandleFunc("PUT /api/rooms/{id}/policy", s.apiIn(auth.ActSetRoomPolicy, func(r *http.Request, id auth.Identity) (int, any, error) {
		var p chat.RoomPolicy
		if err := decodeBody(r, &p); err != nil {
			return 0, nil, err
		}
		if err := s.store.SetRoomPolicy(r.Context(), r.PathValue("id"), p); err != nil {
			return 0, nil, err
		}
		s.audit(r.Context(), chat.AuditEntry{Actor: id.UserID, Action: "room.policy", Room: r.PathValue("id"),
			Detail: fmt.Sprintf("hold_imminent=%t", p.HoldImminent)})
		return http.StatusOK, p, nil
	}))
}

// messages pages through a conversation's history, in the same shape as
// the WebSocket's message frames.
func (s *Server) messages(r *http.Request, id auth.Identity) (int, any, error) {
	q := r.URL.Query()
	before, err1 := queryInt(q.Get("before"))
	after, err2 := queryInt(q.Get("after"))
	limit, err3 := queryInt(q.Get("limit"))
	if err := errors.Join(err1, err2, err3); err != nil || (before > 0 && after > 0) {
		return 0, nil, chat.Errorf(chat.CodeInvalidField, "before, after and limit are whole numbers, and only one of before and after may be given")
	}
	if after == 0 && q.Has("after") && before == 0 {
		after = chat.HistoryFromStart // after=0: the first page, not the newest
	}
	conv := r.PathValue("id")
	floor, err := s.store.MemberSince(r.Context(), conv, id.UserID)
	if err != nil {
		return 0, nil, err
	}
	evs, err := s.history(r.Context(), conv, floor, before, after, int(limit))
	if err == nil && staff(id) {
		err = s.auditHistoryRead(r.Context(), id, conv, fmt.Sprintf("before=%d after=%d limit=%d", before, max(after, 0), limit), evs)
	}
	msgs := make([]protocol.Event, len(evs))
	for i := range evs {
		msgs[i] = protocol.EventFrame(&evs[i])
	}
	return http.StatusOK, map[string]any{"messages": msgs}, err
}
