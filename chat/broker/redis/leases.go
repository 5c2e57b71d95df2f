package redis

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// heartbeatBatch bounds the users refreshed per pipeline.
const heartbeatBatch = 512

// leases are one node's entries in per-user sorted sets shared by every
// node: Presence's connections and Sessions' sessions.
//
// Each user has a sorted set, prefix+userID, whose members are entries
// ("nodeID/id") scored with the time, in milliseconds on Redis's clock,
// until which they count. A node refreshes the scores of its own entries
// every ttl/3 (run), so the entries of a node that stops heartbeating
// (crash, partition) lapse within ttl without anyone cleaning up after it.
// Keys expire 2*ttl after their last refresh, so the sets of users nobody
// refreshes any more disappear; every node must use the same ttl.
type leases struct {
	client goredis.UniversalClient
	prefix string
	nodeID string
	ttl    time.Duration

	// offset is Redis's clock minus ours (nanoseconds), measured by every
	// heartbeat, so that scores written by one node and compared by
	// another agree even if the nodes' clocks do not.
	offset atomic.Int64

	// mu guards local, this node's entries: what the heartbeat refreshes
	// and restores.
	mu    sync.Mutex
	local map[string]map[string]struct{} // userID -> ids
}

func newLeases(client goredis.UniversalClient, prefix, nodeID string, ttl time.Duration) leases {
	return leases{client: client, prefix: prefix, nodeID: nodeID, ttl: ttl, local: make(map[string]map[string]struct{})}
}

func (l *leases) key(userID string) string { return l.prefix + userID }
func (l *leases) member(id string) string  { return l.nodeID + "/" + id }
func (l *leases) now() time.Time           { return time.Now().Add(time.Duration(l.offset.Load())) }
func (l *leases) keyTTL() time.Duration    { return 2 * l.ttl }

func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// hold keeps id of userID among this node's entries, if userID has fewer
// than max here (max <= 0: whatever it has), and reports whether it does.
func (l *leases) hold(userID, id string, max int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.local[userID]
	if _, ok := m[id]; ok {
		return true
	}
	if max > 0 && len(m) >= max {
		return false
	}
	if m == nil {
		m = make(map[string]struct{}, 1)
		l.local[userID] = m
	}
	m[id] = struct{}{}
	return true
}

// drop forgets id of userID: the heartbeat no longer refreshes it.
func (l *leases) drop(userID, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m := l.local[userID]; m != nil {
		delete(m, id)
		if len(m) == 0 {
			delete(l.local, userID)
		}
	}
}

// run refreshes this node's entries every ttl/3 until ctx ends, then
// returns nil. A failed heartbeat is retried at the next tick. Stopping
// run without removing the entries is what a crash looks like to the
// other nodes: they lapse within ttl.
func (l *leases) run(ctx context.Context) error {
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		hctx, cancel := context.WithTimeout(ctx, l.ttl/3)
		_ = l.heartbeat(hctx)
		cancel()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// heartbeat measures the clock offset to Redis and pushes the expiry of
// every local entry to now+ttl.
func (l *leases) heartbeat(ctx context.Context) error {
	before := time.Now()
	rt, err := l.client.Time(ctx).Result()
	if err != nil {
		return err
	}
	rtt := time.Since(before)
	l.offset.Store(int64(rt.Sub(before.Add(rtt / 2))))

	l.mu.Lock()
	users := make([]string, 0, len(l.local))
	members := make([][]goredis.Z, 0, len(l.local))
	for u, m := range l.local {
		users = append(users, u)
		zs := make([]goredis.Z, 0, len(m))
		for id := range m {
			zs = append(zs, goredis.Z{Member: l.member(id)})
		}
		members = append(members, zs)
	}
	l.mu.Unlock()

	score := float64(l.now().Add(l.ttl).UnixMilli())
	var missing []string
	for start := 0; start < len(users); start += heartbeatBatch {
		end := min(start+heartbeatBatch, len(users))
		pipe := l.client.Pipeline()
		cmds := make([]*goredis.IntCmd, 0, end-start)
		for i := start; i < end; i++ {
			for j := range members[i] {
				members[i][j].Score = score
			}
			// XX only updates: an entry dropped since the snapshot
			// above must not come back.
			cmds = append(cmds, pipe.ZAddArgs(ctx, l.key(users[i]), goredis.ZAddArgs{XX: true, Ch: true, Members: members[i]}))
			pipe.PExpire(ctx, l.key(users[i]), l.keyTTL())
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		for k, cmd := range cmds {
			if cmd.Val() < int64(len(members[start+k])) {
				missing = append(missing, users[start+k])
			}
		}
	}
	if len(missing) > 0 {
		return l.restore(ctx, missing)
	}
	return nil
}

// restore re-adds the local entries of users whose entries vanished from
// Redis: a Redis restart without persistence, a write that failed, or
// entries pruned while this node was cut off for longer than ttl.
//
// No lock is held across the round trips. An entry dropped while they
// run may have been re-added after its own ZREM, so restore removes
// again whatever it re-added that is no longer local: such an entry
// counts for one round trip at most.
func (l *leases) restore(ctx context.Context, users []string) error {
	back := l.snapshot(users)
	if len(back) == 0 {
		return nil
	}
	score := float64(l.now().Add(l.ttl).UnixMilli())
	pipe := l.client.Pipeline()
	for u, ids := range back {
		zs := make([]goredis.Z, len(ids))
		for i, id := range ids {
			zs[i] = goredis.Z{Score: score, Member: l.member(id)}
		}
		pipe.ZAdd(ctx, l.key(u), zs...)
		pipe.PExpire(ctx, l.key(u), l.keyTTL())
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	gone := l.gone(back)
	if len(gone) == 0 {
		return nil
	}
	pipe = l.client.Pipeline()
	for u, ids := range gone {
		members := make([]any, len(ids))
		for i, id := range ids {
			members[i] = l.member(id)
		}
		pipe.ZRem(ctx, l.key(u), members...)
	}
	_, err := pipe.Exec(ctx)
	return err
}

// snapshot is the local entries of users.
func (l *leases) snapshot(users []string) map[string][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string][]string, len(users))
	for _, u := range users {
		for id := range l.local[u] {
			out[u] = append(out[u], id)
		}
	}
	return out
}

// gone is the entries of snap that are no longer local.
func (l *leases) gone(snap map[string][]string) map[string][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string][]string)
	for u, ids := range snap {
		for _, id := range ids {
			if _, ok := l.local[u][id]; !ok {
				out[u] = append(out[u], id)
			}
		}
	}
	return out
}
