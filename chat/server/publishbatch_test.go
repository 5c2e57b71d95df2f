package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// countingBroker records how the node publishes its committed events.
type countingBroker struct {
	chat.Broker
	mu      sync.Mutex
	single  int   // sequenced publications through Publish
	batches []int // the size of each PublishBatch
}

func (b *countingBroker) Publish(ctx context.Context, p *chat.Publication) error {
	if p.Seq > 0 {
		b.mu.Lock()
		b.single++
		b.mu.Unlock()
	}
	return b.Broker.Publish(ctx, p)
}

func (b *countingBroker) PublishBatch(ctx context.Context, ps []*chat.Publication) error {
	b.mu.Lock()
	b.batches = append(b.batches, len(ps))
	b.mu.Unlock()
	return b.Broker.PublishBatch(ctx, ps)
}

// The committer publishes each commit batch's events with one
// PublishBatch (one round trip to Redis per batch, not per event), and
// they still arrive once each, in order, after their acks.
func TestCommittedEventsArePublishedInBatches(t *testing.T) {
	cb := &countingBroker{}
	e := newEnv(t)
	e.stop()
	e.brokerWrap = func(b chat.Broker) chat.Broker { cb.Broker = b; return cb }
	e.start()
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoom(ann, "Batches")
	b := e.dial(bob, nil)
	b.join(room.ID)
	a := e.dial(ann, nil)
	a.expectSynced(room.ID)

	const n = 10 // within the send burst
	for i := range n {
		a.send(map[string]any{"type": "send", "conv": room.ID, "id": fmt.Sprint("m", i), "body": "hello"})
	}
	for i := range n {
		id := fmt.Sprint("m", i)
		if f := a.take(func(f frame) bool { return f.Type == "ack" && f.ID == id }); f.Seq != int64(i+1) {
			t.Fatalf("ack %s, want seq %d", f.raw, i+1)
		}
	}
	for i := range n {
		if m := b.expectEvent(room.ID); m.Seq != int64(i+1) {
			t.Fatalf("bob got %s, want seq %d", m.raw, i+1)
		}
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if cb.single != 0 {
		t.Errorf("%d committed events published one by one; want all in batches", cb.single)
	}
	t.Logf("batch sizes %v", cb.batches)
	total := 0
	for _, k := range cb.batches {
		total += k
	}
	// No event published twice, nor missed.
	if total != n {
		t.Errorf("batches %v publish %d events; want the %d messages", cb.batches, total, n)
	}
}
