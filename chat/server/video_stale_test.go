package server_test

import (
	"testing"

	"github.com/kindred-health/kindred/auth"
)

// Two tabs of one user wait to be let in; the first closes after the
// second asked. The second still waits and is let in: the first tab's
// leave acts for its own place only.
func TestVideoStaleTabLeavesNobody(t *testing.T) {
	r := newVideoRoom(t)
	s := r.start(t)
	r.bo.vok("join-1", map[string]any{"type": "video_join", "session": s})
	r.bo.vexpect("video_waiting", s, nil)
	tab := r.e.dial(r.boT, nil)
	tab.vok("join-2", map[string]any{"type": "video_join", "session": s})
	tab.vexpect("video_waiting", s, nil)
	open := metric(t, r.e, "kindred_connections")
	r.bo.ws.CloseNow()
	waitFor(t, "the first tab's end", func() bool { return metric(t, r.e, "kindred_connections") < open })
	r.ann.vok("admit", map[string]any{"type": "video_admit", "session": s, "user": "bo"})
	tab.vexpect("video_joined", s, nil)
}

// The same across nodes: the first tab's place is on node 1, relayed to
// the session on node 0, where the second tab is.
func TestClusterVideoStaleTabLeavesNobody(t *testing.T) {
	c := videoCluster(t)
	ann, bo := c.token("ann", auth.RoleSpecialist), c.token("bo", auth.RolePeer)
	room := c.env(0).createRoom(ann, "Across nodes").ID
	a := c.dial(0, ann, nil)
	a.expectSynced(room)
	b1 := c.dial(1, bo, nil)
	b1.join(room)
	s := a.vok("start", map[string]any{"type": "video_start", "conv": room, "waiting_room": true}).Session
	a.vok("join", map[string]any{"type": "video_join", "session": s})
	b1.vok("join-1", map[string]any{"type": "video_join", "session": s})
	b1.vexpect("video_waiting", s, nil)
	b2 := c.dial(0, bo, nil)
	b2.vok("join-2", map[string]any{"type": "video_join", "session": s})
	b2.vexpect("video_waiting", s, nil)
	open := metric(t, c.env(1), "kindred_connections")
	b1.ws.CloseNow()
	waitFor(t, "the first tab's end", func() bool { return metric(t, c.env(1), "kindred_connections") < open })
	a.vok("admit", map[string]any{"type": "video_admit", "session": s, "user": "bo"})
	b2.vexpect("video_joined", s, nil)
}
