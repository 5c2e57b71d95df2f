package server

import (
	"context"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/protocol"
)

// commitReq is one write waiting for the group commit. The connection that
// asked is told the outcome; the ack leaves only after the commit.
type commitReq struct {
	item chat.AppendItem
	conn *conn
	ref  string
	// crisis is set when the detector scored the text high or imminent.
	crisis *crisis.Verdict
	// concern is the detector's severity when it is concern or higher:
	// the room's owner and moderators are told (alerts.go).
	concern crisis.Severity
	// done, when set, is told the outcome instead of a session: writes
	// made for someone by the server (a held message released by a
	// supervisor). It must not block.
	done func(it chat.AppendItem, err error)
	// answered is set once the writer was acked (or done told), before
	// the event is published.
	answered bool
}

// committer groups writes from every connection into shared transactions:
// one durable commit (an fsync) per batch instead of per message is what
// lets a node store thousands of messages a second while still acking only
// what is on disk. It is the only writer of events on this node. It
// stores, acks and publishes, in commit order, so each conversation's
// publications leave the node in sequence order; it does nothing slow.
// A crisis message goes to the crisis queue instead (crisisqueue.go),
// which records its escalation before its ack, and holds the later events
// of its conversation until then.
type committer struct {
	srv      *Server
	in       chan *commitReq
	maxBatch int
	// linger is how long a batch may wait for more writes after its
	// first one. Every commit is an fsync; at chat rates writes arrive
	// one at a time, and without waiting a little each would pay for
	// its own.
	linger time.Duration
	timer  *time.Timer

	reqs  []*commitReq
	items []chat.AppendItem
	pubs  pubBatch
}

func newCommitter(s *Server, queue, maxBatch int, linger time.Duration) *committer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &committer{
		srv:      s,
		in:       make(chan *commitReq, queue),
		maxBatch: maxBatch,
		linger:   linger,
		timer:    t,
		reqs:     make([]*commitReq, 0, maxBatch),
		items:    make([]chat.AppendItem, 0, maxBatch),
	}
}

// submit queues r, waiting while the committer is full (that back-pressure
// slows only the sending connection's reader).
func (c *committer) submit(ctx context.Context, r *commitReq) error {
	select {
	case c.in <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run commits until ctx ends, then commits whatever is still queued so that
// a write accepted before shutdown is not dropped.
func (c *committer) run(ctx context.Context) {
	for {
		select {
		case r := <-c.in:
			c.reqs = append(c.reqs, r)
		case <-ctx.Done():
			for {
				c.gather()
				if len(c.reqs) == 0 {
					return
				}
				c.commit(context.WithoutCancel(ctx))
			}
		}
		c.gather()
		c.lingerFor(ctx)
		c.commit(ctx)
	}
}

// lingerFor waits up to the linger time for the batch to fill, unless it
// is full already.
func (c *committer) lingerFor(ctx context.Context) {
	if c.linger <= 0 || len(c.reqs) >= c.maxBatch {
		return
	}
	c.timer.Reset(c.linger)
	defer c.timer.Stop()
	for len(c.reqs) < c.maxBatch {
		select {
		case r := <-c.in:
			c.reqs = append(c.reqs, r)
		case <-c.timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// gather takes whatever else is already queued, up to maxBatch, without
// waiting: under load batches grow by themselves, and a lone message is
// committed at once.
func (c *committer) gather() {
	for len(c.reqs) < c.maxBatch {
		select {
		case r := <-c.in:
			c.reqs = append(c.reqs, r)
		default:
			return
		}
	}
}

// commit stores the batch, then answers each write in commit order.
func (c *committer) commit(ctx context.Context) {
	if len(c.reqs) == 0 {
		return
	}
	s := c.srv
	c.items = c.items[:0]
	for _, r := range c.reqs {
		c.items = append(c.items, r.item)
	}
	start := time.Now()
	err := s.store.Append(ctx, c.items)
	s.metrics.storeAppend.Observe(time.Since(start).Seconds())
	s.metrics.commitBatch.Observe(float64(len(c.items)))
	if err != nil {
		s.log.Error("store append failed", "batch", len(c.items), "err", err)
	}
	for i, r := range c.reqs {
		it := &c.items[i]
		r.item = *it
		switch {
		case err != nil:
			r.fail(err)
		case it.Err != nil:
			r.fail(nil)
		default:
			if al, ok := alertFor(r); ok {
				s.alerts.add(al)
			}
			switch {
			case r.crisis != nil:
				s.flushPubs(ctx, &c.pubs)
				s.crisis.add(r)
			case s.crisis.holds(it.Event.Conv):
				// Acked now; published after the crisis message before it.
				s.answer(r)
				r.answered = true
				s.crisis.add(r)
			default:
				s.finish(ctx, r, &c.pubs)
			}
		}
		c.reqs[i] = nil
		c.items[i] = chat.AppendItem{}
	}
	s.flushPubs(ctx, &c.pubs)
	c.reqs = c.reqs[:0]
}

// fail answers a write that was not stored: the whole batch failed (err,
// retryable) or the store refused this item (its own error).
func (r *commitReq) fail(err error) {
	switch {
	case r.done != nil:
		r.done(r.item, err)
	case err != nil:
		r.conn.sendError(r.ref, r.item.Event.ClientID, r.item.Event.Conv, &chat.Error{
			Code: chat.CodeUnavailable, Message: "the message could not be stored; retry with the same id", Temporary: true, RetryAfterMS: 1000,
		})
	default:
		r.conn.sendError(r.ref, r.item.Event.ClientID, r.item.Event.Conv, chat.AsError(r.item.Err))
	}
}

// finish acks a stored write and publishes it (a duplicate is acked and
// not published again): now, or with the rest of b when b is not nil.
// The ack comes first, so that on the sending session it always precedes
// the event itself.
func (s *Server) finish(ctx context.Context, r *commitReq, b *pubBatch) {
	if !r.answered {
		s.answer(r)
	}
	switch {
	case r.item.Duplicate:
	case b != nil:
		s.addPub(b, &r.item.Event)
	default:
		s.published(ctx, &r.item.Event)
	}
	if r.item.Unpinned {
		if b != nil {
			s.flushPubs(ctx, b) // the event before the room's new pins
		}
		// A delete or hide took a pin: the room's new list, read off
		// this goroutine (the committer does nothing slow). Shutdown
		// waits for it: the committer stops before s.bg is waited on.
		conv := r.item.Event.Conv
		s.bg.Go(func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			s.tellPins(ctx, conv)
		})
	}
}

// answer tells the writer of a stored write: an ack, or done.
func (s *Server) answer(r *commitReq) {
	it := &r.item
	if r.done != nil {
		r.done(*it, nil)
		return
	}
	r.conn.sendDirect(protocol.Encode(protocol.Ack{
		Type: protocol.TypeAck, Ref: r.ref, ID: it.Event.ClientID, Conv: it.Event.Conv,
		Seq: it.Event.Seq, Time: it.Event.Time, Duplicate: it.Duplicate,
	}))
}

// published counts a newly stored event and publishes it.
func (s *Server) published(ctx context.Context, e *chat.Event) {
	s.metrics.messagesStored.Inc()
	s.pub.event(ctx, e)
}
