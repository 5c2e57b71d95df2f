package server_test

import (
	"fmt"
	"testing"

	"github.com/kindred-health/kindred/auth"
)

// Video session actions draw from a tight bucket: a burst of
// video_control past it is refused with rate_limited and a wait, and the
// connection stays open.
func TestVideoControlRateLimit(t *testing.T) {
	e := newVideoEnv(t)
	annT := e.token("ann", auth.RoleSpecialist)
	room := e.createRoom(annT, "Limits").ID
	ann := e.dial(annT, nil)
	s := ann.vok("start", map[string]any{"type": "video_start", "conv": room}).Session
	ann.vok("join", map[string]any{"type": "video_join", "session": s})
	const n = 20 // past the burst of 10 (the start took one), well under the strikes
	for i := range n {
		ann.send(map[string]any{"type": "video_control", "session": s, "user": "ann", "action": "mute", "ref": fmt.Sprint("c", i)})
	}
	ok, limited := 0, 0
	for i := range n {
		f := ann.take(func(f frame) bool { return f.Ref == fmt.Sprint("c", i) })
		switch {
		case f.Type == "video_ok":
			ok++
		case f.Code == "rate_limited" && f.RetryAfterMS > 0:
			limited++
		default:
			t.Fatalf("control %d: %s", i, f.raw)
		}
	}
	if ok == 0 || limited == 0 {
		t.Fatalf("%d accepted, %d rate_limited: want both", ok, limited)
	}
	ann.send(map[string]any{"type": "ping", "ref": "alive"})
	ann.take(func(f frame) bool { return f.Type == "pong" && f.Ref == "alive" })
}
