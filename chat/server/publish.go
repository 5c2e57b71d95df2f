package server

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/hub"
	"github.com/kindred-health/kindred/chat/protocol"
)

// publisher hands frames to the broker. When the broker fails, this node's
// own sessions still get the frame straight from the hub, and the newest
// event of each conversation is published again once the broker works:
// other nodes cannot know an event exists until something carrying its
// sequence reaches them, and their hubs then fill the gap from the store.
// Ephemeral frames are only lost elsewhere.
//
// A broker that fails may fail slowly: across a network partition every
// call waits for its timeout (2 s for Redis). The committer publishes
// inline, so after one failure the publisher stops calling the broker
// (failing) and delivers locally at once, until republish has seen the
// broker answer again: an outage costs the committer one timeout, not one
// per event, and the node keeps acking its own clients meanwhile.
type publisher struct {
	broker chat.Broker
	hub    *hub.Hub
	log    *slog.Logger

	failing atomic.Bool

	mu sync.Mutex
	// unpublished holds, per conversation, the newest event whose
	// publication failed, until republish gets it through.
	unpublished map[string]*chat.Publication
}

// event encodes a committed event once and publishes it to its
// conversation.
func (p *publisher) event(ctx context.Context, e *chat.Event) {
	p.publish(ctx, &chat.Publication{Channel: e.Conv, Seq: e.Seq, Data: protocol.EncodeEvent(e)})
}

// frame encodes an ephemeral frame and publishes it on channel.
func (p *publisher) frame(ctx context.Context, channel string, frame any) {
	p.publish(ctx, &chat.Publication{Channel: channel, Data: protocol.Encode(frame)})
}

func (p *publisher) publish(ctx context.Context, pub *chat.Publication) {
	if !p.failing.Load() {
		err := p.broker.Publish(ctx, pub)
		if err == nil {
			return
		}
		if !p.failing.Swap(true) {
			p.log.Warn("publish failed; delivering locally until the broker answers, then republishing", "channel", pub.Channel, "seq", pub.Seq, "err", err)
		}
	}
	p.local(pub)
}

// batch publishes pubs with one broker call (one round trip to Redis for
// a whole commit batch), in order, with publish's failure handling: when
// the call fails, every one of them is delivered locally and remembered
// for republish (the hub drops one it also got through the broker).
func (p *publisher) batch(ctx context.Context, pubs []*chat.Publication) {
	if len(pubs) == 0 {
		return
	}
	if !p.failing.Load() {
		err := p.broker.PublishBatch(ctx, pubs)
		if err == nil {
			return
		}
		if !p.failing.Swap(true) {
			p.log.Warn("publish failed; delivering locally until the broker answers, then republishing", "batch", len(pubs), "err", err)
		}
	}
	for _, pub := range pubs {
		p.local(pub)
	}
}

// local hands pub to this node's hub, and remembers a sequenced one as
// its conversation's newest unpublished event.
func (p *publisher) local(pub *chat.Publication) {
	p.hub.HandlePublication(pub)
	if pub.Seq > 0 {
		p.mu.Lock()
		if old := p.unpublished[pub.Channel]; old == nil || old.Seq < pub.Seq {
			p.unpublished[pub.Channel] = pub
		}
		p.mu.Unlock()
	}
}

// pubBatch collects the events of one commit batch, each encoded once, so
// that the committer publishes them with one broker call once the batch
// is acked (publisher.batch). Only the committer's goroutine uses it.
type pubBatch struct {
	pubs []*chat.Publication
}

// addPub counts a newly stored event and queues it for publication.
func (s *Server) addPub(b *pubBatch, e *chat.Event) {
	s.metrics.messagesStored.Inc()
	b.pubs = append(b.pubs, &chat.Publication{Channel: e.Conv, Seq: e.Seq, Data: protocol.EncodeEvent(e)})
}

// flushPubs publishes what b holds, in order, and empties it. The
// committer calls it at the end of each batch and before handing a write
// to the crisis queue, whose worker publishes that conversation's later
// events: the earlier ones must be on their way first.
func (s *Server) flushPubs(ctx context.Context, b *pubBatch) {
	if len(b.pubs) == 0 {
		return
	}
	s.pub.batch(ctx, b.pubs)
	clear(b.pubs)
	b.pubs = b.pubs[:0]
}

// probeChannel is published to (nothing) to see whether a failing broker
// answers again when no event waits to be republished. Nobody subscribes
// to it.
const probeChannel = "kindred:publish-probe"

// republish retries, every interval until ctx ends, the newest event of
// each conversation whose publication failed, and ends the failing state
// once the broker has taken them all (or, with none, a probe).
func (p *publisher) republish(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		pending := make([]*chat.Publication, 0, len(p.unpublished))
		for _, pub := range p.unpublished {
			pending = append(pending, pub)
		}
		p.mu.Unlock()
		if len(pending) == 0 && p.failing.Load() {
			pending = append(pending, &chat.Publication{Channel: probeChannel})
		}
		if p.republishAll(ctx, pending) {
			p.mu.Lock()
			if len(p.unpublished) == 0 && p.failing.Swap(false) {
				p.log.Info("the broker answers again; publishing resumed")
			}
			p.mu.Unlock()
		}
	}
}

// republishAll publishes pending in turn and reports whether all went
// through; it stops at the first failure (still down: next tick).
func (p *publisher) republishAll(ctx context.Context, pending []*chat.Publication) bool {
	for _, pub := range pending {
		if err := p.broker.Publish(ctx, pub); err != nil {
			return false
		}
		if pub.Channel == probeChannel {
			continue
		}
		p.mu.Lock()
		if p.unpublished[pub.Channel] == pub {
			delete(p.unpublished, pub.Channel)
		}
		p.mu.Unlock()
		p.log.Info("republished after broker recovery", "channel", pub.Channel, "seq", pub.Seq)
	}
	return true
}

// eventsAfter is the one path from the store to subscribers: the events of
// conv with after < Seq <= upto (upto 0: no bound), at most limit, encoded
// as they are published. The hub fills gaps with it (it is the hub's
// Filler) and sessions resume with it.
func (s *Server) eventsAfter(ctx context.Context, conv string, after, upto int64, limit int) ([]*chat.Publication, error) {
	if upto > 0 {
		limit = int(min(int64(limit), upto-after))
	}
	evs, err := s.store.EventsAfter(ctx, conv, after, limit)
	if err != nil {
		return nil, err
	}
	pubs := make([]*chat.Publication, 0, len(evs))
	for i := range evs {
		if upto > 0 && evs[i].Seq > upto {
			break
		}
		pubs = append(pubs, &chat.Publication{Channel: conv, Seq: evs[i].Seq, Data: protocol.EncodeEvent(&evs[i])})
	}
	return pubs, nil
}
