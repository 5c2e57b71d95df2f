package redis

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/kindred-health/kindred/chat"
)

// PublishBatch sends ps through one pipeline: one write and one round
// trip for the whole batch instead of one per publication, which is what
// the committer needs when a commit holds hundreds of events. Redis runs
// the commands of one connection in the order written, so each channel
// keeps its order. Like Publish it fails fast while Redis is known to be
// unreachable and is bounded by the publish timeout, here for the whole
// batch.
//
// Through a cluster client the pipeline is split by node; each channel's
// publications still go, in order, to the one node that owns its slot,
// because they are sent with SPUBLISH (sharded pub/sub), whose channel is
// a key. Plain PUBLISH is keyless and would go to any node, in no order.
func (b *Broker) PublishBatch(ctx context.Context, ps []*chat.Publication) error {
	switch len(ps) {
	case 0:
		return nil
	case 1:
		return b.Publish(ctx, ps[0])
	}
	if b.down.Load() {
		return fmt.Errorf("redis broker: publish a batch of %d: %w", len(ps), ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, b.publishTimeout)
	defer cancel()
	sharded := b.shardedPublish()
	pipe := b.client.Pipeline()
	buf := make([]byte, 0, envelopesSize(ps))
	for _, p := range ps {
		// Each envelope is a slice of one buffer: one allocation for
		// the batch. go-redis writes []byte arguments as they are.
		start := len(buf)
		buf = appendEnvelope(buf, p)
		env := buf[start:len(buf):len(buf)]
		if sharded {
			pipe.SPublish(ctx, b.prefix+p.Channel, env)
		} else {
			pipe.Publish(ctx, b.prefix+p.Channel, env)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		if b.cluster != nil {
			b.cluster.ReloadState(ctx) // as in Publish: find a new master
		}
		return fmt.Errorf("redis broker: publish a batch of %d: %w", len(ps), err)
	}
	return nil
}

// shardedPublish reports whether publications go through sharded pub/sub
// (SPUBLISH), which is the case for a Redis Cluster client: the same test
// as Publish and the subscriber side (SSUBSCRIBE with SPUBLISH, SUBSCRIBE
// with PUBLISH) make.
func (b *Broker) shardedPublish() bool { return b.cluster != nil }

// envelopesSize is the most the envelopes of ps can take.
func envelopesSize(ps []*chat.Publication) int {
	n := 0
	for _, p := range ps {
		n += 1 + binary.MaxVarintLen64 + len(p.Data)
	}
	return n
}

// appendEnvelope appends p's envelope, as encode builds it, to buf.
func appendEnvelope(buf []byte, p *chat.Publication) []byte {
	buf = append(buf, envelopeV1)
	buf = binary.AppendVarint(buf, p.Seq)
	return append(buf, p.Data...)
}
