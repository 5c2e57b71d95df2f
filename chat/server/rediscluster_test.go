package server_test

import (
	"fmt"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/brokertest/rediscluster"
)

// redisClient is a new client of the cluster's Redis, built as kindred
// builds it: a Redis Cluster client when redisURL lists several
// addresses (rediscluster.Cluster.URL), else a client of one Redis.
func (c *cluster) redisClient() goredis.UniversalClient {
	if hosts, ok := strings.CutPrefix(c.redisURL, "redis://"); ok && strings.Contains(hosts, ",") {
		return goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: strings.Split(hosts, ","), ContextTimeoutEnabled: true})
	}
	opts, err := goredis.ParseURL(c.redisURL)
	if err != nil {
		c.t.Fatal(err)
	}
	opts.ContextTimeoutEnabled = true
	return goredis.NewClient(opts)
}

// Two nodes on PostgreSQL and a three-master Redis Cluster (sharded
// pub/sub). Clients on both nodes send into two rooms whose channels live
// on different masters; the master of one is killed while they send and
// comes back empty on its port. Every acked message reaches every member
// on either node once, in order: by pub/sub, or by the catch-up from the
// store that the broker's reconnection triggers.
func TestRedisClusterMasterRestartsMidTraffic(t *testing.T) {
	rc := rediscluster.Start(t, 3)
	c := newCluster(t, 2, rc.URL())
	ann, bob := c.token("ann", auth.RoleSpecialist), c.token("bob", auth.RoleSpecialist)
	cat, dan := c.token("cat", auth.RolePeer), c.token("dan", auth.RolePeer)

	// Two rooms whose channels hash to different masters.
	var rooms []string
	var masters []int
	for len(rooms) < 2 {
		r := c.env(0).createRoom(ann, fmt.Sprint("Sharded ", len(rooms))).ID
		m := rc.NodeOf(c.prefix + r)
		if len(masters) == 0 || masters[0] != m {
			rooms, masters = append(rooms, r), append(masters, m)
		}
	}
	a := c.dial(0, ann, nil) // senders, one per node
	b := c.dial(1, bob, nil)
	k := c.dial(0, cat, nil) // receivers, one per node
	d := c.dial(1, dan, nil)
	for _, r := range rooms {
		a.expectSynced(r)
		for _, cl := range []*client{b, k, d} {
			cl.join(r)
		}
	}

	acked := make([]int64, len(rooms))
	sent := 0
	// send sends n messages into each room, alternately from either node.
	send := func(n int) {
		t.Helper()
		for range n {
			for i, r := range rooms {
				sent++
				from := []*client{a, b}[sent%2]
				f := from.sendMsg(r, fmt.Sprint("m", sent), fmt.Sprint("message ", sent))
				acked[i]++
				if f.Seq != acked[i] {
					t.Fatalf("room %d: ack seq %d, want %d", i, f.Seq, acked[i])
				}
			}
		}
	}
	next := make([]int64, len(rooms))
	for i := range next {
		next[i] = 1
	}
	// check: every client has every acked message of every room, in
	// order, each once, and nothing else.
	check := func() {
		t.Helper()
		for _, cl := range []*client{a, b, k, d} {
			for i, r := range rooms {
				for seq := next[i]; seq <= acked[i]; seq++ {
					if f := cl.expectEvent(r); f.Seq != seq {
						t.Fatalf("room %d: got seq %d, want %d", i, f.Seq, seq)
					}
				}
			}
		}
		for i := range rooms {
			next[i] = acked[i] + 1
		}
	}

	send(20)
	victim := rc.Nodes[masters[0]]
	killed := make(chan struct{})
	go func() { victim.Kill(); close(killed) }()
	send(20) // the master dies somewhere in here
	<-killed
	for i := range c.nodes {
		waitFor(t, fmt.Sprintf("node %d to report degraded", i), func() bool { return readyStatus(c.nodes[i].http.URL) == "degraded" })
	}
	send(10) // stored and acked while the master is down
	victim.Start()
	rc.WaitOK()
	for i := range c.nodes {
		waitFor(t, fmt.Sprintf("node %d to be ready again", i), func() bool { return readyStatus(c.nodes[i].http.URL) == "ready" })
	}
	// No later message reveals the gap: recovery itself must bring what
	// was sent while the master was down.
	check()
	send(10)
	check()
}
