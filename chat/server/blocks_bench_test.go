package server

import (
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// BenchmarkAdmitSendDM is BenchmarkAdmitSend in a DM, for a user who
// blocks people and is blocked by some (not the DM's other member): the
// block check is one map lookup (target: under 1 µs, no allocation).
func BenchmarkAdmitSendDM(b *testing.B) {
	s := &Server{cfg: DefaultConfig()}
	c := &conn{srv: s, ident: auth.Identity{UserID: "pat", Name: "Pat", Role: auth.RolePeer},
		convs: map[string]*convState{"d_pair": {role: chat.RoomMember, peer: "ivy"}}}
	for _, u := range []string{"bob", "cat", "dan"} {
		c.markBlockLocked(u, blockMine, true, false)
		c.markBlockLocked(u+"2", blockTheirs, true, false)
	}
	bs := newBuckets(limits{sendRate: 1e9, sendBurst: 1 << 30})
	c.bucket = bs.acquire("pat")
	f := &protocol.ClientFrame{Type: protocol.TypeSend, Conv: "d_pair", ID: "01JD3Q8Z4M6V", Body: strings.Repeat("a message ", 20)}
	h := frames[protocol.TypeSend]
	b.ReportAllocs()
	for b.Loop() {
		if err := c.admit(&h, f); err != nil {
			b.Fatal(err)
		}
		if ok, _ := c.bucket.take(time.Now()); !ok {
			b.Fatal("rate limited")
		}
	}
}

// The DM check refuses exactly what docs/moderation.md says, by who
// blocks whom and the roles of both.
func TestDMClosed(t *testing.T) {
	for _, tc := range []struct {
		me           auth.Role
		mine, theirs bool
		peerDuty     bool
		want         bool
	}{
		{auth.RolePeer, false, false, false, false},
		{auth.RolePeer, true, false, false, true},        // I block a peer
		{auth.RolePeer, true, false, true, false},        // I block a supervisor: their DM stays open
		{auth.RolePeer, false, true, false, true},        // a peer blocks me
		{auth.RoleSupervisor, false, true, false, false}, // they block a supervisor (me)
		{auth.RoleSupervisor, true, false, false, true},  // a supervisor blocks a peer
		{auth.RoleSpecialist, false, true, false, true},  // they block a specialist
		{auth.RoleAdmin, true, true, false, true},        // both ways: my own block binds me
	} {
		c := &conn{ident: auth.Identity{UserID: "me", Role: tc.me}}
		c.markBlockLocked("peer", blockMine, tc.mine, tc.peerDuty)
		c.markBlockLocked("peer", blockTheirs, tc.theirs, false)
		if got := c.dmClosedLocked("peer"); got != tc.want {
			t.Errorf("%+v: closed %t, want %t", tc, got, tc.want)
		}
		c.markBlockLocked("peer", blockMine, false, false)
		c.markBlockLocked("peer", blockTheirs, false, false)
		if len(c.blocks) != 0 || c.hiders != 0 {
			t.Errorf("%+v: after lifting both, blocks %v hiders %d", tc, c.blocks, c.hiders)
		}
	}
}
