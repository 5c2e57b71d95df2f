package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// modRequest is the body of a moderation route; every field is optional
// where the route allows it.
type modRequest struct {
	Role    chat.RoomRole `json:"role"`
	User    string        `json:"user"`
	Minutes int64         `json:"minutes"`
	Reason  string        `json:"reason"`
}

// maxReasonBytes caps a moderator's reason, which goes to the audit log.
const maxReasonBytes = 500

// decodeModBody reads a moderation route's body; an empty body (a DELETE
// without a reason) is the zero request.
func decodeModBody(r *http.Request) (modRequest, error) {
	var in modRequest
	data, err := readBody(r)
	if err != nil {
		return in, err
	}
	err = decodeJSON(data, &in)
	switch {
	case errors.Is(err, errEmptyBody):
		return in, nil
	case err != nil:
		return in, chat.Errorf(chat.CodeBadJSON, "the request body is not the JSON object expected")
	case len(in.Reason) > maxReasonBytes:
		return in, chat.Errorf(chat.CodeInvalidField, "a reason can have at most %d bytes", maxReasonBytes)
	case in.Minutes < 0 || in.Minutes > 10*366*24*60:
		return in, chat.Errorf(chat.CodeInvalidField, "minutes is 0 (until lifted) or a number of minutes up to ten years")
	}
	return in, nil
}

// memberModRoutes: naming moderators, and muting, removing and banning
// members (docs/moderation.md). Each route checks the table (apiIn), then
// the rules beside it (checkTarget), then acts, tells the sessions
// concerned on every node, and writes one audit entry.
func (s *Server) memberModRoutes(m *http.ServeMux) {
	m.HandleFunc("PUT /api/rooms/{id}/members/{user}/role", s.modRoute(auth.ActSetMemberRole, s.setMemberRole))
	m.HandleFunc("POST /api/rooms/{id}/members/{user}/mute", s.modRoute(auth.ActModerate, s.mute))
	m.HandleFunc("DELETE /api/rooms/{id}/members/{user}/mute", s.modRoute(auth.ActModerate, s.unmute))
	m.HandleFunc("DELETE /api/rooms/{id}/members/{user}", s.modRoute(auth.ActModerate, s.removeMember))
	m.HandleFunc("POST /api/rooms/{id}/bans", s.modRoute(auth.ActModerate, s.ban))
	m.HandleFunc("DELETE /api/rooms/{id}/bans/{user}", s.modRoute(auth.ActModerate, s.unban))
	// Reading the ban list is not an action: it is not audited.
	m.HandleFunc("GET /api/rooms/{id}/bans", s.apiIn(auth.ActModerate, func(r *http.Request, _ auth.Identity) (int, any, error) {
		bs, err := s.store.Bans(r.Context(), r.PathValue("id"))
		return http.StatusOK, map[string]any{"bans": nonNil(bs)}, err
	}))
}

// modAction is one moderation action on room's member target by id.
type modAction func(ctx context.Context, id auth.Identity, room, target string, in modRequest) error

// modRoute wraps a moderation action: the permission, the body, and the
// target from the path (or, for a ban, the body). It answers {"ok": true}.
func (s *Server) modRoute(a auth.Action, act modAction) http.HandlerFunc {
	return s.apiIn(a, func(r *http.Request, id auth.Identity) (int, any, error) {
		in, err := decodeModBody(r)
		if err != nil {
			return 0, nil, err
		}
		target := r.PathValue("user")
		if target == "" {
			target = in.User
		}
		if target == "" {
			return 0, nil, missing("user")
		}
		if err := act(r.Context(), id, r.PathValue("id"), target, in); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]bool{"ok": true}, nil
	})
}

// isStaff reports whether r moderates every room: supervisors and admins.
func isStaff(r auth.Role) bool { return r == auth.RoleSupervisor || r == auth.RoleAdmin }

// checkTarget applies the rules beside the table to id acting on target
// in room (docs/permissions.md): nobody acts on themselves; only staff act
// on the room's owner; moderators do not act on moderators; and, with
// sanction (mute, remove, ban), nobody acts on staff. It returns the
// target's room role (RoomNone for a non-member).
func (s *Server) checkTarget(ctx context.Context, id auth.Identity, room, target string, sanction bool) (chat.RoomRole, error) {
	if target == id.UserID {
		return chat.RoomNone, chat.Errorf(chat.CodeForbidden, "you cannot moderate yourself")
	}
	u, err := s.store.User(ctx, target)
	if err != nil {
		return chat.RoomNone, err
	}
	if sanction && isStaff(auth.Role(u.Role)) {
		return chat.RoomNone, chat.Errorf(chat.CodeForbidden, "supervisors and admins cannot be muted, removed or banned through room moderation")
	}
	theirs, err := s.store.MemberRole(ctx, room, target)
	if err != nil || isStaff(id.Role) {
		return theirs, err
	}
	mine, err := s.store.MemberRole(ctx, room, id.UserID)
	switch {
	case err != nil:
		return theirs, err
	case theirs == chat.RoomOwner:
		return theirs, chat.Errorf(chat.CodeForbidden, "only a supervisor or an admin can moderate the room's owner")
	case theirs == chat.RoomModerator && mine != chat.RoomOwner:
		return theirs, chat.Errorf(chat.CodeForbidden, "moderators cannot moderate other moderators; the owner or a supervisor can")
	}
	return theirs, nil
}

