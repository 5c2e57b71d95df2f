package server_test

import (
	"testing"

	"github.com/kindred-health/kindred/auth"
)

func TestSmokeTwoUsersInARoom(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoom(ann, "Tuesday group")
	a := e.dial(ann, nil)
	a.expectSynced(room.ID)
	b := e.dial(bob, nil)
	b.join(room.ID)
	ack := b.sendMsg(room.ID, "m1", "hello from bob")
	if ack.Seq != 1 {
		t.Fatalf("seq %d", ack.Seq)
	}
	got := a.expectEvent(room.ID)
	if got.Body != "hello from bob" || got.From != "bob" || got.Seq != 1 {
		t.Fatalf("got %s", got.raw)
	}
}
