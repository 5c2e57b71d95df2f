package server

import (
	"context"
	"strings"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/protocol"
)

// Escalations raised by people: a member flags a message, a specialist
// raises a concern about a person.

func checkFlag(_ *conn, f *protocol.ClientFrame) *chat.Error {
	if f.Conv == "" || f.Seq <= 0 {
		return chat.Errorf(chat.CodeMissingField, "a flag needs the conversation and the message's seq")
	}
	return nil
}

func checkConcern(_ *conn, f *protocol.ClientFrame) *chat.Error {
	if f.User == "" {
		return missing("user")
	}
	if strings.TrimSpace(f.Reason) == "" {
		return missing("reason")
	}
	return nil
}

func (c *conn) handleFlag(f *protocol.ClientFrame) {
	c.report(f, func() (*escalation.Escalation, error) {
		e, err := c.srv.flag(c.quiet, c.ident, f.Conv, f.Seq, f.Reason)
		if err == nil {
			// The room's facilitators are told too (never who flagged).
			c.srv.alerts.add(roomAlert{conv: f.Conv, seq: f.Seq, sender: e.Message.Sender, severity: crisis.High, source: "flag"})
		}
		return e, err
	})
}

func (c *conn) handleConcern(f *protocol.ClientFrame) {
	if f.Conv != "" {
		// The context named must be one the specialist can read.
		if err := auth.Permit(c.ident, c.roomRole(f.Conv), auth.ActReadHistory); err != nil {
			c.reject(f.Ref, "", f.Conv, chat.AsError(err))
			return
		}
	}
	c.report(f, func() (*escalation.Escalation, error) {
		return c.srv.concern(c.quiet, c.ident, f.User, f.Conv, f.Reason)
	})
}

// report opens an escalation raised by hand (the frame table capped how
// many a user raises: each one pages people).
func (c *conn) report(f *protocol.ClientFrame, open func() (*escalation.Escalation, error)) {
	e, err := open()
	if err != nil {
		c.reject(f.Ref, "", f.Conv, chat.AsError(err))
		return
	}
	c.srv.log.Info("escalation raised by hand", "escalation", e.ID, "source", e.Source, "user", c.ident.UserID)
	c.sendDirect(protocol.Encode(protocol.Flagged{Type: protocol.TypeFlagged, Ref: f.Ref, Escalation: e.ID}))
}

// flag opens (or joins) an escalation about message seq of conv, flagged
// by a member (the frame table checked the membership).
func (s *Server) flag(ctx context.Context, id auth.Identity, conv string, seq int64, reason string) (*escalation.Escalation, error) {
	msg, err := s.visibleMessage(ctx, id.UserID, conv, seq)
	if err != nil {
		return nil, err
	}
	if msg.Sender == id.UserID {
		// Flagging one's own message is a way of asking for help; keep it.
		reason = strings.TrimSpace("flagged their own message. " + reason)
	}
	return s.openEscalation(ctx, &escalation.Escalation{
		Source: escalation.SourceFlag, Subject: msg.Sender, SubjectName: msg.Name, ReportedBy: id.UserID,
		Reason: reason, Severity: crisis.High, Message: msg,
	})
}

// visibleMessage returns message seq of conv, which user may see: said
// after they joined a room whose history starts at the join, and not
// deleted.
func (s *Server) visibleMessage(ctx context.Context, user, conv string, seq int64) (chat.Event, error) {
	floor, err := s.store.MemberSince(ctx, conv, user)
	if err != nil {
		return chat.Event{}, err
	}
	if seq <= floor {
		return chat.Event{}, chat.ErrNotFound // said before they joined: not theirs to see
	}
	// The newest message before seq+1: with "after seq-1" the first
	// message of a conversation (after 0 means "no bound") could not be
	// found.
	evs, err := s.store.History(ctx, conv, seq+1, 0, 1)
	if err != nil {
		return chat.Event{}, err
	}
	if len(evs) == 0 || evs[0].Seq != seq {
		return chat.Event{}, chat.ErrNotFound
	}
	if evs[0].Deleted {
		return chat.Event{}, chat.ErrDeleted
	}
	return evs[0], nil
}

// concern opens an escalation about a person, raised by a specialist.
func (s *Server) concern(ctx context.Context, id auth.Identity, subject, conv, reason string) (*escalation.Escalation, error) {
	u, err := s.store.User(ctx, subject)
	if err != nil {
		return nil, err
	}
	return s.openEscalation(ctx, &escalation.Escalation{
		Source: escalation.SourceConcern, Subject: subject, SubjectName: u.Name, ReportedBy: id.UserID,
		Reason: reason, Severity: crisis.High, Conv: conv,
	})
}
