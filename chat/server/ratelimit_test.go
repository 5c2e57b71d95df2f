package server

import (
	"fmt"
	"testing"
	"time"
)

// The buckets kept for users with no session are bounded per shard, and
// forgotten once they would have refilled; a held bucket is never
// forgotten.
func TestBucketsBounded(t *testing.T) {
	bs := newBuckets(limits{sendRate: 5, sendBurst: 20, memberRate: 1, memberBurst: 10, reportsPerHour: 10})
	held := bs.acquire("held")
	held.takeMembership(time.Now())
	for i := range bucketShards * maxIdleBuckets * 3 {
		bs.forUser(fmt.Sprint("u", i)).takeMembership(time.Now())
	}
	total := 0
	for i := range bs.shards {
		sh := &bs.shards[i]
		if sh.idle > maxIdleBuckets || len(sh.m) > maxIdleBuckets+1 {
			t.Fatalf("shard %d holds %d buckets (%d idle)", i, len(sh.m), sh.idle)
		}
		total += len(sh.m)
	}
	if total < bucketShards*maxIdleBuckets/4 {
		t.Fatalf("only %d buckets kept: forgotten too eagerly", total)
	}
	if bs.forUser("held") != held {
		t.Fatal("a bucket held by a session was forgotten")
	}
	// A bucket released and used over HTTP is the same budget.
	b := bs.acquire("pat")
	bs.release("pat")
	if bs.forUser("pat") != b {
		t.Fatal("a bucket released a moment ago was forgotten")
	}
	// Once idle for a refill, it goes at the next sweep.
	sh := bs.shard("pat")
	sh.mu.Lock()
	b.idle = time.Now().Add(-bs.ttl - time.Second)
	sh.nextSweep = time.Time{}
	sh.mu.Unlock()
	for i := 0; ; i++ { // someone new in the same shard sweeps it
		if u := fmt.Sprint("new", i); bs.shard(u) == sh {
			bs.forUser(u)
			break
		}
	}
	if bs.forUser("pat") == b {
		t.Fatal("a bucket idle for longer than a refill was kept")
	}
}

func TestRefill(t *testing.T) {
	l := limits{sendRate: 5, sendBurst: 20, memberRate: 1, memberBurst: 10}
	if got := l.refill(); got != 10*time.Second {
		t.Fatalf("refill = %v, want 10s", got)
	}
	l.reportsPerHour = 10
	if got := l.refill(); got != time.Hour {
		t.Fatalf("refill with reports = %v, want 1h", got)
	}
}
