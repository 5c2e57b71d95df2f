package redis

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/brokertest"
	"github.com/kindred-health/kindred/chat/brokertest/rediscluster"
)

// The same suites and failures as on one Redis, on a three-master Redis
// Cluster the test starts: the broker on sharded Pub/Sub, presence and
// the session count on keys spread over the masters.

// clusterPrefix is a key prefix of its own, for each subtest of a suite
// sharing one cluster.
func clusterPrefix() string {
	return fmt.Sprintf("kindredtest:%d:", time.Now().UnixNano())
}

func TestClusterBrokerConformance(t *testing.T) {
	rc := rediscluster.Start(t, 3)
	brokertest.Run(t, func(t *testing.T) (chat.Broker, chat.Broker) {
		log, prefix := testLogger(t), clusterPrefix()
		return NewBroker(rc.Client(), prefix, log), NewBroker(rc.Client(), prefix, log)
	})
}

func TestClusterPresenceConformance(t *testing.T) {
	rc := rediscluster.Start(t, 3)
	brokertest.RunPresence(t, func(t *testing.T) (chat.Presence, chat.Presence) {
		prefix := clusterPrefix()
		a, b := NewPresence(rc.Client(), prefix, "node-a", 10*time.Second), NewPresence(rc.Client(), prefix, "node-b", 10*time.Second)
		runHeartbeat(t, a.Run)
		runHeartbeat(t, b.Run)
		return a, b
	})
}

func TestClusterSessionsConformance(t *testing.T) {
	rc := rediscluster.Start(t, 3)
	brokertest.RunSessions(t, func(t *testing.T) (chat.SessionCounter, chat.SessionCounter) {
		prefix := clusterPrefix()
		a, b := NewSessions(rc.Client(), prefix, "node-a", 10*time.Second), NewSessions(rc.Client(), prefix, "node-b", 10*time.Second)
		runHeartbeat(t, a.Run)
		runHeartbeat(t, b.Run)
		return a, b
	})
}

// Conversations spread over the masters: each channel is subscribed on
// the master that owns its slot, and every master has some.
func TestClusterChannelsSpreadOverMasters(t *testing.T) {
	rc := rediscluster.Start(t, 3)
	prefix := clusterPrefix()
	b := NewBroker(rc.Client(), prefix, testLogger(t))
	runBroker(t, b, &recorder{b: b})
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	const n = 60
	for i := range n {
		if err := b.Subscribe(ctx, fmt.Sprintf("r_%012d", i)); err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for i, node := range rc.Nodes {
		c := newClient(t, &goredis.Options{Addr: node.Addr()})
		chans, err := c.Do(ctx, "PUBSUB", "SHARDCHANNELS", prefix+"*").StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range chans {
			if owner := rc.NodeOf(ch); owner != i {
				t.Errorf("%s is subscribed on master %d but served by master %d", ch, i, owner)
			}
		}
		if len(chans) == 0 {
			t.Errorf("master %d serves none of %d conversations", i, n)
		}
		total += len(chans)
	}
	if total != n {
		t.Fatalf("%d shard channels subscribed, want %d", total, n)
	}
}

// A channel's slot moves to another master while subscribed: the old
// master unsubscribes this node (sunsubscribe), which resubscribes on the
// new owner, tells the handler to re-check the store, and delivers again.
func TestClusterSlotMoves(t *testing.T) {
	rc := rediscluster.Start(t, 3)
	prefix := "kindredtest:"
	b := fast(NewBroker(rc.Client(), prefix, testLogger(t)))
	pub := fast(NewBroker(rc.Client(), prefix, testLogger(t)))
	rec := &recorder{b: b}
	runBroker(t, b, rec)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	if err := b.Subscribe(ctx, "room"); err != nil {
		t.Fatal(err)
	}
	seq := int64(0)
	delivered := func(what string) {
		t.Helper()
		seq++
		want := seq
		eventually(t, what, func() bool {
			_ = pub.Publish(ctx, &chat.Publication{Channel: "room", Seq: want, Data: []byte(what)})
			time.Sleep(30 * time.Millisecond)
			return rec.has(want)
		})
	}
	delivered("subscribed")

	from := rc.NodeOf(prefix + "room")
	to := (from + 1) % len(rc.Nodes)
	slot := clusterKeySlot(t, rc, prefix+"room")
	toID := nodeID(t, rc, to)
	// Every master learns the new owner; the target first, as a
	// migration does.
	for _, i := range []int{to, from, (from + 2) % len(rc.Nodes)} {
		c := newClient(t, &goredis.Options{Addr: rc.Nodes[i].Addr()})
		if err := c.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", toID).Err(); err != nil {
			t.Fatalf("SETSLOT on master %d: %v", i, err)
		}
	}
	eventually(t, "HandleLoss after the slot moved", func() bool { return rec.lossCount() > 0 })
	if !rec.healthyAtLoss() {
		t.Fatal("HandleLoss was called before the subscriptions were restored")
	}
	delivered("the slot moved")
	n, err := newClient(t, &goredis.Options{Addr: rc.Nodes[to].Addr()}).Do(ctx, "PUBSUB", "SHARDNUMSUB", prefix+"room").Slice()
	if err != nil || len(n) != 2 || n[1] != int64(1) {
		t.Fatalf("subscribers of room on its new master: %v, %v", n, err)
	}
	if rec.outOfOrder() {
		t.Fatal("publications of room arrived out of order")
	}
}

