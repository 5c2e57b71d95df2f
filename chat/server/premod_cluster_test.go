package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// Pre-moderation across two nodes on PostgreSQL and Redis: a member held
// on node B is reviewed by the owner on node A; the approval reaches B,
// which then stops holding. A message whose sender left waits on: it can
// be rejected, not approved.
func TestClusterPremod(t *testing.T) {
	c := newCluster(t, 2, "")
	ann, bob, cat := c.token("ann", auth.RoleSpecialist), c.token("bob", auth.RolePeer), c.token("cat", auth.RolePeer)
	a := c.env(0)
	room := a.createRoom(ann, "Across nodes").ID
	o := c.dial(0, ann, nil)
	b, cl := c.dial(1, bob, nil), c.dial(0, cat, nil)
	b.join(room)
	cl.join(room)
	a.setRules(ann, room, map[string]any{"premod_messages": 2})
	b.membership(room, func(cv chat.Conversation) bool { return cv.PremodMessages == 2 })

	p1 := b.sendHeld(room, "b1", "hello from the other node")
	if n := o.pendingNotice(p1); n.Message.Body != "hello from the other node" || n.Message.Sender != "bob" {
		t.Fatalf("the owner's notice on node A: %+v", n)
	}
	a.mustMod("POST", pendingPath(room, p1, "approve"), ann, nil)
	for name, s := range map[string]*client{"bob": b, "cat": cl} {
		if m := s.take(func(f frame) bool { return f.Type == "message" && f.ID == "b1" }); m.From != "bob" {
			t.Fatalf("%s got %s", name, m.raw)
		}
	}
	b.membership(room, func(cv chat.Conversation) bool { return cv.ApprovedMessages == 1 })

	// Held, then the sender leaves: the message waits on.
	p2 := b.sendHeld(room, "b2", "one more before I go")
	o.pendingNotice(p2)
	a.mustMod("POST", "/api/rooms/"+room+"/leave", bob, nil)
	var queue struct{ Pending []chat.PendingMessage }
	if st := a.api("GET", pendingPath(room, "", ""), ann, nil, &queue); st != 200 || len(queue.Pending) != 1 || queue.Pending[0].ID != p2 {
		t.Fatalf("the queue after the sender left: %d %+v", st, queue)
	}
	if st, er := a.mod("POST", pendingPath(room, p2, "approve"), ann, nil); st != http.StatusConflict || er.Code != chat.CodeConflict {
		t.Fatalf("approving a former member's message: %d %+v", st, er)
	}
	a.mustMod("POST", pendingPath(room, p2, "reject"), ann, map[string]string{"reason": "left the group"})
	if o.decided(p2) != "rejected" {
		t.Fatal("the rejection told to the owner")
	}
	var acts []string
	for _, x := range auditOf(t, a, c.token("sue", auth.RoleSupervisor), "?room="+room) {
		if strings.HasPrefix(x.Action, "message.") {
			acts = append(acts, x.Action)
		}
	}
	if got := strings.Join(acts, " "); got != "message.reject message.approve" {
		t.Errorf("audit (newest first): %s", got)
	}
}
