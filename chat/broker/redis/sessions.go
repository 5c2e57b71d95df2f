package redis

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kindred-health/kindred/chat"
)

var _ chat.SessionCounter = (*Sessions)(nil)

// Sessions is a chat.SessionCounter shared by every node through Redis,
// so that a cap on sessions per user holds across the cluster.
//
// Each user has a sorted set, prefix+"sessions:"+userID, of their
// sessions ("nodeID/sessID") scored with the time until which they count,
// refreshed by this node's heartbeat (Run; see leases). Admit is one Lua
// script, atomic in Redis: drop the lapsed entries, count, add if under
// the cap. So:
//   - a crashed node's sessions (or those of a node cut off from Redis)
//     lapse within ttl, and other nodes admit new ones in their place;
//   - while Redis cannot be reached, Admit falls back to this node's own
//     sessions (the cap then holds per node, as without Redis), and the
//     heartbeat writes the sessions it admitted meanwhile once Redis is
//     back: a user who got more than the cap that way keeps those
//     sessions, and is refused new ones until under it again;
//   - a Release that fails leaves its entry to lapse within ttl.
//
// Every node must use the same ttl.
type Sessions struct {
	leases
}

// admitScript: KEYS[1] the user's set; ARGV now and expiry (Redis ms),
// the member, the cap, the key's time to live (ms). 1: admitted.
var admitScript = goredis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
	return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`)

// NewSessions returns the session count of node nodeID (unique per running
// process) under prefix. This node's sessions count as long as Run runs;
// if it stops, they lapse within ttl (<= 0: 30 s).
func NewSessions(client goredis.UniversalClient, prefix, nodeID string, ttl time.Duration) *Sessions {
	if ttl <= 0 {
		ttl = defaultPresenceTTL
	}
	return &Sessions{leases: newLeases(client, prefix+"sessions:", nodeID, ttl)}
}

// Admit counts sessID of userID unless the user has max sessions on the
// nodes that share the count, in one round trip. When Redis does not
// answer before ctx ends, it counts by this node's sessions instead and
// returns the error with the answer.
func (s *Sessions) Admit(ctx context.Context, userID, sessID string, max int) (bool, error) {
	now := s.now()
	n, err := admitScript.Run(ctx, s.client, []string{s.key(userID)},
		now.UnixMilli(), now.Add(s.ttl).UnixMilli(), s.member(sessID), max, s.keyTTL().Milliseconds()).Int()
	if err != nil {
		// Perhaps written all the same: held, the heartbeat refreshes it;
		// refused here, it lapses.
		return s.hold(userID, sessID, max), err
	}
	if n == 0 {
		return false, nil
	}
	s.hold(userID, sessID, 0)
	return true, nil
}

// Release uncounts sessID of userID. When Redis fails, the entry is no
// longer refreshed and lapses within ttl.
func (s *Sessions) Release(ctx context.Context, userID, sessID string) error {
	s.drop(userID, sessID)
	return s.client.ZRem(ctx, s.key(userID), s.member(sessID)).Err()
}

// Run refreshes this node's sessions every ttl/3 until ctx ends, then
// returns nil. Stopping it without releasing them is what a crash looks
// like to the other nodes: the sessions lapse within ttl.
func (s *Sessions) Run(ctx context.Context) error { return s.run(ctx) }
