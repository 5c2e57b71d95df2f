package server_test

import (
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/postgres"
)

// A session on node 0 is news on node 1: a member connected there hears
// it is live and that it ended (video_session on the conversation's
// channel). Joining it through node 1 is not possible yet (relaying
// signaling between nodes is later work): node 1 has no such session.
func TestClusterVideoSessionNews(t *testing.T) {
	v0, v1 := withVideo(t, 0), withVideo(t, 0)
	c := newCluster(t, 2, "", func(i int, cfg *server.Config, _ *postgres.Store) {
		if i == 0 {
			v0.set(cfg)
		} else {
			v1.set(cfg)
		}
	})
	v0.wire(&env{srv: c.nodes[0].srv})
	v1.wire(&env{srv: c.nodes[1].srv})
	ann, bob := c.token("ann", auth.RoleSpecialist), c.token("bob", auth.RolePeer)
	room := c.env(0).createRoom(ann, "Across nodes").ID
	a := c.dial(0, ann, nil)
	a.expectSynced(room)
	b := c.dial(1, bob, nil)
	b.join(room)

	s := a.vok("start", map[string]any{"type": "video_start", "conv": room}).Session
	if v := b.vexpect("video_session", s, nil); v.State != "live" || v.Host != "ann" || v.Conv != room {
		t.Fatalf("node 1 was told %s", v.raw)
	}
	if v := b.vreq("join", map[string]any{"type": "video_join", "session": s}); v.Code != "video_no_session" {
		t.Fatalf("joining through the other node: %s", v.raw)
	}
	a.vok("join", map[string]any{"type": "video_join", "session": s})
	a.vok("end", map[string]any{"type": "video_end", "session": s})
	if v := b.vexpect("video_session", s, func(v vframe) bool { return v.State == "ended" }); v.Reason != "host_ended" {
		t.Fatalf("node 1 was told %s", v.raw)
	}
}
