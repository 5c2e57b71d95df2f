package server

import (
	"context"
	"net/http"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// moderationRoutes: what a room's owner and moderators (and staff) do to
// it: add people (the way into a private room) and change its settings.
func (s *Server) moderationRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /api/rooms/{id}/members", s.apiIn(auth.ActAddMember, func(r *http.Request, id auth.Identity) (int, any, error) {
		var in struct {
			User string `json:"user"`
		}
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		u, err := s.addMember(r.Context(), id, r.PathValue("id"), in.User)
		return http.StatusOK, map[string]any{"member": u}, err
	}))
	m.HandleFunc("PATCH /api/rooms/{id}", s.apiIn(auth.ActSetRoomSettings, func(r *http.Request, id auth.Identity) (int, any, error) {
		var in chat.RoomSettings
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		c, err := s.setRoomSettings(r.Context(), id, r.PathValue("id"), in)
		return http.StatusOK, c, err
	}))
	s.inviteRoutes(m)
	m.HandleFunc("POST /api/rooms/{id}/guidelines/accept", s.apiIn(auth.ActAcceptGuidelines, func(r *http.Request, id auth.Identity) (int, any, error) {
		var in struct {
			Version int64 `json:"version"`
		}
		if r.ContentLength != 0 {
			if err := decodeBody(r, &in); err != nil {
				return 0, nil, err
			}
		}
		v, err := s.acceptGuidelines(r.Context(), id, r.PathValue("id"), in.Version)
		return http.StatusOK, map[string]int64{"guidelines_version": v}, err
	}))
}

// addMember makes user a member of room for by, whose permission the
// route checked: as a join, within the user's room limit, told to the
// user's sessions and to the room. Only users the server knows (who have
// signed in) can be added.
func (s *Server) addMember(ctx context.Context, by auth.Identity, room, user string) (chat.User, error) {
	if user == "" {
		return chat.User{}, chat.Errorf(chat.CodeMissingField, "user is required")
	}
	u, err := s.store.User(ctx, user)
	if err != nil {
		return chat.User{}, err
	}
	if _, err := s.join(ctx, u, room, s.cfg.MaxRoomsPerUser); err != nil {
		return chat.User{}, err
	}
	s.audit(ctx, chat.AuditEntry{Actor: by.UserID, Action: "member.add", Room: room, Target: u.ID})
	return u, nil
}

// setRoomSettings changes room's settings for id, whose permission the
// route checked, and returns the room as id sees it.
func (s *Server) setRoomSettings(ctx context.Context, id auth.Identity, room string, set chat.RoomSettings) (chat.Conversation, error) {
	if set == (chat.RoomSettings{}) {
		return chat.Conversation{}, chat.Errorf(chat.CodeMissingField, "give at least one setting")
	}
	if set.RetainDays != nil {
		if err := s.checkRetention(ctx, id, room, *set.RetainDays); err != nil {
			return chat.Conversation{}, err
		}
	}
	if err := s.store.SetRoomSettings(ctx, room, set); err != nil {
		return chat.Conversation{}, err
	}
	c, err := s.store.Conversation(ctx, room)
	if err != nil {
		return c, err
	}
	if c.Role, err = s.store.MemberRole(ctx, room, id.UserID); err != nil {
		return c, err
	}
	s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "room.settings", Room: room, Detail: settingsDetail(c)})
	s.tellRules(ctx, c)
	return c, nil
}
