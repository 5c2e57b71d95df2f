package server_test

import (
	"testing"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/postgres"
)

// A session on node 0 is news on node 1: a member connected there hears
// it is live and that it ended (video_session on the conversation's
// channel), and signs in later still learns it is live (the store's
// record).
func TestClusterVideoSessionNews(t *testing.T) {
	c := videoCluster(t)
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
	late := c.dial(1, c.token("cy", auth.RolePeer), nil)
	late.join(room)
	_ = late.ws.Close(websocket.StatusNormalClosure, "")
	late = c.dial(1, c.token("cy", auth.RolePeer), nil)
	if v := late.vexpect("video_session", s, nil); v.State != "live" {
		t.Fatalf("signing in on node 1 later: %s", v.raw)
	}
	a.vok("join", map[string]any{"type": "video_join", "session": s})
	a.vok("end", map[string]any{"type": "video_end", "session": s})
	if v := b.vexpect("video_session", s, func(v vframe) bool { return v.State == "ended" }); v.Reason != "host_ended" {
		t.Fatalf("node 1 was told %s", v.raw)
	}
}

// Two nodes, the session on node 0 and a participant signalling through
// node 1: the relay carries the join, the waiting room, the negotiation
// and the host's controls, and media flows both ways straight to node 0.
func TestClusterVideoRelay(t *testing.T) {
	c := videoCluster(t)
	ann, bo := c.token("ann", auth.RoleSpecialist), c.token("bo", auth.RolePeer)
	room := c.env(0).createRoom(ann, "Across nodes").ID
	a := c.dial(0, ann, nil)
	a.expectSynced(room)
	b := c.dial(1, bo, nil)
	b.join(room)

	s := a.vok("start", map[string]any{"type": "video_start", "conv": room, "waiting_room": true}).Session
	a.vok("join", map[string]any{"type": "video_join", "session": s})
	b.vok("join", map[string]any{"type": "video_join", "session": s})
	b.vexpect("video_waiting", s, nil)
	a.vexpect("video_waiting_list", s, func(v vframe) bool { return contains(v.raw, `"bo"`) })
	a.vok("admit", map[string]any{"type": "video_admit", "session": s, "user": "bo"})
	b.vexpect("video_joined", s, nil)

	pa, pb := newWSPeer(t, a, "ann", s), newWSPeer(t, b, "bo", s)
	pa.start()
	pb.start()
	for _, k := range []struct {
		p   *wsPeer
		key string
	}{{pa, "video:bo"}, {pa, "audio:bo"}, {pb, "video:ann"}, {pb, "audio:ann"}} {
		waitFor(t, k.p.user+" reads "+k.key+" across nodes", func() bool { return k.p.count(k.key) >= 10 })
	}
	pa.write(map[string]any{"type": "video_control", "ref": "mute", "session": s, "user": "bo", "action": "mute"})
	waitFor(t, "bo hears through node 1 that the host muted him", func() bool {
		for {
			select {
			case v := <-pb.others:
				if v.Type == "video_participant" && contains(v.raw, `"user":"bo"`, `"audio":"off_by_host"`) {
					return true
				}
			default:
				return false
			}
		}
	})
	_ = b.ws.Close(websocket.StatusNormalClosure, "") // bo's WebSocket on node 1 goes: he leaves the session on node 0
	waitFor(t, "ann hears bo left", func() bool {
		for {
			select {
			case v := <-pa.others:
				if v.Type == "video_participant" && contains(v.raw, `"user":"bo"`, `"left":true`) {
					return true
				}
			default:
				return false
			}
		}
	})
}

// videoCluster is two nodes on PostgreSQL and Redis, each with an SFU.
func videoCluster(t *testing.T) *cluster {
	t.Helper()
	v := []*videoNode{withVideo(t, 0), withVideo(t, 0)}
	c := newCluster(t, 2, "", func(i int, cfg *server.Config, _ *postgres.Store) { v[i].set(cfg) })
	for i := range v {
		v[i].wire(&env{srv: c.nodes[i].srv})
	}
	return c
}
