package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/hub"
)

// BenchmarkFanout1000 delivers one publication to 1,000 local sessions of
// one room through the hub: the per-recipient cost of a broadcast. The
// frame is encoded once; each recipient only queues a pointer to it, so
// the allocations per operation must stay at zero whatever the number of
// recipients (no writer runs here: the queues are emptied between rounds).
func BenchmarkFanout1000(b *testing.B) {
	const n = 1000
	s := &Server{cfg: DefaultConfig(), metrics: newMetrics(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := hub.New(nopBroker{}, hub.Options{})
	defer h.Close()
	conns := make([]*conn, n)
	for i := range conns {
		c := &conn{srv: s, id: fmt.Sprint(i), userCh: "user:x", convs: map[string]*convState{"room": {}}, writing: true}
		c.queue = make([]*chat.Publication, 0, 8)
		if err := h.Subscribe(context.Background(), "room", c); err != nil {
			b.Fatal(err)
		}
		conns[i] = c
	}
	p := &chat.Publication{Channel: "room", Data: []byte(`{"type":"message"}`)}
	b.ReportAllocs()
	seq := int64(0)
	for b.Loop() {
		seq++
		p.Seq = seq
		h.HandlePublication(p)
		for _, c := range conns {
			c.queue = c.queue[:0]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/recipient")
}

type nopBroker struct{}

func (nopBroker) Run(ctx context.Context, _ chat.BrokerHandler) error { <-ctx.Done(); return nil }
func (nopBroker) Publish(context.Context, *chat.Publication) error    { return nil }
func (nopBroker) PublishBatch(context.Context, []*chat.Publication) error {
	return nil
}
func (nopBroker) Subscribe(context.Context, string) error   { return nil }
func (nopBroker) Unsubscribe(context.Context, string) error { return nil }
