package server

import (
	"context"
	"fmt"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// roomRules is what a session caches of a room's settings to check sends
// and edits against without a store read (docs/moderation.md#room-settings).
// It is refreshed by every conversation frame about the room on the
// user's channel: settings news goes to every member's channel.
type roomRules struct {
	readOnly bool
	// slow is the least time between two sends (ns; 0: no slow mode).
	slow int64
	// guideVer is the room's guidelines version when it has guidelines
	// (0 otherwise); guideAcc the version the user accepted.
	guideVer, guideAcc int64
	// premod is how many of a plain member's first messages wait for a
	// moderator (0: none); approved how many of the user's were approved
	// (premod.go).
	premod, approved int
}

// update takes the settings of cv, and the user's acceptance of the
// guidelines and approved messages when cv carries more (news of settings
// carries neither).
func (r *roomRules) update(cv chat.Conversation) {
	r.readOnly = cv.ReadOnly
	r.slow = int64(cv.SlowModeSeconds) * int64(time.Second)
	r.guideVer = 0
	if cv.Guidelines != "" {
		r.guideVer = cv.GuidelinesVersion
	}
	r.guideAcc = max(r.guideAcc, cv.GuidelinesAccepted)
	r.premod = cv.PremodMessages
	// Approvals only add up within a membership (a new one starts a new
	// cache); news that does not carry the count leaves it.
	r.approved = max(r.approved, cv.ApprovedMessages)
}

// admitIn checks frame f against the session's cached state in its
// conversation: the permission for the role there, then, for sends and
// edits (h.mutable), a mute, read-only, the guidelines and (sends) slow
// mode. The owner, moderators, supervisors and admins are bound by
// neither read-only, guidelines nor slow mode. One lock, no allocation.
func (c *conn) admitIn(h *frameHandler, f *protocol.ClientFrame) *chat.Error {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.convs[f.Conv]
	role := chat.RoomNone
	if st != nil {
		role = st.role
	}
	if err := auth.Permit(c.ident, role, h.act); err != nil {
		return chat.AsError(err)
	}
	if !h.mutable || st == nil {
		return nil
	}
	if st.peer != "" && len(c.blocks) > 0 && c.dmClosedLocked(st.peer) {
		return chat.ErrBlocked
	}
	now := time.Now().UnixNano()
	if st.mutedUntil > 0 && now < st.mutedUntil {
		return chat.ErrMuted(st.mutedUntil)
	}
	if role == chat.RoomOwner || role == chat.RoomModerator || c.ident.Role == auth.RoleSupervisor || c.ident.Role == auth.RoleAdmin {
		return nil
	}
	r := &st.rules
	switch {
	case r.readOnly:
		return errReadOnly
	case r.guideVer > r.guideAcc:
		return errGuidelines
	case r.slow > 0 && f.Type == protocol.TypeSend:
		if wait := st.lastSend + r.slow - now; st.lastSend > 0 && wait > 0 {
			return &chat.Error{Code: chat.CodeSlowMode, Message: "this room is in slow mode; wait a moment",
				Temporary: true, RetryAfterMS: max(1, wait/int64(time.Millisecond))}
		}
		st.lastSend = now
	}
	return nil
}

var (
	errReadOnly   = &chat.Error{Code: chat.CodeReadOnly, Message: "only the room's moderators can post here now"}
	errGuidelines = &chat.Error{Code: chat.CodeGuidelinesReq, Message: "accept the room's guidelines before posting"}
)

// joinable refuses a join of room c (as it is now) by someone who is not a
// member yet: the room is locked, or full.
func (s *Server) joinable(ctx context.Context, c chat.Conversation, user string) error {
	if !c.Locked && (c.MaxMembers == 0 || c.Members < c.MaxMembers) {
		return nil
	}
	if role, err := s.store.MemberRole(ctx, c.ID, user); err != nil || role.Valid() {
		return err // joining again is harmless
	}
	if c.Locked {
		return &chat.Error{Code: chat.CodeRoomLocked, Message: "this room is not taking new members; a moderator can add you"}
	}
	return &chat.Error{Code: chat.CodeRoomFull, Message: "this room is full"}
}

// settingsDetail is a room's settings as an audit entry's detail (the
// guidelines by version and length: their text is in the room).
func settingsDetail(c chat.Conversation) string {
	return fmt.Sprintf("visibility=%s history=%s guidelines_version=%d guidelines_bytes=%d locked=%t read_only=%t slow_mode_seconds=%d max_members=%d premod_messages=%d retain_days=%d",
		c.Visibility, c.History, c.GuidelinesVersion, len(c.Guidelines), c.Locked, c.ReadOnly, c.SlowModeSeconds, c.MaxMembers, c.PremodMessages, c.RetainDays)
}

// tellRules publishes room c's settings to every member's channel, so
// that their sessions on every node check frames against them (and their
// clients show them). The news carries no role: it changes no
// membership. Settings change rarely; a room has at most a few hundred
// members.
func (s *Server) tellRules(ctx context.Context, c chat.Conversation) {
	ms, err := s.store.Members(ctx, c.ID)
	if err != nil {
		s.log.Error("settings news not sent", "conv", c.ID, "err", err)
		return
	}
	c.Role, c.MutedUntil, c.GuidelinesAccepted, c.ApprovedMessages = chat.RoomNone, 0, 0, 0
	for _, m := range ms {
		s.pub.frame(ctx, userChannel(m.ID), protocol.ConversationEvent{Type: protocol.TypeConversation, Conversation: c})
	}
}

// acceptGuidelines records that id accepted room's guidelines (version 0:
// as they are now) and tells id's sessions.
func (s *Server) acceptGuidelines(ctx context.Context, id auth.Identity, room string, version int64) (int64, error) {
	v, err := s.store.AcceptGuidelines(ctx, room, id.UserID, version)
	if err != nil {
		return 0, err
	}
	s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "guidelines.accept", Room: room, Detail: fmt.Sprintf("version=%d", v)})
	// The user's sessions learn it with their membership as it stands.
	c, err := s.store.Conversation(ctx, room)
	if err == nil {
		c.Role, err = s.store.MemberRole(ctx, room, id.UserID)
	}
	if err == nil {
		c.MutedUntil, err = s.store.MutedUntil(ctx, room, id.UserID)
	}
	if err != nil {
		return v, err
	}
	c.GuidelinesAccepted = v
	s.pub.frame(ctx, userChannel(id.UserID), protocol.ConversationEvent{Type: protocol.TypeConversation, Conversation: c})
	return v, nil
}
