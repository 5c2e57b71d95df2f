package server

import (
	"strings"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/protocol"
)

// checkWrite validates a send, edit or delete frame's fields.
func checkWrite(c *conn, f *protocol.ClientFrame) *chat.Error {
	if f.Conv == "" {
		return missing("conv")
	}
	switch f.Type {
	case protocol.TypeSend:
		if f.ID == "" {
			return missing("id")
		}
		if len(f.ID) > 64 || strings.ContainsRune(f.ID, 0) {
			return chat.Errorf(chat.CodeInvalidField, "a message id is at most 64 bytes, without NUL characters")
		}
	default:
		if f.Seq <= 0 {
			return missing("seq")
		}
	}
	if f.Type == protocol.TypeDelete {
		return nil
	}
	if strings.TrimSpace(f.Body) == "" {
		return missing("body")
	}
	if max := c.srv.cfg.MaxMessageBytes; len(f.Body) > max {
		return chat.Errorf(chat.CodeMessageTooLong, "messages can have at most %d bytes", max)
	}
	// NUL is valid UTF-8 but PostgreSQL cannot store it; refuse it in
	// every mode so clients see one behaviour.
	if strings.ContainsRune(f.Body, 0) {
		return chat.Errorf(chat.CodeInvalidField, "messages may not contain NUL characters")
	}
	return nil
}

// handleWrite hands a checked send, edit or delete to the committer; the
// ack follows the commit. The crisis detector scores the text here, on
// the sender's reader, so its cost is spread over sessions and never
// delays the committer.
func (c *conn) handleWrite(f *protocol.ClientFrame) {
	s := c.srv
	if ok, wait := c.bucket.take(time.Now()); !ok {
		c.reject(f.Ref, f.ID, f.Conv, &chat.Error{
			Code: chat.CodeRateLimited, Message: "you are sending too fast; wait a moment",
			Temporary: true, RetryAfterMS: max(1, wait.Milliseconds()),
		})
		return
	}
	// Strings decoded from the frame are not retained beyond it except in
	// ev, which owns fresh copies made by encoding/json.
	ev := chat.Event{Conv: f.Conv, Sender: c.ident.UserID, Name: c.ident.Name}
	switch f.Type {
	case protocol.TypeSend:
		ev.Kind, ev.ClientID, ev.Body = chat.EventMessage, f.ID, f.Body
	case protocol.TypeEdit:
		ev.Kind, ev.Target, ev.Body = chat.EventEdit, f.Seq, f.Body
	case protocol.TypeDelete:
		ev.Kind, ev.Target = chat.EventDelete, f.Seq
	}
	s.metrics.messagesIn.Inc()
	req := &commitReq{item: chat.AppendItem{Event: ev}, conn: c, ref: f.Ref}
	if ev.Kind != chat.EventDelete {
		req.crisis, req.concern = s.detect(ev.Body)
	}
	if req.crisis != nil && req.crisis.Severity == crisis.Imminent && ev.Kind == chat.EventMessage {
		// The room may hold such messages for a supervisor. The policy
		// and the escalation live in the database: off the reader's stack.
		held := false
		done := make(chan struct{})
		go func() {
			defer close(done)
			held = c.holdIfPolicy(f.Ref, ev, req.crisis)
		}()
		<-done
		if held {
			return
		}
	}
	if ev.Kind == chat.EventMessage && c.heldForReview(f.Conv) {
		// Pre-moderation: stored for the room's moderators, off the
		// reader, never on the committer.
		if err := s.premod.submit(c.ctx, &holdReq{conn: c, ref: f.Ref, ev: ev, crisis: req.crisis}); err != nil {
			c.sendError(f.Ref, f.ID, f.Conv, errShuttingDown)
		}
		return
	}
	if err := s.commit.submit(c.ctx, req); err != nil {
		c.sendError(f.Ref, f.ID, f.Conv, errShuttingDown)
	}
}
