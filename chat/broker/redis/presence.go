package redis

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kindred-health/kindred/chat"
)

var _ chat.Presence = (*Presence)(nil)

// defaultPresenceTTL is used when NewPresence is given a ttl <= 0.
const defaultPresenceTTL = 30 * time.Second

// heartbeatBatch bounds the users refreshed per pipeline.
const heartbeatBatch = 512

// Presence is a chat.Presence shared by every node through Redis.
//
// Each user has a sorted set, prefix+"presence:"+userID, whose members are
// that user's connections ("nodeID/connID") scored with the time, in
// milliseconds on Redis's clock, until which they count as live. A node
// refreshes the scores of its own connections every ttl/3 (Run), so the
// connections of a node that stops heartbeating (crash, partition) drop
// out within ttl without anyone cleaning up after it. Online is one
// pipelined ZCOUNT per user asked: no scan, whatever the number of nodes
// or users.
//
// Keys expire 2*ttl after their last refresh, so the sets of users nobody
// refreshes any more disappear; every node must use the same ttl.
type Presence struct {
	client goredis.UniversalClient
	prefix string
	nodeID string
	ttl    time.Duration

	// offset is Redis's clock minus ours (nanoseconds), measured by every
	// heartbeat, so that scores written by one node and compared by
	// another agree even if the nodes' clocks do not.
	offset atomic.Int64

	// mu guards conns, this node's connections: what the heartbeat
	// refreshes and restores.
	mu    sync.Mutex
	conns map[string]map[string]struct{} // userID -> connIDs
}

// NewPresence returns the presence table of node nodeID (unique per running
// process) under prefix. Connections of this node stay live as long as Run
// runs; if it stops, they expire within ttl.
func NewPresence(client goredis.UniversalClient, prefix, nodeID string, ttl time.Duration) *Presence {
	if ttl <= 0 {
		ttl = defaultPresenceTTL
	}
	return &Presence{
		client: client,
		prefix: prefix,
		nodeID: nodeID,
		ttl:    ttl,
		conns:  make(map[string]map[string]struct{}),
	}
}

func (p *Presence) key(userID string) string    { return p.prefix + "presence:" + userID }
func (p *Presence) member(connID string) string { return p.nodeID + "/" + connID }
func (p *Presence) now() time.Time              { return time.Now().Add(time.Duration(p.offset.Load())) }
func (p *Presence) keyTTL() time.Duration       { return 2 * p.ttl }

func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// Connect records connection connID of userID. The connection is kept
// locally even if Redis fails, so the next heartbeat writes it.
func (p *Presence) Connect(ctx context.Context, userID, connID string) error {
	p.mu.Lock()
	m := p.conns[userID]
	if m == nil {
		m = make(map[string]struct{}, 1)
		p.conns[userID] = m
	}
	m[connID] = struct{}{}
	p.mu.Unlock()

	now := p.now()
	key := p.key(userID)
	pipe := p.client.Pipeline()
	// Connections left behind by crashed nodes go here rather than in
	// Online, which stays read-only.
	pipe.ZRemRangeByScore(ctx, key, "-inf", "("+millis(now))
	pipe.ZAdd(ctx, key, goredis.Z{Score: float64(now.Add(p.ttl).UnixMilli()), Member: p.member(connID)})
	pipe.PExpire(ctx, key, p.keyTTL())
	_, err := pipe.Exec(ctx)
	return err
}

// Disconnect forgets connection connID of userID. If Redis fails, the
// entry is no longer refreshed and expires within ttl.
func (p *Presence) Disconnect(ctx context.Context, userID, connID string) error {
	p.mu.Lock()
	if m := p.conns[userID]; m != nil {
		delete(m, connID)
		if len(m) == 0 {
			delete(p.conns, userID)
		}
	}
	p.mu.Unlock()
	return p.client.ZRem(ctx, p.key(userID), p.member(connID)).Err()
}

