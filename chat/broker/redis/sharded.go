package redis

import (
	"context"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// On a Redis Cluster, the Broker uses sharded Pub/Sub: SPUBLISH reaches
// only the shard (master and replicas) that owns the channel's slot, where
// plain PUBLISH is relayed to every node of the cluster, so fan-out grows
// with the number of shards instead of being bounded by the busiest node.
//
// A node keeps one subscriber connection per master and subscribes each
// channel (SSUBSCRIBE) on the master that owns its slot. The channel name
// is prefix+conversation ID with no hash tag, so conversations spread
// over the 16,384 slots, and therefore over the masters.
//
// The connections to the masters are one subConn: they are opened, and
// dropped, together. When any of them fails, when a master tells this node
// it no longer serves a channel (an unsolicited sunsubscribe: its slot
// moved, or the master became a replica in a failover), or when a
// subscription is answered with MOVED, Run drops them all, reloads the
// cluster's slots, subscribes every channel again on its current master
// and then calls HandleLoss, exactly as after a reconnection to one Redis:
// receivers re-check the Store, so nothing published meanwhile is lost.

// masterFor is the client of the master that owns key's slot on a
// cluster, as the cluster client last saw the slots; nil for one Redis.
func (b *Broker) masterFor(ctx context.Context, key string) (*goredis.Client, error) {
	if b.cluster == nil {
		return nil, nil
	}
	return b.cluster.MasterForKey(ctx, key)
}

// dialCluster reloads the cluster's slots and opens a subscriber
// connection to every master.
func (b *Broker) dialCluster(ctx context.Context) (*subConn, error) {
	var mu sync.Mutex
	var masters []*goredis.Client
	// ForEachMaster reloads the slots first (CLUSTER SLOTS), so a
	// reconnection after a failover finds the new masters.
	err := b.cluster.ForEachMaster(ctx, func(_ context.Context, m *goredis.Client) error {
		mu.Lock()
		masters = append(masters, m)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redis broker: cluster slots: %w", err)
	}
	c := newSubConn()
	c.byMaster = make(map[*goredis.Client]*shard, len(masters))
	for _, m := range masters {
		s := &shard{ps: m.Subscribe(ctx), sharded: true} // no channels: no I/O yet
		c.shards = append(c.shards, s)
		c.byMaster[m] = s
		if err := s.ps.Ping(ctx); err != nil {
			c.close(err)
			return nil, fmt.Errorf("redis broker: master %s: %w", m.Options().Addr, err)
		}
		s.lastRecv.Store(time.Now().UnixNano())
	}
	if len(c.shards) == 0 {
		return nil, fmt.Errorf("redis broker: the cluster has no master")
	}
	return c, nil
}

// restoreCluster writes SSUBSCRIBE for each of keys on the master that
// owns its slot, one command per channel (one SSUBSCRIBE takes channels
// of one slot only). Called with b.mu held: MasterForKey reads the slots
// dialCluster just loaded, without I/O.
func (b *Broker) restoreCluster(ctx context.Context, c *subConn, keys []string) error {
	for _, k := range keys {
		m, err := b.cluster.MasterForKey(ctx, k)
		if err != nil {
			return err
		}
		s := c.byMaster[m]
		if s == nil {
			return errTopology
		}
		if err := s.subscribe(ctx, k); err != nil {
			return err
		}
		c.at[k] = s
	}
	return nil
}
