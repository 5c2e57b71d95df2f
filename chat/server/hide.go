package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// messageModRoutes: what moderators do to messages (docs/moderation.md):
// hide them, and pin them.
func (s *Server) messageModRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /api/rooms/{id}/messages/{seq}/hide", s.apiIn(auth.ActModerate, s.hideRoute))
}

// hideAnswer is the answer of the hide route: the hide event's seq and
// the message it hid.
type hideAnswer struct {
	Conv   string `json:"conv"`
	Seq    int64  `json:"seq"`
	Target int64  `json:"target"`
}

func (s *Server) hideRoute(r *http.Request, id auth.Identity) (int, any, error) {
	in, err := decodeModBody(r)
	if err != nil {
		return 0, nil, err
	}
	seq, err := pathSeq(r)
	if err != nil {
		return 0, nil, err
	}
	room := r.PathValue("id")
	hideSeq, err := s.hide(r.Context(), id, room, seq, in.Reason)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, hideAnswer{Conv: room, Seq: hideSeq, Target: seq}, nil
}

// pathSeq reads the {seq} of a route: a message's sequence number.
func pathSeq(r *http.Request) (int64, error) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq <= 0 {
		return 0, chat.Errorf(chat.CodeInvalidField, "seq is a message's sequence number")
	}
	return seq, nil
}

// roomMessage returns message seq of room conv as stored (a room's, not
// a DM's), or ErrNotFound.
func (s *Server) roomMessage(ctx context.Context, conv string, seq int64) (chat.Event, error) {
	if err := s.isRoom(ctx, conv); err != nil {
		return chat.Event{}, err
	}
	evs, err := s.store.History(ctx, conv, seq+1, seq-1, 1)
	if err != nil {
		return chat.Event{}, err
	}
	if len(evs) != 1 || evs[0].Seq != seq {
		return chat.Event{}, chat.Errorf(chat.CodeNotFound, "no message %d in this room", seq)
	}
	return evs[0], nil
}

// isRoom is nil when conv is a room, ErrNotFound for a DM or no
// conversation.
func (s *Server) isRoom(ctx context.Context, conv string) error {
	c, err := s.store.Conversation(ctx, conv)
	if err != nil {
		return err
	}
	if c.Kind != chat.KindRoom {
		return chat.Errorf(chat.CodeNotFound, "messages are hidden and pinned in rooms only")
	}
	return nil
}

// hideWait bounds how long the hide route waits for the committer, which
// answers every write it takes; only a node stopping could leave one
// unanswered.
const hideWait = 30 * time.Second

// hide hides message seq of room for moderator id, whose permission the
// route checked: a hide event through the committer (acked once durable,
// published to the room, without the moderator's name), and one audit
// entry, with the reason, unless the message was hidden already. It
// returns the hide event's seq (the earlier one's, for a repeat).
func (s *Server) hide(ctx context.Context, id auth.Identity, room string, seq int64, reason string) (int64, error) {
	msg, err := s.roomMessage(ctx, room, seq)
	if err != nil {
		return 0, err
	}
	type result struct {
		it  chat.AppendItem
		err error
	}
	res := make(chan result, 1)
	req := &commitReq{
		item: chat.AppendItem{Event: chat.Event{Conv: room, Kind: chat.EventHide, Sender: id.UserID, Target: seq}},
		done: func(it chat.AppendItem, err error) { res <- result{it, err} },
	}
	if err := s.commit.submit(ctx, req); err != nil {
		return 0, err
	}
	// Once submitted, the hide happens whatever the caller does: wait
	// for it, so that the audit entry is written exactly when it did.
	var out result
	select {
	case out = <-res:
	case <-time.After(hideWait):
		return 0, &chat.Error{Code: chat.CodeUnavailable, Message: "the hide was not confirmed in time; try again", Temporary: true}
	}
	switch {
	case out.err != nil:
		return 0, &chat.Error{Code: chat.CodeUnavailable, Message: "the hide could not be stored; try again", Temporary: true, RetryAfterMS: 1000}
	case out.it.Err != nil:
		return 0, out.it.Err
	}
	if !out.it.Duplicate {
		s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "message.hide", Room: room, Target: msg.Sender,
			Reason: reason, Detail: "seq=" + strconv.FormatInt(seq, 10)})
	}
	return out.it.Event.Seq, nil
}
