package server

import (
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// BenchmarkAdmitSend is what the send path checks before a message goes to
// the committer: the frame's fields, the permission table against the
// member's room role, a mute, the room's rules (read-only, accepted
// guidelines, slow mode), the user's send bucket, and whether
// pre-moderation holds it (target: under 1 µs, no allocation).
func BenchmarkAdmitSend(b *testing.B) {
	s := &Server{cfg: DefaultConfig()}
	c := &conn{srv: s, ident: auth.Identity{UserID: "pat", Name: "Pat", Role: auth.RolePeer},
		convs: map[string]*convState{"r_group": {role: chat.RoomMember, mutedUntil: time.Now().Add(-time.Minute).UnixNano(),
			rules: roomRules{guideVer: 2, guideAcc: 2, premod: 3, approved: 3}}}}
	bs := newBuckets(limits{sendRate: 1e9, sendBurst: 1 << 30})
	c.bucket = bs.acquire("pat")
	f := &protocol.ClientFrame{Type: protocol.TypeSend, Conv: "r_group", ID: "01JD3Q8Z4M6V", Body: strings.Repeat("a message ", 20)}
	h := frames[protocol.TypeSend]
	b.ReportAllocs()
	for b.Loop() {
		if err := c.admit(&h, f); err != nil {
			b.Fatal(err)
		}
		if ok, _ := c.bucket.take(time.Now()); !ok {
			b.Fatal("rate limited")
		}
		if c.heldForReview(f.Conv) {
			b.Fatal("held")
		}
	}
}
