package server

import (
	"context"
	"fmt"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// DMPolicy says who may open a one-on-one chat with whom
// (docs/moderation.md#one-on-one-chats-and-blocking). Whatever it is,
// anyone may open one with staff (specialists, supervisors, admins), and
// staff with anyone; it decides about two peers.
type DMPolicy string

// The one-on-one policies.
const (
	// DMSharedRoom lets two peers talk one on one when both are members
	// of at least one common room (the default).
	DMSharedRoom DMPolicy = "shared-room"
	// DMStaffOnly lets peers talk one on one with staff only.
	DMStaffOnly DMPolicy = "staff-only"
	// DMAnyone lets anyone talk one on one with anyone.
	DMAnyone DMPolicy = "anyone"
)

// ParseDMPolicy reads a policy by its name; empty is the default.
func ParseDMPolicy(s string) (DMPolicy, error) {
	switch p := DMPolicy(s); p {
	case "":
		return DMSharedRoom, nil
	case DMSharedRoom, DMStaffOnly, DMAnyone:
		return p, nil
	}
	return "", fmt.Errorf("unknown one-on-one policy %q: use shared-room, staff-only or anyone", s)
}

// dmStaff reports whether a global role is staff for the one-on-one
// policy: specialists, supervisors and admins (peers are not).
func dmStaff(role auth.Role) bool {
	return role == auth.RoleSpecialist || isStaff(role)
}

// dmAllowed checks the one-on-one policy for id opening a DM with other.
func (s *Server) dmAllowed(ctx context.Context, id auth.Identity, other chat.User) error {
	if dmStaff(id.Role) || dmStaff(auth.Role(other.Role)) || s.cfg.DMPolicy == DMAnyone {
		return nil
	}
	if s.cfg.DMPolicy == DMStaffOnly {
		return chat.ErrDMNotAllowed
	}
	shared, err := s.store.ShareRoom(ctx, id.UserID, other.ID)
	if err != nil {
		return err
	}
	if !shared {
		return chat.ErrDMNotAllowed
	}
	return nil
}

// openDM opens (or reopens) id's DM with other, as the open_dm frame and
// POST /api/dms ask: the one-on-one policy and blocks either way may
// refuse it, an existing DM included (its history stays readable).
func (s *Server) openDM(ctx context.Context, id auth.Identity, other string) (chat.Conversation, error) {
	return s.startDM(ctx, id, other, false)
}

// openDutyDM opens id's DM with other for an escalation: neither the
// policy nor a block refuses it.
func (s *Server) openDutyDM(ctx context.Context, id auth.Identity, other string) (chat.Conversation, error) {
	return s.startDM(ctx, id, other, true)
}

func (s *Server) startDM(ctx context.Context, id auth.Identity, other string, duty bool) (chat.Conversation, error) {
	if other == "" || other == id.UserID {
		return chat.Conversation{}, chat.Errorf(chat.CodeInvalidField, "choose another user to talk with")
	}
	otherUser, err := s.store.User(ctx, other)
	if err != nil {
		return chat.Conversation{}, err
	}
	if !duty {
		if err := s.dmAllowed(ctx, id, otherUser); err != nil {
			return chat.Conversation{}, err
		}
		mine, theirs, err := s.store.Blocking(ctx, id.UserID, other)
		if err != nil {
			return chat.Conversation{}, err
		}
		if mine || theirs {
			return chat.Conversation{}, chat.ErrBlocked
		}
	}
	c, err := s.store.OpenDM(ctx, id.UserID, other)
	if err != nil {
		return c, err
	}
	// Each side sees the other's name as the conversation's name.
	c.Role = chat.RoomMember
	mine, theirs := c, c
	mine.Name, mine.Peer = otherUser.Name, other
	theirs.Name, theirs.Peer = id.Name, id.UserID
	s.pub.frame(ctx, userChannel(id.UserID), protocol.ConversationEvent{Type: protocol.TypeConversation, Conversation: mine})
	s.pub.frame(ctx, userChannel(other), protocol.ConversationEvent{Type: protocol.TypeConversation, Conversation: theirs})
	s.announceOnline(ctx, c.ID, id.UserID, other)
	return mine, nil
}
