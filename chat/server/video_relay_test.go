package server_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/postgres"
)

// faultBroker is a node's real broker with a hook on what the node
// publishes, so a test can lose or hold one relay message.
type faultBroker struct {
	chat.Broker
	mu   sync.Mutex
	hook func(p *chat.Publication) (drop bool)
}

func (b *faultBroker) Publish(ctx context.Context, p *chat.Publication) error {
	b.mu.Lock()
	h := b.hook
	b.mu.Unlock()
	if h != nil && h(p) {
		return nil
	}
	return b.Broker.Publish(ctx, p)
}

// PublishBatch passes each of ps through Publish's hook.
func (b *faultBroker) PublishBatch(ctx context.Context, ps []*chat.Publication) error {
	for _, p := range ps {
		if err := b.Publish(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// once sets a hook for the first relay message containing all of subs;
// act sees it and says whether to drop it.
func (b *faultBroker) once(act func() bool, subs ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hook = func(p *chat.Publication) bool {
		if !bytes.HasPrefix([]byte(p.Channel), []byte("video:")) || !containsAll(string(p.Data), subs...) {
			return false
		}
		b.mu.Lock()
		b.hook = nil
		b.mu.Unlock()
		return act()
	}
}

// relayFixture: ann hosts a session on node 0; bo and cy, connected to
// node 1, are members of its room.
type relayFixture struct {
	c          *cluster
	v0         *videoNode
	fb         [2]*faultBroker
	a, bo, cy  *client
	room, sess string
}

func newRelayFixture(t *testing.T) *relayFixture {
	f := &relayFixture{v0: withVideo(t, 0)}
	v1 := withVideo(t, 0)
	f.c = newCluster(t, 2, "", func(i int, cfg *server.Config, _ *postgres.Store) {
		[]*videoNode{f.v0, v1}[i].set(cfg)
		f.fb[i] = &faultBroker{Broker: cfg.Broker}
		cfg.Broker = f.fb[i]
	})
	f.v0.wire(&env{srv: f.c.nodes[0].srv})
	v1.wire(&env{srv: f.c.nodes[1].srv})
	annT := f.c.token("ann", auth.RoleSpecialist)
	f.room = f.c.env(0).createRoom(annT, "Across nodes").ID
	f.a = f.c.dial(0, annT, nil)
	f.a.expectSynced(f.room)
	f.bo = f.c.dial(1, f.c.token("bo", auth.RolePeer), nil)
	f.bo.join(f.room)
	f.cy = f.c.dial(1, f.c.token("cy", auth.RolePeer), nil)
	f.cy.join(f.room)
	f.sess = f.a.vok("start", map[string]any{"type": "video_start", "conv": f.room}).Session
	f.a.vok("join", map[string]any{"type": "video_join", "session": f.sess})
	return f
}

// waitParticipants waits for the session on node 0 to hold n people,
// well before the 30 s after which a participant whose media never
// connected (none does here) is taken out anyway.
func (f *relayFixture) waitParticipants(t *testing.T, n int, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(20 * time.Millisecond) {
		if info, _ := f.v0.sfu.Session(f.sess); info.Participants == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the session did not come to %d participants", n)
		}
	}
}

// A relayed join whose answer is lost times out at the origin, which
// then leaves on the joiner's behalf: the hosting node keeps no ghost.
func TestClusterVideoJoinTimeoutLeaves(t *testing.T) {
	f := newRelayFixture(t)
	f.fb[0].once(func() bool { return true }, `"k":"res"`)
	if v := f.bo.vreq("join", map[string]any{"type": "video_join", "session": f.sess}); v.Code != "video_unavailable" {
		t.Fatalf("a join whose answer was lost: %s, want video_unavailable", v.raw)
	}
	f.waitParticipants(t, 1, 10*time.Second)
}

// A leave that the hosting node does not answer (the member removed from
// the room) is tried again a second later.
func TestClusterVideoLeaveRetried(t *testing.T) {
	f := newRelayFixture(t)
	f.bo.vok("join", map[string]any{"type": "video_join", "session": f.sess})
	f.bo.vexpect("video_joined", f.sess, nil)
	f.fb[1].once(func() bool { return true }, `"op":"video_leave"`)
	if st, _ := f.c.env(0).mod("DELETE", "/api/rooms/"+f.room+"/members/bo", f.c.token("ann", auth.RoleSpecialist), nil); st != 200 {
		t.Fatalf("remove bo: %d", st)
	}
	f.waitParticipants(t, 1, 15*time.Second)
}

// A publish stuck on the broker does not hold up an answer that has
// already come: bo's request went out, its answer arrives while the node
// is stuck publishing cy's.
func TestClusterVideoStuckPublishAnswersFlow(t *testing.T) {
	f := newRelayFixture(t)
	f.bo.vok("join", map[string]any{"type": "video_join", "session": f.sess})
	f.bo.vexpect("video_joined", f.sess, nil)
	arrived := make(chan struct{})
	f.fb[0].once(func() bool { // bo's answer leaves node 0 a second late
		close(arrived)
		time.Sleep(time.Second)
		return false
	}, `"k":"res"`)
	f.bo.send(map[string]any{"type": "video_control", "session": f.sess, "user": "bo", "action": "mute", "ref": "mute"})
	<-arrived
	f.fb[1].once(func() bool { // node 1 is stuck publishing cy's join past the relay's timeout
		time.Sleep(6 * time.Second)
		return false
	}, `"op":"video_join"`)
	f.cy.send(map[string]any{"type": "video_join", "session": f.sess, "ref": "cy"})
	if v := decodeV(t, f.bo.take(func(fr frame) bool { return fr.Ref == "mute" })); v.Type != "video_ok" {
		t.Fatalf("bo's mute while node 1 was stuck publishing: %s", v.raw)
	}
}
