package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// premodRoutes: the queue of a room's held messages and the moderators'
// decisions on them (docs/moderation.md#pre-moderation), behind the
// moderate permission. Each decision writes one audit entry and is told
// to the room's owner and moderators (pending_done); a rejection to the
// sender's sessions too (rejected), an approval to the whole room (the
// message itself).
func (s *Server) premodRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/rooms/{id}/pending", s.apiIn(auth.ActModerate, func(r *http.Request, id auth.Identity) (int, any, error) {
		ps, err := s.store.PendingMessages(r.Context(), r.PathValue("id"))
		return http.StatusOK, map[string]any{"pending": nonNil(ps)}, err
	}))
	m.HandleFunc("POST /api/rooms/{id}/pending/{pid}/approve", s.apiIn(auth.ActModerate, func(r *http.Request, id auth.Identity) (int, any, error) {
		in, err := decodeModBody(r)
		if err != nil {
			return 0, nil, err
		}
		it, err := s.approvePending(r.Context(), id, r.PathValue("id"), r.PathValue("pid"), in.Reason)
		return http.StatusOK, map[string]int64{"seq": it.Event.Seq}, err
	}))
	m.HandleFunc("POST /api/rooms/{id}/pending/{pid}/reject", s.apiIn(auth.ActModerate, func(r *http.Request, id auth.Identity) (int, any, error) {
		in, err := decodeModBody(r)
		if err != nil {
			return 0, nil, err
		}
		err = s.rejectPending(r.Context(), id, r.PathValue("id"), r.PathValue("pid"), in.Reason)
		return http.StatusOK, map[string]bool{"ok": true}, err
	}))
}

// approvePending appends held message pid of room to the room's log as
// its sender's message, with its client id, through the committer, for id
// (whose permission the caller checked). The message is claimed first
// (PendingApproving), so that nobody rejects it while it is appended; the
// append is idempotent on the client id, so an approval interrupted after
// it (a store failure, a crash) is finished by approving again. When the
// sender is no longer a member the claim is given back.
func (s *Server) approvePending(ctx context.Context, id auth.Identity, room, pid, reason string) (chat.AppendItem, error) {
	p, _, err := s.store.DecidePending(ctx, room, pid, chat.PendingApproving)
	if err != nil {
		return chat.AppendItem{}, err
	}
	it, err := s.appendNow(ctx, chat.Event{Conv: room, Kind: chat.EventMessage, Sender: p.Sender, Name: p.Name,
		ClientID: p.ClientID, Body: p.Body})
	if it.Err != nil {
		if _, _, uerr := s.store.DecidePending(ctx, room, pid, chat.PendingWaiting); uerr != nil {
			s.log.Error("held message left claimed", "conv", room, "pending", pid, "err", uerr)
		}
		if errors.Is(it.Err, chat.ErrNotMember) {
			err = chat.Errorf(chat.CodeConflict, "the sender is no longer a member of the room; reject the message, or approve it if they come back")
		}
	}
	if err != nil {
		return chat.AppendItem{}, err
	}
	_, n, err := s.store.DecidePending(ctx, room, pid, chat.PendingApproved)
	if err != nil {
		return chat.AppendItem{}, err // a concurrent approval settled it
	}
	s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "message.approve", Room: room, Target: p.Sender,
		Reason: reason, Detail: "pending=" + pid})
	s.tellModerators(ctx, room, "", protocol.PendingDone{Type: protocol.TypePendingDone, Conv: room, ID: pid, Outcome: string(chat.PendingApproved)})
	if n > 0 {
		s.tellApproved(ctx, room, p.Sender, n)
	}
	return it, nil
}

// rejectPending deletes held message pid's text for id (whose permission
// the caller checked) and tells its sender's sessions; the reason goes to
// the audit log only.
func (s *Server) rejectPending(ctx context.Context, id auth.Identity, room, pid, reason string) error {
	p, _, err := s.store.DecidePending(ctx, room, pid, chat.PendingRejected)
	if err != nil {
		return err
	}
	s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "message.reject", Room: room, Target: p.Sender,
		Reason: reason, Detail: "pending=" + pid})
	s.tellModerators(ctx, room, "", protocol.PendingDone{Type: protocol.TypePendingDone, Conv: room, ID: pid, Outcome: string(chat.PendingRejected)})
	s.pub.frame(ctx, userChannel(p.Sender), protocol.Rejected{Type: protocol.TypeRejected, Conv: room, ID: p.ClientID, PendingID: pid})
	return nil
}

// tellApproved tells user's sessions, on every node, their membership of
// room with approved messages counted, so that they stop holding the
// user's sends once there are enough (and the client knows).
func (s *Server) tellApproved(ctx context.Context, room, user string, approved int) {
	c, err := s.membershipOf(ctx, room, user)
	if err != nil {
		s.log.Error("approval not told", "conv", room, "err", err)
		return
	}
	c.ApprovedMessages = approved
	s.pub.frame(ctx, userChannel(user), protocol.ConversationEvent{Type: protocol.TypeConversation, Conversation: c})
}
