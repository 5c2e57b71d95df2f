// Package memory is the in-process Broker, Presence and Sessions of the
// embedded default: one node, no network. Publications go straight to the
// node's handler on the publisher's goroutine, which keeps the order in
// which the committer published them.
package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/kindred-health/kindred/chat"
)

var (
	_ chat.Broker   = (*Broker)(nil)
	_ chat.Presence = (*Presence)(nil)
)

// Broker delivers publications within one process. It never loses one,
// so it never calls HandleLoss.
type Broker struct {
	mu       sync.RWMutex
	handler  chat.BrokerHandler
	channels map[string]struct{}
	ready    chan struct{} // closed once Run has installed the handler
	once     sync.Once
}

// NewBroker returns an in-process broker.
func NewBroker() *Broker {
	return &Broker{channels: make(map[string]struct{}), ready: make(chan struct{})}
}

// Run installs h and waits for ctx to end.
func (b *Broker) Run(ctx context.Context, h chat.BrokerHandler) error {
	b.mu.Lock()
	b.handler = h
	b.mu.Unlock()
	b.once.Do(func() { close(b.ready) })
	<-ctx.Done()
	b.mu.Lock()
	b.handler = nil
	b.mu.Unlock()
	return nil
}

// Publish hands p to the handler if its channel is subscribed, waiting
// for Run to start if needed. It runs the handler synchronously, so one
// publisher's publications are delivered in publish order.
func (b *Broker) Publish(ctx context.Context, p *chat.Publication) error {
	select {
	case <-b.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.mu.RLock()
	h := b.handler
	_, ok := b.channels[p.Channel]
	b.mu.RUnlock()
	if ok && h != nil {
		h.HandlePublication(p)
	}
	return nil
}

// PublishBatch hands each of ps to the handler in turn, as Publish does.
func (b *Broker) PublishBatch(ctx context.Context, ps []*chat.Publication) error {
	for _, p := range ps {
		if err := b.Publish(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// Subscribe marks channel as wanted by this node.
func (b *Broker) Subscribe(_ context.Context, channel string) error {
	b.mu.Lock()
	b.channels[channel] = struct{}{}
	b.mu.Unlock()
	return nil
}

// Unsubscribe stops delivery of channel.
func (b *Broker) Unsubscribe(_ context.Context, channel string) error {
	b.mu.Lock()
	delete(b.channels, channel)
	b.mu.Unlock()
	return nil
}

// Presence counts live connections per user in this process. A user's
// connection IDs are kept in a small slice: almost every user has one.
type Presence struct {
	mu    sync.Mutex
	conns map[string][]string
}

// NewPresence returns an empty in-process presence table.
func NewPresence() *Presence {
	return &Presence{conns: make(map[string][]string)}
}

// Connect records connection connID of userID.
func (p *Presence) Connect(_ context.Context, userID, connID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := p.conns[userID]
	if !slices.Contains(ids, connID) {
		p.conns[userID] = append(ids, connID)
	}
	return nil
}

// Disconnect forgets connection connID of userID.
func (p *Presence) Disconnect(_ context.Context, userID, connID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := p.conns[userID]
	if i := slices.Index(ids, connID); i >= 0 {
		ids = slices.Delete(ids, i, i+1)
		if len(ids) == 0 {
			delete(p.conns, userID)
		} else {
			p.conns[userID] = ids
		}
	}
	return nil
}

// Online reports which of userIDs have at least one connection.
func (p *Presence) Online(_ context.Context, userIDs []string) (map[string]bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]bool, len(userIDs))
	for _, id := range userIDs {
		out[id] = len(p.conns[id]) > 0
	}
	return out, nil
}
