package brokertest

import (
	"context"
	"fmt"
	"testing"

	"github.com/kindred-health/kindred/chat"
)

// runBatch checks PublishBatch: the committer publishes a whole commit
// batch with it, events of many conversations interleaved.
func runBatch(t *testing.T, cfg *config, start func(t *testing.T) *pair) {
	cfg.run(t, "PublishBatchKeepsOrderPerChannel", func(t *testing.T) {
		p := start(t)
		// Channels interleaved the way a commit batch interleaves
		// conversations, one never subscribed, and a batch from each
		// node: every subscribed channel arrives complete and in order
		// on every node, the batches' order following Publish's.
		const channels, per = 5, 60
		chs := make([]string, channels)
		for i := range chs {
			chs[i] = channel()
			if i > 0 {
				p.subscribe(t, p.a, chs[i])
				p.subscribe(t, p.b, chs[i])
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		// Seq 1 by Publish, then batches of all channels mixed.
		for _, ch := range chs {
			p.publish(t, p.a, &chat.Publication{Channel: ch, Seq: 1, Data: []byte("1")})
		}
		seq := int64(1)
		for _, from := range []chat.Broker{p.a, p.b, p.a} {
			var batch []*chat.Publication
			for range per / 3 {
				seq++
				for _, ch := range chs {
					batch = append(batch, &chat.Publication{Channel: ch, Seq: seq, Data: []byte(fmt.Sprint(seq))})
				}
			}
			if err := from.PublishBatch(ctx, batch); err != nil {
				t.Fatalf("PublishBatch of %d: %v", len(batch), err)
			}
			// The broker must not keep the slice: the committer
			// reuses it for its next batch.
			clear(batch)
		}
		for _, r := range p.recorders() {
			for _, ch := range chs[1:] {
				r.waitN(t, ch, int(seq))
				got := r.get(ch)
				if len(got) != int(seq) {
					t.Fatalf("%s: %d publications on %q, want %d", r.name, len(got), ch, seq)
				}
				for i, pub := range got {
					if pub.Seq != int64(i+1) || string(pub.Data) != fmt.Sprint(i+1) {
						t.Fatalf("%s: publication %d on %q is seq %d (%q): out of order, lost or duplicated", r.name, i, ch, pub.Seq, pub.Data)
					}
				}
			}
			r.expectNone(t, chs[0])
		}
	})

	cfg.run(t, "PublishBatchEmptyAndSingle", func(t *testing.T) {
		p := start(t)
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := p.a.PublishBatch(ctx, nil); err != nil {
			t.Fatalf("PublishBatch of nothing: %v", err)
		}
		ch := channel()
		p.subscribe(t, p.b, ch)
		want := &chat.Publication{Channel: ch, Seq: 7, Data: []byte("alone")}
		if err := p.a.PublishBatch(ctx, []*chat.Publication{want}); err != nil {
			t.Fatalf("PublishBatch of one: %v", err)
		}
		p.rb.waitN(t, ch, 1)
		p.rb.expect(t, ch, want)
	})
}