// A master dies and comes back empty on its port (no replica): the broker
// reports it, fails publications to it fast, restores every subscription
// on every master once it is back, then calls HandleLoss and delivers
// again, on the restarted master and on the others.
func TestClusterMasterRestart(t *testing.T) {
	rc := rediscluster.Start(t, 3)
	prefix := "kindredtest:"
	b := fast(NewBroker(rc.Client(), prefix, testLogger(t)))
	pub := fast(NewBroker(rc.Client(), prefix, testLogger(t)))
	rec := &recorder{b: b}
	runBroker(t, b, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 2*hang)
	defer cancel()
	// One channel per master.
	chans := map[int]string{}
	for i := 0; len(chans) < len(rc.Nodes); i++ {
		ch := fmt.Sprint("room", i)
		if _, ok := chans[rc.NodeOf(prefix+ch)]; !ok {
			chans[rc.NodeOf(prefix+ch)] = ch
			if err := b.Subscribe(ctx, ch); err != nil {
				t.Fatal(err)
			}
		}
	}
	seq := int64(0)
	deliveredAll := func(what string) {
		t.Helper()
		for _, ch := range chans {
			seq++
			want := seq
			eventually(t, what+" on "+ch, func() bool {
				_ = pub.Publish(ctx, &chat.Publication{Channel: ch, Seq: want, Data: []byte(what)})
				time.Sleep(30 * time.Millisecond)
				return rec.has(want)
			})
		}
	}
	deliveredAll("subscribed")

	victim := rc.Nodes[0]
	victim.Kill()
	eventually(t, "not Healthy while a master is down", func() bool { return !b.Healthy() })
	if err := pub.Publish(ctx, &chat.Publication{Channel: chans[0], Seq: 999, Data: []byte("lost")}); err == nil {
		t.Fatal("Publish to the dead master succeeded")
	}
	victim.Start()
	rc.WaitOK()
	eventually(t, "HandleLoss after the master came back", func() bool { return rec.lossCount() > 0 })
	if !rec.healthyAtLoss() {
		t.Fatal("HandleLoss was called before the subscriptions were restored")
	}
	deliveredAll("the master came back")
	for i, ch := range chans {
		c := newClient(t, &goredis.Options{Addr: rc.Nodes[i].Addr()})
		n, err := c.Do(ctx, "PUBSUB", "SHARDNUMSUB", prefix+ch).Slice()
		if err != nil || len(n) != 2 || n[1] != int64(1) {
			t.Fatalf("subscribers of %s on master %d after the restart: %v, %v", ch, i, n, err)
		}
	}
	if rec.outOfOrder() {
		t.Fatal("publications arrived out of order")
	}
}

func clusterKeySlot(t *testing.T, rc *rediscluster.Cluster, key string) int64 {
	t.Helper()
	c := newClient(t, &goredis.Options{Addr: rc.Nodes[0].Addr()})
	slot, err := c.ClusterKeySlot(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return slot
}

func nodeID(t *testing.T, rc *rediscluster.Cluster, i int) string {
	t.Helper()
	c := newClient(t, &goredis.Options{Addr: rc.Nodes[i].Addr()})
	id, err := c.Do(context.Background(), "CLUSTER", "MYID").Text()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(id)
}

// A master dies and its replica takes over: the broker follows the slot
// to the new master, subscribes there, calls HandleLoss once it has, and
// delivers again.
func TestClusterReplicaTakesOver(t *testing.T) {
	rc := rediscluster.StartReplicated(t, 3)
	prefix := "kindredtest:"
	b := fast(NewBroker(rc.Client(), prefix, testLogger(t)))
	pub := fast(NewBroker(rc.Client(), prefix, testLogger(t)))
	rec := &recorder{b: b}
	runBroker(t, b, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 2*hang)
	defer cancel()
	if err := b.Subscribe(ctx, "room"); err != nil {
		t.Fatal(err)
	}
	seq := int64(0)
	delivered := func(what string) {
		t.Helper()
		seq++
		want := seq
		eventually(t, what, func() bool {
			_ = pub.Publish(ctx, &chat.Publication{Channel: "room", Seq: want, Data: []byte(what)})
			time.Sleep(30 * time.Millisecond)
			return rec.has(want)
		})
	}
	delivered("subscribed")

	master := rc.NodeOf(prefix + "room")
	rc.Nodes[master].Kill()
	eventually(t, "HandleLoss after the replica took over", func() bool { return rec.lossCount() > 0 })
	if !rec.healthyAtLoss() {
		t.Fatal("HandleLoss was called before the subscriptions were restored")
	}
	delivered("the replica took over")
	if now := rc.NodeOf(prefix + "room"); now != master+len(rc.Nodes)/2 {
		t.Fatalf("room is served by node %d, want %d, the replica of the dead master %d", now, master+len(rc.Nodes)/2, master)
	}
	if rec.outOfOrder() {
		t.Fatal("publications of room arrived out of order")
	}
}
