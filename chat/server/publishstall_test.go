package server_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// hangingBroker is a broker across a network partition: while hung, every
// publish waits for the full timeout of a Redis publish (2 s) and fails,
// as packets are dropped rather than refused.
type hangingBroker struct {
	chat.Broker
	hung      atomic.Bool
	calls     atomic.Int64 // publishes attempted while hung
	published atomic.Int64 // publishes passed on while not hung
}

func (b *hangingBroker) Publish(ctx context.Context, p *chat.Publication) error {
	if b.hung.Load() {
		b.calls.Add(1)
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
		}
		return errors.New("publish: i/o timeout")
	}
	b.published.Add(1)
	return b.Broker.Publish(ctx, p)
}

// PublishBatch hangs as Publish does: the committer publishes a batch's
// events with one call.
func (b *hangingBroker) PublishBatch(ctx context.Context, ps []*chat.Publication) error {
	if b.hung.Load() {
		b.calls.Add(1)
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
		}
		return errors.New("publish: i/o timeout")
	}
	b.published.Add(int64(len(ps)))
	return b.Broker.PublishBatch(ctx, ps)
}

// A broker that hangs must not stall the node: the chaos run (a node cut
// off from Redis for 10 s, docs/reliability.md) found the committer
// publishing inline, one event per publish timeout, so the node stopped
// acking its own clients. Now one failure puts the publisher in failing
// mode: later events are acked and delivered locally at once, and once the
// broker answers again the newest event is republished and publishing
// resumes through it.
func TestHangingBrokerDoesNotStallAcks(t *testing.T) {
	hb := &hangingBroker{}
	e := newEnv(t)
	e.stop()
	e.brokerWrap = func(b chat.Broker) chat.Broker { hb.Broker = b; return hb }
	e.start()
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoom(ann, "Partition")
	b := e.dial(bob, nil)
	b.join(room.ID)
	a := e.dial(ann, nil)
	a.expectSynced(room.ID)

	hb.hung.Store(true)
	const n = 10
	start := time.Now()
	for i := range n {
		a.send(map[string]any{"type": "send", "conv": room.ID, "id": fmt.Sprint("m", i), "body": "still here"})
	}
	for i := range n {
		id := fmt.Sprint("m", i)
		if f := a.take(func(f frame) bool { return f.Type == "ack" && f.ID == id }); f.Seq != int64(i+1) {
			t.Fatalf("ack %s", f.raw)
		}
	}
	// Unfixed, the tenth ack came after nine publish timeouts (18 s).
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("%d acks took %v with the broker hung; want about one publish timeout (2 s)", n, d)
	}
	for i := range n {
		if m := b.expectEvent(room.ID); m.Seq != int64(i+1) {
			t.Fatalf("bob got %s, want seq %d (local delivery while the broker hangs)", m.raw, i+1)
		}
	}
	// The first publish, then the republisher's probes, each hanging 2 s.
	if c, most := hb.calls.Load(), 2+int64(time.Since(start)/(2*time.Second)); c > most {
		t.Errorf("%d publishes tried while hung; want at most %d (the first, then the republisher's retries)", c, most)
	}

	hb.hung.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for !publishesAgain(t, hb, a, b, room.ID) {
		if time.Now().After(deadline) {
			t.Fatal("publishing did not resume through the broker after it answered again")
		}
	}
}

// publishesAgain sends one more message and reports whether it reached bob
// through the broker (the republisher has ended the failing mode), not by
// the local fallback: the broker is called for it.
func publishesAgain(t *testing.T, hb *hangingBroker, a, b *client, conv string) bool {
	t.Helper()
	time.Sleep(500 * time.Millisecond) // the republisher ticks every second
	before := hb.published.Load()
	id := fmt.Sprint("after-", time.Now().UnixNano())
	a.sendMsg(conv, id, "and after")
	if m := b.expectEvent(conv); m.ID != id {
		t.Fatalf("bob got %s, want %s", m.raw, id)
	}
	return hb.published.Load() > before
}
