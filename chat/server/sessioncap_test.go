package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	goredis "github.com/redis/go-redis/v9"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/postgres"
)

// clusterSessionTTL is how long the session count keeps a silent node's
// sessions in cluster tests (--presence-ttl in production).
const clusterSessionTTL = 2 * time.Second

// sessionCap gives every node of a cluster a cap of n sessions per user.
func sessionCap(n int) func(int, *server.Config, *postgres.Store) {
	return func(_ int, cfg *server.Config, _ *postgres.Store) { cfg.MaxSessionsPerUser = n }
}

// tryHello signs token in at node i and returns the session with its
// first frame: the welcome, or the error that refused it.
func (c *cluster) tryHello(i int, token string) (*client, frame) {
	c.t.Helper()
	cl := dialURL(c.t, c.nodes[i].http.URL, nil)
	cl.send(map[string]any{"type": "hello", "token": token})
	return cl, cl.next()
}

// expectTooManySessions checks that token is refused at node i with
// too_many_sessions and close 4029.
func (c *cluster) expectTooManySessions(i int, token, who string) {
	c.t.Helper()
	cl, f := c.tryHello(i, token)
	if f.Code != chat.CodeTooManySessions || !f.Temporary {
		c.t.Fatalf("%s on node %d: got %s, want a temporary too_many_sessions", who, i, f.raw)
	}
	if code := cl.waitClosed(); code != protocol.CloseTooManySessions {
		c.t.Fatalf("%s on node %d: closed with %d, want %d", who, i, code, protocol.CloseTooManySessions)
	}
}

// welcomedOn waits until token signs in at node i and returns the session.
func (c *cluster) welcomedOn(i int, token, what string) *client {
	c.t.Helper()
	var cl *client
	waitFor(c.t, what, func() bool {
		var f frame
		cl, f = c.tryHello(i, token)
		return f.Type == "welcome"
	})
	return cl
}

// A user at the cap on node 0 is refused on node 1 with the documented
// code; closing one session on node 0 frees a slot on node 1, after which
// node 0 refuses in turn. Other users are not limited by hers.
func TestClusterSessionsPerUserAreCapped(t *testing.T) {
	c := newCluster(t, 2, "", sessionCap(2))
	ann, bob := c.token("ann", auth.RolePeer), c.token("bob", auth.RolePeer)
	first := c.dial(0, ann, nil)
	c.dial(0, ann, nil)
	c.expectTooManySessions(1, ann, "ann's third session")
	c.dial(1, bob, nil)
	first.ws.Close(websocket.StatusNormalClosure, "")
	c.welcomedOn(1, ann, "a session on node 1 after one closed on node 0")
	c.expectTooManySessions(0, ann, "ann's third session, back on node 0")
}

// A node that dies without releasing its sessions (cut off from the count,
// then shut down: its releases fail, its heartbeat stops) has them lapse
// within the count's time to live, and the other node admits the user
// up to the cap again.
func TestClusterSessionsOfAKilledNodeLapse(t *testing.T) {
	c := newCluster(t, 2, "", sessionCap(2))
	ann := c.token("ann", auth.RolePeer)
	c.dial(0, ann, nil)
	c.dial(0, ann, nil)
	c.expectTooManySessions(1, ann, "ann's third session")

	c.nodes[0].sessClient.Close()
	killed := time.Now()
	c.stopNode(c.nodes[0])
	// Each of node 0's sessions lapses within the ttl of its last refresh.
	c.welcomedOn(1, ann, "a session on node 1 once one of node 0's lapsed")
	c.welcomedOn(1, ann, "a second session on node 1 once the other lapsed")
	if d := time.Since(killed); d > clusterSessionTTL+3*time.Second {
		t.Fatalf("node 0's sessions lapsed %v after it died, want within the ttl (%v)", d, clusterSessionTTL)
	}
	c.expectTooManySessions(1, ann, "ann's third session on the surviving node")
}

// Sessions that end by revocation, on either node, free their slots
// across the cluster.
func TestClusterRevokedSessionsFreeTheirSlots(t *testing.T) {
	c := newCluster(t, 2, "", sessionCap(1))
	admin, old := c.token("ada", auth.RoleAdmin), c.token("pat", auth.RolePeer)
	s := c.dial(0, old, nil)
	rev := revoke(t, c.env(1), admin, "pat")
	expectRevoked(t, s, time.Now(), "pat's session")
	tok := mintAfter(t, c.signer, rev, "pat")
	c.welcomedOn(1, tok, "a session on node 1 once the revoked one on node 0 ended")
	c.expectTooManySessions(0, tok, "pat's second session")
}

// While Redis is down the cap holds per node (fail open): each node admits
// the user up to the cap and refuses one more with 4029. Once Redis is
// back, the sessions admitted meanwhile are counted across the nodes
// again: over the cap, the user is refused until under it.
func TestClusterSessionCapDuringRedisOutage(t *testing.T) {
	rs := startRedis(t)
	c := newCluster(t, 2, rs.url(), sessionCap(2))
	ann := c.token("ann", auth.RolePeer)
	rs.stop()
	var on0 []*client
	for range 2 {
		for i := range 2 {
			start := time.Now()
			cl := c.dial(i, ann, nil)
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("a hello on node %d without Redis took %v", i, d)
			}
			if i == 0 {
				on0 = append(on0, cl)
			}
		}
	}
	c.expectTooManySessions(0, ann, "a third session on node 0 without Redis")
	c.expectTooManySessions(1, ann, "a third session on node 1 without Redis")

	rs.start()
	opts, _ := goredis.ParseURL(rs.url())
	rc := goredis.NewClient(opts)
	defer rc.Close()
	waitFor(t, "the nodes to write the sessions they admitted without Redis", func() bool {
		n, _ := rc.ZCard(context.Background(), c.prefix+"sessions:ann").Result()
		return n == 4
	})
	// Node 0 has one session of hers left, under the cap on its own: the
	// count across nodes (three) refuses all the same.
	on0[0].ws.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "the closed session to be released", func() bool {
		n, _ := rc.ZCard(context.Background(), c.prefix+"sessions:ann").Result()
		return n == 3
	})
	c.expectTooManySessions(0, ann, "a session on node 0 with four counted")
}

// Sessions that the server ends by its own limits (idle, maximum age)
// free their slot: the user signs in again at a cap of one.
func TestSessionsEndedByLimitsFreeTheirSlots(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit func(*server.Config)
		code  chat.Code
		close websocket.StatusCode
	}{
		{"idle", func(c *server.Config) { c.SessionIdleTimeout = 300 * time.Millisecond }, chat.CodeSessionIdle, protocol.CloseSessionIdle},
		{"max age", func(c *server.Config) { c.SessionMaxAge = 300 * time.Millisecond }, chat.CodeSessionMaxAge, protocol.CloseSessionMaxAge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *server.Config) { c.MaxSessionsPerUser = 1; tc.limit(c) })
			ann := e.token("ann", auth.RolePeer)
			expectEnded(t, e.dial(ann, nil), tc.code, tc.close, "the first session")
			eventually(t, "a session once the first one ended", func() bool {
				c := e.dialRaw(nil)
				c.send(map[string]any{"type": "hello", "token": ann})
				return c.next().Type == "welcome"
			})
		})
	}
}
