package server

import (
	"context"
	"math"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// The conversation operations below are shared by the WebSocket and HTTP
// front ends, which check the permission first (the frame table, and
// permitIn for routes); they tell every session of the user.

// permitIn checks action a in conversation conv for id, with the room role
// the store has now. A refusal for want of membership of a conversation
// that does not exist is not_found.
func (s *Server) permitIn(ctx context.Context, id auth.Identity, conv string, a auth.Action) (chat.RoomRole, error) {
	role, err := s.store.MemberRole(ctx, conv, id.UserID)
	if err != nil {
		return role, err
	}
	err = auth.Permit(id, role, a)
	if err != nil && role == chat.RoomNone && chat.ErrorCode(err) == chat.CodeNotMember {
		if _, cerr := s.store.Conversation(ctx, conv); cerr != nil {
			return role, cerr
		}
	}
	return role, err
}

// createRoom creates a room owned by id; empty settings get their
// defaults (public, joined history).
func (s *Server) createRoom(ctx context.Context, id auth.Identity, name, topic string, set chat.RoomSettings) (chat.Conversation, error) {
	if name == "" || len(name) > 80 {
		return chat.Conversation{}, chat.Errorf(chat.CodeInvalidField, "a room name needs 1 to 80 characters")
	}
	if len(topic) > 500 {
		return chat.Conversation{}, chat.Errorf(chat.CodeInvalidField, "a room topic can have at most 500 characters")
	}
	if err := set.Check(); err != nil {
		return chat.Conversation{}, err
	}
	set = set.WithDefaults()
	c, err := s.store.CreateRoom(ctx, chat.Conversation{Kind: chat.KindRoom, Name: name, Topic: topic, CreatedBy: id.UserID,
		Visibility: set.Visibility, History: set.History})
	if err != nil {
		return c, err
	}
	c.Role = chat.RoomOwner
	s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "room.create", Room: c.ID,
		Detail: "visibility=" + string(c.Visibility) + " history=" + string(c.History)})
	s.pub.frame(ctx, userChannel(id.UserID), protocol.ConversationEvent{Type: protocol.TypeConversation, Conversation: c})
	return c, nil
}

// joinRoom adds id to room, within Config.MaxRoomsPerUser. A private room
// is joined only by its members (again): to anyone else it is not_found,
// so that private rooms cannot be discovered by guessing ids; a moderator
// adds people to it instead (addMember).
func (s *Server) joinRoom(ctx context.Context, id auth.Identity, room string) (chat.Conversation, error) {
	c, err := s.store.Conversation(ctx, room)
	if err != nil {
		return c, err
	}
	if c.Visibility == chat.VisibilityPrivate {
		role, err := s.store.MemberRole(ctx, room, id.UserID)
		if err != nil {
			return chat.Conversation{}, err
		}
		if !role.Valid() {
			return chat.Conversation{}, chat.ErrNotFound
		}
	}
	if err := s.joinable(ctx, c, id.UserID); err != nil {
		return chat.Conversation{}, err
	}
	return s.join(ctx, identUser(id), room, s.cfg.MaxRoomsPerUser)
}

// join adds u to room and tells the room and u's sessions; limit caps
// u's rooms (0: no cap). It does not look at the room's visibility.
func (s *Server) join(ctx context.Context, u chat.User, room string, limit int) (chat.Conversation, error) {
	if err := s.store.Join(ctx, room, u.ID, limit); err != nil {
		return chat.Conversation{}, err
	}
	c, err := s.store.Conversation(ctx, room)
	if err != nil {
		return c, err
	}
	if c.Role, err = s.store.MemberRole(ctx, room, u.ID); err != nil {
		return c, err
	}
	// Joining again keeps a mute: the news carries it, so that the
	// sessions' cached state keeps it too.
	if c.MutedUntil, err = s.store.MutedUntil(ctx, room, u.ID); err != nil {
		return c, err
	}
	s.pub.frame(ctx, userChannel(u.ID), protocol.ConversationEvent{Type: protocol.TypeConversation, Conversation: c})
	s.pub.frame(ctx, room, protocol.MemberEvent{Type: protocol.TypeMember, Conv: room, User: u, Joined: true})
	if c.Members <= s.cfg.PresenceFanoutMax {
		s.announceOnline(ctx, room, u.ID)
	}
	return c, nil
}

func (s *Server) leaveRoom(ctx context.Context, id auth.Identity, room string) error {
	if _, err := s.store.Conversation(ctx, room); err != nil {
		return err
	}
	if err := s.store.Leave(ctx, room, id.UserID); err != nil {
		return err
	}
	s.pub.frame(ctx, room, protocol.MemberEvent{Type: protocol.TypeMember, Conv: room, User: identUser(id), Joined: false})
	s.pub.frame(ctx, userChannel(id.UserID), protocol.LeftEvent{Type: protocol.TypeLeft, Conv: room})
	return nil
}

// announceOnline tells conv's members which of users are online: sessions
// announce presence only to the conversations they had when they started,
// so a new member would otherwise look offline until they reconnect.
func (s *Server) announceOnline(ctx context.Context, conv string, users ...string) {
	online, err := s.presence.Online(ctx, users)
	if err != nil {
		return
	}
	for _, u := range users {
		if online[u] {
			s.pub.frame(ctx, conv, protocol.Presence{Type: protocol.TypePresence, Conv: conv, User: u, Online: true})
		}
	}
}

// memberList lists conv's members, as id may see them, with presence,
// except that of the hidden users (those who block the asker), shown
// offline. Mutes are shown only to those who may moderate the room, by
// the room role the list itself gives id.
func (s *Server) memberList(ctx context.Context, id auth.Identity, conv string, hidden map[string]bool) ([]chat.Member, error) {
	ms, err := s.store.Members(ctx, conv)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	role := chat.RoomNone
	for i := range ms {
		ids[i] = ms[i].ID
		if ms[i].ID == id.UserID {
			role = ms[i].RoomRole
		}
	}
	online, err := s.presence.Online(ctx, ids)
	if err != nil {
		s.log.Warn("presence lookup failed", "conv", conv, "err", err)
	}
	mayModerate := auth.Permit(id, role, auth.ActModerate) == nil
	for i := range ms {
		ms[i].Online = online[ms[i].ID] && !hidden[ms[i].ID]
		if !mayModerate {
			ms[i].MutedUntil = 0
		}
	}
	return ms, nil
}

// history pages through conv's messages (at most 200 at a time) for a
// reader who may not see messages at or before floor (see
// Store.MemberSince): the page is clamped to what follows floor, keeping
// its direction.
func (s *Server) history(ctx context.Context, conv string, floor, before, after int64, limit int) ([]chat.Event, error) {
	switch {
	case limit <= 0:
		limit = 50
	case limit > 200:
		limit = 200
	}
	if floor > 0 {
		switch {
		case after > 0 || after == chat.HistoryFromStart: // the oldest after max(after, floor)
			after = max(after, floor)
		case before > 0: // the newest between floor and before
			after = floor
		default: // the newest after floor
			before, after = math.MaxInt64, floor
		}
	}
	return s.store.History(ctx, conv, before, after, limit)
}
