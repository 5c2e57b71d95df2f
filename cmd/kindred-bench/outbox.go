package main

import (
	"context"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// The outbox: a connection's sends not yet answered, resent as the
// protocol asks of a client (docs/protocol.md, "Resume: what a client must
// implement", rule 5): after every welcome, with the same id and body, and
// after a temporary error once its retry_after_ms has passed. A send leaves
// the outbox on its ack (a resend of a stored message is acked with
// "duplicate":true and the original seq) or on an error that is not
// temporary. So a node killed, or a database restarted, between a send and
// its ack costs the user nothing, and the store must keep one copy of each.

// outMsg is one unanswered send.
type outMsg struct {
	frame []byte
	due   time.Time // when to write it again; zero: written, awaiting its answer
}

// queueSend puts a send that is about to be written in the outbox.
func (v *vconn) queueSend(id int64, frame []byte) {
	v.mu.Lock()
	v.outbox[strconv.FormatInt(id, 10)] = &outMsg{frame: frame}
	v.mu.Unlock()
	v.e.pending.Add(1)
}

// settle takes the send id out of the outbox, answered for good, and
// reports whether it was there (a second ack, of a resend that crossed the
// first ack, finds nothing).
func (v *vconn) settle(id string) bool {
	v.mu.Lock()
	_, ok := v.outbox[id]
	delete(v.outbox, id)
	v.mu.Unlock()
	if ok {
		v.e.pending.Add(-1)
	}
	return ok
}

// retryLater marks send id to be written again after d.
func (v *vconn) retryLater(id string, d time.Duration) {
	v.mu.Lock()
	if m := v.outbox[id]; m != nil {
		m.due = time.Now().Add(d)
	}
	v.mu.Unlock()
	v.kickResender()
}

// resendAllLocked marks every send in the outbox due now: a new session
// was welcomed. The caller holds v.mu and kicks the resender after.
func (v *vconn) resendAllLocked() {
	now := time.Now()
	for _, m := range v.outbox {
		m.due = now
	}
}

func (v *vconn) kickResender() {
	select {
	case v.kick <- struct{}{}:
	default:
	}
}

// dropOutbox forgets every unanswered send (no reconnect will come to
// resend them) and counts them as never acked.
func (v *vconn) dropOutbox() {
	v.mu.Lock()
	n := int64(len(v.outbox))
	clear(v.outbox)
	v.mu.Unlock()
	v.e.pending.Add(-n)
	v.e.unacked.Add(n)
}

// takeDue returns the frames due at now, marking them written, and the
// earliest later due time (zero if none).
func (v *vconn) takeDue(now time.Time) (frames [][]byte, next time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, m := range v.outbox {
		switch {
		case m.due.IsZero():
		case !m.due.After(now):
			frames = append(frames, m.frame)
			m.due = time.Time{}
		case next.IsZero() || m.due.Before(next):
			next = m.due
		}
	}
	return frames, next
}

// resender writes due sends on session ws until ctx ends (the session's
// end) or a write fails (the session is ending: the next welcome resends).
func (v *vconn) resender(ctx context.Context, ws *websocket.Conn) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		frames, next := v.takeDue(time.Now())
		for _, f := range frames {
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := ws.Write(wctx, websocket.MessageText, f)
			cancel()
			if err != nil {
				return
			}
			v.e.resent.Add(1)
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = time.Until(next)
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-v.kick:
		case <-t.C:
		}
	}
}
