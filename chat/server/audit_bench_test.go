package server_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/kindred-health/kindred/auth"
)

// BenchmarkHistoryRead pages through a room's history over the HTTP API
// on SQLite, as a peer (not audited: the path it always took) and as a
// specialist (one audit entry per read, stored before the answer).
func BenchmarkHistoryRead(b *testing.B) {
	e := newEnv(b, noRateLimit)
	spec, pat := e.token("sam", auth.RoleSpecialist), e.token("pat", auth.RolePeer)
	room := e.createRoom(spec, "Group")
	e.api("POST", "/api/rooms/"+room.ID+"/join", pat, nil, nil)
	p := e.dial(pat, nil)
	for i := range 50 {
		p.sendMsg(room.ID, fmt.Sprint("m", i), "hello")
	}
	for _, who := range []struct{ name, token string }{{"peer", pat}, {"staff", spec}} {
		b.Run(who.name, func(b *testing.B) {
			for b.Loop() {
				if code := e.api("GET", "/api/conversations/"+room.ID+"/messages?limit=50", who.token, nil, nil); code != http.StatusOK {
					b.Fatalf("read: %d", code)
				}
			}
		})
	}
}
