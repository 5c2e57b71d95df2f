// Package hub keeps, on one node, which local connections listen to which
// channel, and hands every publication the broker delivers to exactly those
// connections.
//
// The hub is sharded by channel so that no lock covers all rooms, and it
// never does I/O while holding a lock: Deliver on a subscriber must only
// enqueue. The first local subscriber of a channel subscribes the node to it
// at the broker; the last one to leave unsubscribes it.
package hub

import (
	"context"
	"hash/maphash"
	"sync"

	"github.com/kindred-health/kindred/chat"
)

// Subscriber receives publications. Deliver is called with shard locks
// held and from the broker's delivery goroutine, so it must not block: the
// subscriber enqueues and returns.
type Subscriber interface {
	Deliver(p *chat.Publication)
}

const shardCount = 64

// Hub is one node's subscription table.
type Hub struct {
	broker chat.Broker
	seed   maphash.Seed
	shards [shardCount]shard
}

type shard struct {
	mu     sync.RWMutex
	topics map[string]*topic
}

type topic struct {
	subs []Subscriber
	// pending counts Subscribe calls that are still registering at the
	// broker, so a concurrent Unsubscribe does not remove the broker
	// subscription from under them.
	pending int
}

// New returns a hub that subscribes channels at b.
func New(b chat.Broker) *Hub {
	h := &Hub{broker: b, seed: maphash.MakeSeed()}
	for i := range h.shards {
		h.shards[i].topics = make(map[string]*topic)
	}
	return h
}

func (h *Hub) shard(channel string) *shard {
	return &h.shards[maphash.String(h.seed, channel)%shardCount]
}

// Subscribe adds s to channel. It returns once the node is subscribed at
// the broker, so that a publication made after Subscribe returns reaches s.
// Subscribing the same s twice delivers twice; callers track their own
// subscriptions.
func (h *Hub) Subscribe(ctx context.Context, channel string, s Subscriber) error {
	sh := h.shard(channel)
	sh.mu.Lock()
	t := sh.topics[channel]
	first := t == nil
	if first {
		t = &topic{}
		sh.topics[channel] = t
	}
	t.pending++
	sh.mu.Unlock()

	var err error
	if first {
		err = h.broker.Subscribe(ctx, channel)
	}

	sh.mu.Lock()
	t.pending--
	if err == nil {
		t.subs = append(t.subs, s)
	} else if len(t.subs) == 0 && t.pending == 0 {
		delete(sh.topics, channel)
	}
	sh.mu.Unlock()
	return err
}

// Unsubscribe removes s from channel, and the node from the broker's
// channel when s was its last local subscriber.
func (h *Hub) Unsubscribe(ctx context.Context, channel string, s Subscriber) error {
	sh := h.shard(channel)
	sh.mu.Lock()
	t := sh.topics[channel]
	if t == nil {
		sh.mu.Unlock()
		return nil
	}
	for i, x := range t.subs {
		if x == s {
			last := len(t.subs) - 1
			t.subs[i] = t.subs[last]
			t.subs[last] = nil
			t.subs = t.subs[:last]
			break
		}
	}
	empty := len(t.subs) == 0 && t.pending == 0
	if empty {
		delete(sh.topics, channel)
	}
	sh.mu.Unlock()
	if empty {
		return h.broker.Unsubscribe(ctx, channel)
	}
	return nil
}

// HandlePublication delivers p to every local subscriber of its channel.
func (h *Hub) HandlePublication(p *chat.Publication) {
	sh := h.shard(p.Channel)
	sh.mu.RLock()
	if t := sh.topics[p.Channel]; t != nil {
		for _, s := range t.subs {
			s.Deliver(p)
		}
	}
	sh.mu.RUnlock()
}

// Channels returns how many channels have local subscribers.
func (h *Hub) Channels() int {
	n := 0
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		n += len(sh.topics)
		sh.mu.RUnlock()
	}
	return n
}

// Subscribers returns how many local subscribers channel has.
func (h *Hub) Subscribers(channel string) int {
	sh := h.shard(channel)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if t := sh.topics[channel]; t != nil {
		return len(t.subs)
	}
	return 0
}

// HandleLoss tells every subscriber of every channel that publications may
// have been lost, so each checks its position against the store.
func (h *Hub) HandleLoss() {
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for ch, t := range sh.topics {
			for _, s := range t.subs {
				if r, ok := s.(Resyncer); ok {
					r.Resync(ch)
				}
			}
		}
		sh.mu.RUnlock()
	}
}

// Resyncer is implemented by subscribers that can catch up on a channel
// from the store; Resync must not block.
type Resyncer interface {
	Resync(channel string)
}

var _ chat.BrokerHandler = (*Hub)(nil)
