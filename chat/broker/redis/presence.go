package redis

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kindred-health/kindred/chat"
)

var _ chat.Presence = (*Presence)(nil)

// defaultPresenceTTL is used when NewPresence is given a ttl <= 0.
const defaultPresenceTTL = 30 * time.Second

// Presence is a chat.Presence shared by every node through Redis.
//
// Each user has a sorted set, prefix+"presence:"+userID, whose members are
// that user's connections ("nodeID/connID") scored with the time until
// which they count as live, refreshed by this node's heartbeat (Run; see
// leases), so the connections of a node that stops heartbeating drop out
// within ttl. Online is one pipelined ZCOUNT per user asked: no scan,
// whatever the number of nodes or users. Every node must use the same ttl.
type Presence struct {
	leases
}

// NewPresence returns the presence table of node nodeID (unique per running
// process) under prefix. Connections of this node stay live as long as Run
// runs; if it stops, they expire within ttl.
func NewPresence(client goredis.UniversalClient, prefix, nodeID string, ttl time.Duration) *Presence {
	if ttl <= 0 {
		ttl = defaultPresenceTTL
	}
	return &Presence{leases: newLeases(client, prefix+"presence:", nodeID, ttl)}
}

// Connect records connection connID of userID. The connection is kept
// locally even if Redis fails, so the next heartbeat writes it.
func (p *Presence) Connect(ctx context.Context, userID, connID string) error {
	p.hold(userID, connID, 0)
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
	p.drop(userID, connID)
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
func (p *Presence) Run(ctx context.Context) error { return p.run(ctx) }
