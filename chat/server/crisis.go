package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/protocol"
)

// detect scores a message body: the verdict when it is high or imminent
// (to escalate), and its severity when it is concern or higher (to tell
// the room's facilitators).
func (s *Server) detect(body string) (*crisis.Verdict, crisis.Severity) {
	if s.cfg.Detector == nil {
		return nil, crisis.None
	}
	v := s.cfg.Detector.Detect(body)
	switch {
	case v.Severity >= crisis.High:
		return &v, v.Severity
	case v.Severity >= crisis.Concern:
		return nil, v.Severity
	}
	return nil, crisis.None
}

// escalateThenFinish runs on a crisis worker once a message the detector
// flagged is stored: the escalation is opened (recorded, and the on-call
// supervisor paged) before its sender is acked, so that a crash can only
// leave a crisis message unacked, never acked and unescalated; the
// client's resend is then answered with the original message and opening
// again is idempotent per message. Recording is bounded by
// Config.EscalationTimeout: past it, or when the store fails, the sender
// gets a retryable unavailable error instead of the ack, and the server
// keeps trying in the background. Detection never holds a message back
// (see holdIfPolicy for the room policy that does); it routes to people.
func (s *Server) escalateThenFinish(ctx context.Context, r *commitReq) {
	msg := r.item.Event
	if msg.Kind == chat.EventEdit {
		// An edit escalates as the message it changed, with its new text.
		msg.Kind, msg.Seq, msg.Target = chat.EventMessage, msg.Target, 0
	}
	if !r.item.Duplicate {
		s.metrics.crisis.WithLabelValues(r.crisis.Severity.String()).Inc()
	}
	e, err := s.escalateMessage(ctx, msg, r.crisis)
	if err != nil {
		r.conn.sendError(r.ref, msg.ClientID, msg.Conv, unrecorded(r.item.Event.Kind))
		if !r.item.Duplicate {
			s.published(ctx, &r.item.Event)
		}
	} else {
		s.finish(ctx, r, nil)
	}
	s.sendSupport(r.conn, msg, s.openedState(e, err))
}

// unrecorded is the answer to a crisis write whose escalation is not
// recorded in time. A send is retried with its id (idempotent); an edit is
// not, since resending it would store a second edit: the server keeps
// trying to record its escalation.
func unrecorded(k chat.EventKind) *chat.Error {
	if k == chat.EventEdit {
		return &chat.Error{Code: chat.CodeUnavailable,
			Message: "the edit is stored but its escalation is not recorded yet; the server keeps trying, do not resend it"}
	}
	return &chat.Error{Code: chat.CodeUnavailable, Temporary: true, RetryAfterMS: 1000,
		Message: "the message is stored but its escalation is not recorded yet; resend it with the same id"}
}

// escalateMessage opens the escalation of a flagged message within
// Config.EscalationTimeout, and keeps trying in the background when that
// fails.
func (s *Server) escalateMessage(ctx context.Context, msg chat.Event, v *crisis.Verdict) (*escalation.Escalation, error) {
	e := detectorEscalation(msg, v)
	if v.About == "other" {
		e.Reason = "the message is about someone else"
	}
	return s.recordEscalation(ctx, e)
}

// recordEscalation opens e (a crisis message's) within
// Config.EscalationTimeout, and keeps trying in the background when that
// fails. It returns the escalation as opened (nil without an engine).
func (s *Server) recordEscalation(ctx context.Context, e *escalation.Escalation) (*escalation.Escalation, error) {
	if s.esc == nil {
		s.log.Error("crisis message with no escalation engine configured", "conv", e.Message.Conv, "seq", e.Message.Seq)
		return nil, nil
	}
	e.ID = escalation.NewID("esc_") // kept by the retries
	ctx, cancel := context.WithTimeout(ctx, s.cfg.EscalationTimeout)
	defer cancel()
	opened, err := s.openEscalation(ctx, e)
	if err != nil {
		// The engine has paged whoever is online all the same.
		s.log.Error("escalation not recorded; retrying", "escalation", e.ID, "conv", e.Message.Conv, "err", err)
		s.retryEscalation(e)
		return nil, err
	}
	return opened, nil
}

// detectorEscalation is the escalation of a message the detector flagged.
func detectorEscalation(ev chat.Event, v *crisis.Verdict) *escalation.Escalation {
	return &escalation.Escalation{
		Source: escalation.SourceDetector, Subject: ev.Sender, SubjectName: ev.Name,
		Severity: v.Severity, Categories: v.Categories, Evidence: v.Evidence,
		Message: ev,
	}
}