// tellMembership publishes user's membership of room as it now stands
// (role and mute) on the user's channel, so that their sessions on every
// node update what they check frames against.
func (s *Server) tellMembership(ctx context.Context, room, user string) error {
	c, err := s.membershipOf(ctx, room, user)
	if err != nil {
		return err
	}
	s.pub.frame(ctx, userChannel(user), protocol.ConversationEvent{Type: protocol.TypeConversation, Conversation: c})
	return nil
}

// membershipOf is room as user's news of their membership carries it:
// with their role and mute.
func (s *Server) membershipOf(ctx context.Context, room, user string) (chat.Conversation, error) {
	c, err := s.store.Conversation(ctx, room)
	if err == nil {
		c.Role, err = s.store.MemberRole(ctx, room, user)
	}
	if err == nil {
		c.MutedUntil, err = s.store.MutedUntil(ctx, room, user)
	}
	return c, err
}

func (s *Server) setMemberRole(ctx context.Context, id auth.Identity, room, target string, in modRequest) error {
	if in.Role != chat.RoomModerator && in.Role != chat.RoomMember {
		return chat.Errorf(chat.CodeInvalidField, "role is moderator or member")
	}
	if _, err := s.checkTarget(ctx, id, room, target, false); err != nil {
		return err
	}
	if err := s.store.SetMemberRole(ctx, room, target, in.Role); err != nil {
		return err
	}
	s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "member.role", Room: room, Target: target,
		Reason: in.Reason, Detail: "role=" + string(in.Role)})
	return s.tellMembership(ctx, room, target)
}

// until turns minutes (0: until lifted) into an end in unix nanoseconds.
func until(minutes int64) int64 {
	if minutes == 0 {
		return chat.MutedForever
	}
	return time.Now().Add(time.Duration(minutes) * time.Minute).UnixNano()
}

func (s *Server) mute(ctx context.Context, id auth.Identity, room, target string, in modRequest) error {
	if _, err := s.checkTarget(ctx, id, room, target, true); err != nil {
		return err
	}
	if err := s.store.SetMute(ctx, room, target, until(in.Minutes)); err != nil {
		return err
	}
	s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "member.mute", Room: room, Target: target,
		Reason: in.Reason, Detail: "minutes=" + strconv.FormatInt(in.Minutes, 10)})
	return s.tellMembership(ctx, room, target)
}

func (s *Server) unmute(ctx context.Context, id auth.Identity, room, target string, in modRequest) error {
	if _, err := s.checkTarget(ctx, id, room, target, true); err != nil {
		return err
	}
	if err := s.store.SetMute(ctx, room, target, 0); err != nil {
		return err
	}
	s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "member.unmute", Room: room, Target: target, Reason: in.Reason})
	return s.tellMembership(ctx, room, target)
}

func (s *Server) removeMember(ctx context.Context, id auth.Identity, room, target string, in modRequest) error {
	role, err := s.checkTarget(ctx, id, room, target, true)
	if err != nil {
		return err
	}
	if !role.Valid() {
		return chat.Errorf(chat.CodeNotFound, "this user is not a member of the room")
	}
	if err := s.store.Leave(ctx, room, target); err != nil {
		return err
	}
	s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "member.remove", Room: room, Target: target, Reason: in.Reason})
	s.removed(ctx, room, target)
	return nil
}

// removed tells room that user left and user's sessions, on every node,
// to stop following it.
func (s *Server) removed(ctx context.Context, room, user string) {
	u, err := s.store.User(ctx, user)
	if err != nil {
		u = chat.User{ID: user}
	}
	s.pub.frame(ctx, userChannel(user), protocol.LeftEvent{Type: protocol.TypeLeft, Conv: room})
	s.pub.frame(ctx, room, protocol.MemberEvent{Type: protocol.TypeMember, Conv: room, User: u, Joined: false})
}

func (s *Server) ban(ctx context.Context, id auth.Identity, room, target string, in modRequest) error {
	role, err := s.checkTarget(ctx, id, room, target, true)
	if err != nil {
		return err
	}
	if err := s.store.Ban(ctx, room, target, id.UserID, until(in.Minutes)); err != nil {
		return err
	}
	s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "member.ban", Room: room, Target: target,
		Reason: in.Reason, Detail: "minutes=" + strconv.FormatInt(in.Minutes, 10)})
	if role.Valid() {
		s.removed(ctx, room, target)
	}
	return nil
}

func (s *Server) unban(ctx context.Context, id auth.Identity, room, target string, in modRequest) error {
	if target == id.UserID {
		return chat.Errorf(chat.CodeForbidden, "you cannot moderate yourself")
	}
	if err := s.store.Unban(ctx, room, target); err != nil {
		return err
	}
	s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "member.unban", Room: room, Target: target, Reason: in.Reason})
	return nil
}
