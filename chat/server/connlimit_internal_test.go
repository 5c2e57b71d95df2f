package server

import (
	"strconv"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// The connection-rate buckets stay bounded under a flood of addresses,
// refilled ones go first, and an address still out of tokens stays
// limited while room is made for others.
func TestConnRateBucketsAreBounded(t *testing.T) {
	l := newConnLimits(&Config{ConnRatePerAddr: 1, ConnBurstPerAddr: 1})
	l.maxAddrs = 100
	now := time.Now()
	if l.admit("busy", now) != nil {
		t.Fatal("first connection refused")
	}
	l.release("busy")
	// The others are older: refilled by the time busy is not.
	for i := range 99 {
		if l.admit("a"+strconv.Itoa(i), now.Add(-time.Minute)) != nil {
			t.Fatal("refused a new address")
		}
		l.release("a" + strconv.Itoa(i))
	}
	// One more address: the 99 refilled buckets make room, busy stays.
	if l.admit("new", now) != nil {
		t.Fatal("refused a new address")
	}
	l.release("new")
	if n := l.rateAddrs(); n != 2 {
		t.Fatalf("%d buckets after the sweep, want 2 (busy and new)", n)
	}
	if e := l.admit("busy", now); e == nil || e.Code != chat.CodeRateLimited {
		t.Fatalf("busy address was not limited: %v", e)
	}
	// A flood of addresses, none refilled: the map stays bounded.
	for i := range 1000 {
		if e := l.admit("b"+strconv.Itoa(i), now); e != nil {
			t.Fatalf("new address %d refused: %v", i, e)
		}
		l.release("b" + strconv.Itoa(i))
		if n := l.rateAddrs(); n > 100 {
			t.Fatalf("%d buckets kept, want at most 100", n)
		}
	}
	if l.total != 0 || len(l.perAddr) != 0 {
		t.Fatalf("counts not released: total %d, addresses %d", l.total, len(l.perAddr))
	}
}