// holdIfPolicy holds an imminent message back from a room whose policy says
// so: it is stored with its escalation (durable before the ack), the sender
// is acked with held and shown the support frame, and nothing reaches the
// room until a supervisor releases it. It reports whether it held the
// message; when the policy cannot be read, the message is delivered, as by
// default. It runs on the sender's session (one at a time per session).
func (c *conn) holdIfPolicy(ref string, ev chat.Event, v *crisis.Verdict) bool {
	s := c.srv
	if s.esc == nil {
		return false
	}
	p, err := s.store.RoomPolicy(c.quiet, ev.Conv)
	if err != nil || !p.HoldImminent {
		return false
	}
	ev.Time = time.Now().UTC()
	e := detectorEscalation(ev, v)
	e.Reason = "held for a supervisor by the room's policy"
	ctx, cancel := context.WithTimeout(c.ctx, s.cfg.EscalationTimeout)
	defer cancel()
	opened, err := s.openEscalation(ctx, e)
	if err != nil {
		s.log.Error("held message not recorded", "conv", ev.Conv, "err", err)
		c.reject(ref, ev.ClientID, ev.Conv, &chat.Error{Code: chat.CodeUnavailable,
			Message: "the message could not be stored; retry with the same id", Temporary: true, RetryAfterMS: 1000})
		return true
	}
	s.metrics.crisis.WithLabelValues(v.Severity.String()).Inc()
	c.sendDirect(protocol.Encode(protocol.Ack{Type: protocol.TypeAck, Ref: ref, ID: ev.ClientID, Conv: ev.Conv, Time: ev.Time, Held: true}))
	s.sendSupport(c, ev, s.openedState(opened, nil))
	return true
}

// release delivers a held message into its room as its sender wrote it
// (idempotent: the client id makes a second release a duplicate). A
// message that pre-moderation holds too is approved by the release, as
// by a moderator; one the room's moderators rejected stays out.
func (s *Server) release(ctx context.Context, id auth.Identity, e *escalation.Escalation) (*escalation.Escalation, error) {
	if !e.Held() {
		return nil, chat.Errorf(chat.CodeConflict, "this escalation holds no message")
	}
	ev := e.Message
	ev.Seq, ev.Time = 0, time.Time{}
	var it chat.AppendItem
	p, err := s.store.FindPending(ctx, ev.Conv, ev.Sender, ev.ClientID)
	switch {
	case err == nil && p.State == chat.PendingRejected:
		return nil, chat.Errorf(chat.CodeConflict, "the room's moderators rejected this message")
	case err == nil && !p.Decided():
		it, err = s.approvePending(ctx, id, p.Conv, p.ID, "released from escalation "+e.ID)
	case err == nil || chat.ErrorCode(err) == chat.CodeNotFound:
		it, err = s.appendNow(ctx, ev)
	}
	if err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("released the held message into the room as seq %d", it.Event.Seq)
	if it.Duplicate {
		detail = fmt.Sprintf("released again; it was already delivered as seq %d", it.Event.Seq)
	}
	return s.esc.Engine.AddNote(ctx, e.ID, id.UserID, detail)
}

// appendNow appends ev through the committer, as the server's own write,
// and waits for the outcome: an error when the batch failed, or the item
// (a refusal of it is returned as the error too).
func (s *Server) appendNow(ctx context.Context, ev chat.Event) (chat.AppendItem, error) {
	type result struct {
		it  chat.AppendItem
		err error
	}
	res := make(chan result, 1)
	req := &commitReq{item: chat.AppendItem{Event: ev}, done: func(it chat.AppendItem, err error) { res <- result{it, err} }}
	if err := s.commit.submit(ctx, req); err != nil {
		return chat.AppendItem{}, err
	}
	var r result
	select {
	case r = <-res:
	case <-ctx.Done():
		return chat.AppendItem{}, ctx.Err()
	}
	if r.err == nil {
		r.err = r.it.Err
	}
	return r.it, r.err
}

// retryEscalation keeps trying to open e until it is recorded or refused,
// on a goroutine the server owns (it stops with the server, after one last
// try).
func (s *Server) retryEscalation(e *escalation.Escalation) {
	s.bg.Go(func() {
		ctx := context.WithoutCancel(s.ctx)
		backoff := 500 * time.Millisecond
		for attempt := 2; ; attempt++ {
			select {
			case <-s.ctx.Done():
				// Shutting down: one last try, then the client's resend
				// of the unacked message reopens it elsewhere.
				attempt = -1
			case <-time.After(backoff):
				backoff = min(2*backoff, 10*time.Second)
			}
			octx, cancel := context.WithTimeout(ctx, s.cfg.EscalationTimeout)
			_, err := s.esc.Engine.Open(octx, e)
			cancel()
			if err == nil {
				return
			}
			var ce *chat.Error
			if errors.As(err, &ce) && ce.Code != chat.CodeInternal && ce.Code != chat.CodeUnavailable {
				s.log.Error("escalation refused", "escalation", e.ID, "err", err)
				return
			}
			if attempt < 0 {
				s.log.Error("escalation not recorded at shutdown", "escalation", e.ID, "err", err)
				return
			}
			s.log.Error("escalation not recorded; retrying", "escalation", e.ID, "attempt", attempt, "err", err)
		}
	})
}

// openEscalation adds the conversation's name and the messages before the
// flagged one, then opens e.
func (s *Server) openEscalation(ctx context.Context, e *escalation.Escalation) (*escalation.Escalation, error) {
	if s.esc == nil {
		return nil, errNoEscalation
	}
	if e.Conv == "" {
		e.Conv = e.Message.Conv
	}
	if e.Conv != "" {
		if cv, err := s.store.Conversation(ctx, e.Conv); err == nil {
			e.ConvKind, e.ConvName = cv.Kind, cv.Name
		}
		if e.Message.Seq > 0 {
			if hist, err := s.store.History(ctx, e.Conv, e.Message.Seq, 0, escalation.MaxContext); err == nil {
				e.Context = hist
			}
		}
	}
	return s.esc.Engine.Open(ctx, e)
}

var errNoEscalation = &chat.Error{Code: chat.CodeUnavailable, Message: "escalation is not configured on this server"}