// Online reports which of userIDs have a live connection on any node, in
// one round trip.
func (p *Presence) Online(ctx context.Context, userIDs []string) (map[string]bool, error) {
	out := make(map[string]bool, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	now := millis(p.now())
	pipe := p.client.Pipeline()
	cmds := make(map[string]*goredis.IntCmd, len(userIDs))
	for _, id := range userIDs {
		if _, ok := cmds[id]; !ok {
			cmds[id] = pipe.ZCount(ctx, p.key(id), now, "+inf")
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	for id, cmd := range cmds {
		out[id] = cmd.Val() > 0
	}
	return out, nil
}

// Run refreshes this node's connections every ttl/3 until ctx ends, then
// returns nil; call it in its own goroutine. A failed heartbeat is retried
// at the next tick. Stopping Run without disconnecting is what a crash
// looks like to the other nodes: the connections expire within ttl.
func (p *Presence) Run(ctx context.Context) error {
	t := time.NewTicker(p.ttl / 3)
	defer t.Stop()
	for {
		hctx, cancel := context.WithTimeout(ctx, p.ttl/3)
		_ = p.heartbeat(hctx)
		cancel()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// heartbeat measures the clock offset to Redis and pushes the expiry of
// every local connection to now+ttl.
func (p *Presence) heartbeat(ctx context.Context) error {
	before := time.Now()
	rt, err := p.client.Time(ctx).Result()
	if err != nil {
		return err
	}
	rtt := time.Since(before)
	p.offset.Store(int64(rt.Sub(before.Add(rtt / 2))))

	p.mu.Lock()
	users := make([]string, 0, len(p.conns))
	members := make([][]goredis.Z, 0, len(p.conns))
	for u, m := range p.conns {
		users = append(users, u)
		zs := make([]goredis.Z, 0, len(m))
		for c := range m {
			zs = append(zs, goredis.Z{Member: p.member(c)})
		}
		members = append(members, zs)
	}
	p.mu.Unlock()

	score := float64(p.now().Add(p.ttl).UnixMilli())
	var missing []string
	for start := 0; start < len(users); start += heartbeatBatch {
		end := min(start+heartbeatBatch, len(users))
		pipe := p.client.Pipeline()
		cmds := make([]*goredis.IntCmd, 0, end-start)
		for i := start; i < end; i++ {
			for j := range members[i] {
				members[i][j].Score = score
			}
			// XX only updates: a connection disconnected since the
			// snapshot above must not come back.
			cmds = append(cmds, pipe.ZAddArgs(ctx, p.key(users[i]), goredis.ZAddArgs{XX: true, Ch: true, Members: members[i]}))
			pipe.PExpire(ctx, p.key(users[i]), p.keyTTL())
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
		return p.restore(ctx, missing)
	}
	return nil
}

// restore re-adds the local connections of users whose entries vanished
// from Redis: a Redis restart without persistence, a Connect that failed,
// or entries pruned while this node was cut off for longer than ttl.
//
// It holds p.mu across the round trip, which is what makes re-adding
// safe: a Disconnect either removed the connection from p.conns before
// (so it is not re-added) or sends its ZREM after (so it wins).
func (p *Presence) restore(ctx context.Context, users []string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	score := float64(p.now().Add(p.ttl).UnixMilli())
	pipe := p.client.Pipeline()
	n := 0
	for _, u := range users {
		m := p.conns[u]
		if len(m) == 0 {
			continue
		}
		zs := make([]goredis.Z, 0, len(m))
		for c := range m {
			zs = append(zs, goredis.Z{Score: score, Member: p.member(c)})
		}
		pipe.ZAdd(ctx, p.key(u), zs...)
		pipe.PExpire(ctx, p.key(u), p.keyTTL())
		n++
	}
	if n == 0 {
		return nil
	}
	_, err := pipe.Exec(ctx)
	return err
}
