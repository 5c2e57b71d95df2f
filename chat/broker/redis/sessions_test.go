package redis

import (
	"context"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/brokertest"
)

func TestSessionsConformance(t *testing.T) {
	opt := testRedis(t)
	brokertest.RunSessions(t, func(t *testing.T) (chat.SessionCounter, chat.SessionCounter) {
		a, b, _ := twoNodes(t, opt, 10*time.Second, NewSessions)
		return a, b
	})
}

func admit(t *testing.T, s *Sessions, u, sess string, max int) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok, err := s.Admit(ctx, u, sess, max)
	if err != nil {
		t.Fatalf("Admit: %v", err)
	}
	return ok
}

// full reports whether u is at max sessions, as s sees it: a new session
// is refused (or, admitted, released again).
func full(t *testing.T, s *Sessions, u string, max int) bool {
	t.Helper()
	id := fmt.Sprint("probe-", time.Now().UnixNano())
	if !admit(t, s, u, id, max) {
		return true
	}
	if err := s.Release(context.Background(), u, id); err != nil {
		t.Fatal(err)
	}
	return false
}

// A node that stops heartbeating without releasing its sessions (a
// crash) has them lapse within ttl; the live node's stay counted.
func TestSessionsOfAStoppedNodeLapse(t *testing.T) {
	const ttl = 1500 * time.Millisecond
	a, b, stopB := twoNodes(t, testRedis(t), ttl, NewSessions)

	if !admit(t, a, "u", "a1", 3) || !admit(t, b, "u", "b1", 3) || !admit(t, b, "u", "b2", 3) {
		t.Fatal("a session under the cap was refused")
	}
	if admit(t, a, "u", "a2", 3) {
		t.Fatal("a session over the cap was admitted")
	}
	stopB()
	stopped := time.Now()
	// B's two sessions may have been written at different times: each
	// lapses within ttl of its last refresh.
	eventually(t, "the stopped node's first session lapses", func() bool { return admit(t, a, "u", "a2", 3) })
	eventually(t, "the stopped node's second session lapses", func() bool { return admit(t, a, "u", "a3", 3) })
	if d := time.Since(stopped); d > ttl+2*time.Second {
		t.Fatalf("the stopped node's sessions lapsed after %v, want within ttl (%v)", d, ttl)
	}
	// Node A's three sessions stay counted for well over ttl.
	for until := time.Now().Add(2 * ttl); time.Now().Before(until); time.Sleep(100 * time.Millisecond) {
		if admit(t, a, "u", "a4", 3) {
			t.Fatal("a session of the live node lapsed")
		}
	}
}

// Sessions whose entries vanished (Redis restarted without persistence)
// are written again by the heartbeat; released ones are not.
func TestSessionsRestoresVanishedEntries(t *testing.T) {
	opt := testRedis(t)
	prefix := testPrefix(t, opt)
	admin := newClient(t, opt)
	a := NewSessions(newClient(t, opt), prefix, "node-a", 900*time.Millisecond)
	b := NewSessions(newClient(t, opt), prefix, "node-b", 900*time.Millisecond)
	runHeartbeat(t, a.Run)
	ctx := context.Background()
	admit(t, a, "u", "s1", 2)
	admit(t, a, "u", "s2", 2)
	if err := admin.Del(ctx, a.key("u")).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the heartbeat restores the entries", func() bool { return full(t, b, "u", 2) })

	if err := a.Release(ctx, "u", "s1"); err != nil {
		t.Fatal(err)
	}
	if err := admin.Del(ctx, a.key("u")).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // more than a heartbeat interval (ttl/3)
	if full(t, b, "u", 2) || !full(t, b, "u", 1) {
		t.Fatal("want exactly one slot free: the released session came back or the other did not")
	}
}

// With Redis unreachable, Admit answers by this node's own sessions
// within its deadline (the per-node cap) and says why; once Redis is
// back, the sessions admitted meanwhile count across nodes.
func TestSessionsFailOpenToThisNode(t *testing.T) {
	addr := freeAddr(t)
	a := NewSessions(goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1}), "kt:", "node-a", time.Second)
	runHeartbeat(t, a.Run)
	for i, want := range []bool{true, true, false} {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		start := time.Now()
		ok, err := a.Admit(ctx, "u", fmt.Sprint("s", i), 2)
		cancel()
		if err == nil || ok != want {
			t.Fatalf("Admit %d without Redis = %v, %v; want %v and the error", i+1, ok, err, want)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Admit without Redis took %v", d)
		}
	}
	if err := a.Release(context.Background(), "u", "s0"); err == nil {
		t.Fatal("Release without Redis reported no error")
	}
	if ok, _ := a.Admit(context.Background(), "u", "s3", 2); !ok {
		t.Fatal("a slot released without Redis was not free on this node")
	}

	startRedis(t, addr)
	b := NewSessions(newClient(t, &goredis.Options{Addr: addr}), "kt:", "node-b", time.Second)
	eventually(t, "the sessions admitted without Redis count on another node", func() bool {
		return full(t, b, "u", 2)
	})
}

// BenchmarkSessionsAdmit is what the cluster-wide cap adds to a connect
// and its close: Admit (one EVALSHA) and Release (one ZREM).
func BenchmarkSessionsAdmit(b *testing.B) {
	c := goredis.NewClient(testRedis(b))
	defer c.Close()
	s := NewSessions(c, fmt.Sprintf("kindredbench:%d:", time.Now().UnixNano()), "node-a", 10*time.Second)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		id := fmt.Sprint("s", i)
		i++
		if ok, err := s.Admit(ctx, "u", id, 10); !ok || err != nil {
			b.Fatal(ok, err)
		}
		if err := s.Release(ctx, "u", id); err != nil {
			b.Fatal(err)
		}
	}
}
