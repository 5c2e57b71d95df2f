package server

import (
	"context"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/protocol"
)

// Pre-moderation (docs/moderation.md#pre-moderation): a plain member's
// first messages in a room that sets premod_messages wait for a
// moderator. The session decides from its cache whether a send is held
// (heldForReview: no store read); the holder stores it, tells the room's
// moderators, and acks it as pending; premodroutes.go lets moderators
// approve it into the room's log or reject it.

// heldForReview reports whether this session's next message in conv
// waits for a moderator: the user is a plain member there (not the
// owner, a moderator or staff) with fewer approved messages than the
// room's premod_messages. Checked on the reader, for sends only.
func (c *conn) heldForReview(conv string) bool {
	if isStaff(c.ident.Role) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.convs[conv]
	return st != nil && st.role == chat.RoomMember && st.rules.premod > st.rules.approved
}

// holdReq is a send that pre-moderation holds.
type holdReq struct {
	conn *conn
	ref  string
	ev   chat.Event // the message: Conv, Sender, Name, ClientID, Body
	// crisis is the detector's verdict when high or imminent: the
	// escalation opens all the same (before the pending ack).
	crisis *crisis.Verdict
}

// holder stores held sends off the sessions' readers, which only queue
// them (waiting only while the queue is full, as for the committer): one
// goroutine owned by the server, in order, so a session's held sends are
// acked in the order sent. Each costs a store write and a read of the
// room's members, never on the committer; a crisis message's escalation
// runs on a goroutine of its own, so a slow one delays nobody else.
// Started with the server; stopped by Shutdown once every session has
// ended (nothing is added after) and before the committer, to which it
// may hand a send already in the log.
type holder struct {
	srv  *Server
	in   chan *holdReq
	done chan struct{}
}

func newHolder(s *Server) *holder {
	return &holder{srv: s, in: make(chan *holdReq, 256), done: make(chan struct{})}
}

func (h *holder) start() {
	go func() {
		defer close(h.done)
		for r := range h.in {
			h.hold(r)
		}
	}()
}

// stop answers what is queued, then ends the goroutine.
func (h *holder) stop() {
	close(h.in)
	<-h.done
}

// submit queues r, waiting while the holder is full.
func (h *holder) submit(ctx context.Context, r *holdReq) error {
	select {
	case h.in <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hold stores one held send and answers it: a new or resent held message
// is acked as pending (after its escalation, for a crisis message); a
// send already in the log goes to the committer, which acks it as the
// duplicate it is; a resend of a rejected message is told so again.
func (h *holder) hold(r *holdReq) {
	s := h.srv
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
	defer cancel()
	ev := &r.ev
	p, created, err := s.store.HoldMessage(ctx, chat.PendingMessage{Conv: ev.Conv, Sender: ev.Sender, Name: ev.Name,
		ClientID: ev.ClientID, Body: ev.Body})
	switch {
	case err != nil:
		if e := chat.AsError(err); e.Code != chat.CodeInternal {
			r.conn.sendError(r.ref, ev.ClientID, ev.Conv, e)
			return
		}
		s.log.Error("held message not stored", "conv", ev.Conv, "err", err)
		r.conn.sendError(r.ref, ev.ClientID, ev.Conv, &chat.Error{Code: chat.CodeUnavailable,
			Message: "the message could not be stored; retry with the same id", Temporary: true, RetryAfterMS: 1000})
		return
	case p.State == chat.PendingApproved:
		req := &commitReq{item: chat.AppendItem{Event: *ev}, conn: r.conn, ref: r.ref, crisis: r.crisis}
		if err := s.commit.submit(ctx, req); err != nil {
			r.conn.sendError(r.ref, ev.ClientID, ev.Conv, errShuttingDown)
		}
		return
	case p.State == chat.PendingRejected:
		r.conn.sendDirect(protocol.Encode(protocol.Rejected{Type: protocol.TypeRejected, Conv: p.Conv, ID: p.ClientID, PendingID: p.ID}))
		return
	}
	if created {
		s.tellModerators(ctx, p.Conv, p.Sender, protocol.PendingNotice{Type: protocol.TypePending, Conv: p.Conv, Pending: p})
	}
	if r.crisis == nil {
		ackPending(r, p)
		return
	}
	if created {
		s.metrics.crisis.WithLabelValues(r.crisis.Severity.String()).Inc()
	}
	s.bg.Go(func() { s.escalateHeld(r, p) })
}

var errShuttingDown = &chat.Error{Code: chat.CodeShuttingDown, Message: "the server is shutting down; resend after reconnecting", Temporary: true}

// ackPending tells the sender that p waits for a moderator.
func ackPending(r *holdReq, p chat.PendingMessage) {
	r.conn.sendDirect(protocol.Encode(protocol.PendingAck{Type: protocol.TypeAck, Ref: r.ref, ID: p.ClientID, Conv: p.Conv,
		Time: p.Time, Pending: true, PendingID: p.ID}))
}

// escalateHeld opens the escalation of a held crisis message, as for any
// crisis message: before the ack, within Config.EscalationTimeout (past
// it the sender is told to resend, and the server keeps trying), then the
// support frame. The escalation holds the message as a policy hold does
// (no sequence number), so that it is the same escalation whichever way
// the message is held, and a resend opens nothing new.
func (s *Server) escalateHeld(r *holdReq, p chat.PendingMessage) {
	ctx := context.WithoutCancel(s.ctx)
	msg := r.ev
	msg.Time = p.Time
	e := detectorEscalation(msg, r.crisis)
	e.Reason = "held for the room's moderators (pre-moderation)"
	opened, err := s.recordEscalation(ctx, e)
	if err != nil {
		r.conn.sendError(r.ref, msg.ClientID, msg.Conv, unrecorded(chat.EventMessage))
	} else {
		ackPending(r, p)
	}
	s.sendSupport(r.conn, msg, s.openedState(opened, err))
}

// tellModerators publishes frame to the user channel of each owner and
// moderator of room conv but except.
func (s *Server) tellModerators(ctx context.Context, conv, except string, frame any) {
	ms, err := s.store.Members(ctx, conv)
	if err != nil {
		s.log.Error("moderators not told: members unavailable", "conv", conv, "err", err)
		return
	}
	data := protocol.Encode(frame)
	for _, m := range ms {
		if (m.RoomRole == chat.RoomOwner || m.RoomRole == chat.RoomModerator) && m.ID != except {
			s.pub.publish(ctx, &chat.Publication{Channel: userChannel(m.ID), Data: data})
		}
	}
}
