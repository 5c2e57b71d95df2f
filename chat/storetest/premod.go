package storetest

import (
	"strings"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// hold holds sender's send clientID in conv, which must succeed.
func (f *fixture) hold(conv, sender, clientID, body string) (chat.PendingMessage, bool) {
	f.Helper()
	p, created, err := f.s.HoldMessage(f.ctx, chat.PendingMessage{Conv: conv, Sender: sender,
		Name: displayName(sender), ClientID: clientID, Body: body})
	if err != nil {
		f.Fatalf("HoldMessage(%s): %v", clientID, err)
	}
	return p, created
}

// approvedIn is user's approved count in conv, as UserConversations has it.
func (f *fixture) approvedIn(conv, user string) int {
	f.Helper()
	cs, err := f.s.UserConversations(f.ctx, user)
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cs {
		if c.ID == conv {
			return c.ApprovedMessages
		}
	}
	return -1
}

// queue is the ids of conv's messages waiting for a decision, in order.
func (f *fixture) queue(conv string) string {
	f.Helper()
	ps, err := f.s.PendingMessages(f.ctx, conv)
	if err != nil {
		f.Fatal(err)
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return strings.Join(ids, " ")
}

// testPremodSetting: premod_messages is stored and read back, by
// Conversation and UserConversations, and bounded.
func testPremodSetting(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Held", alice, bob)
	if c := f.convOf(r.ID); c.PremodMessages != 0 {
		f.Errorf("a new room's premod_messages = %d", c.PremodMessages)
	}
	if err := f.s.SetRoomSettings(f.ctx, r.ID, chat.RoomSettings{PremodMessages: ptr(3)}); err != nil {
		f.Fatal(err)
	}
	if err := f.s.SetRoomSettings(f.ctx, r.ID, chat.RoomSettings{Locked: ptr(true)}); err != nil {
		f.Fatal(err)
	}
	if c := f.convOf(r.ID); c.PremodMessages != 3 || !c.Locked {
		f.Errorf("settings read back %+v", c)
	}
	cs, err := f.s.UserConversations(f.ctx, bob)
	if err != nil || len(cs) != 1 || cs[0].PremodMessages != 3 || cs[0].ApprovedMessages != 0 {
		f.Errorf("UserConversations = %+v, %v", cs, err)
	}
	for _, bad := range []int{-1, chat.MaxPremodMessages + 1} {
		if err := f.s.SetRoomSettings(f.ctx, r.ID, chat.RoomSettings{PremodMessages: ptr(bad)}); chat.ErrorCode(err) != chat.CodeInvalidField {
			f.Errorf("premod_messages %d: %v, want invalid_field", bad, err)
		}
	}
}

// testHoldMessage: a held send is stored once per client id, listed
// oldest first, found again; a non-member's is refused; a send already in
// the log is not held.
func testHoldMessage(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	r := f.room("Held", alice, bob)
	before := time.Now().Add(-time.Minute)
	p1, created := f.hold(r.ID, bob, "b1", "hello all")
	if !created || !strings.HasPrefix(p1.ID, "p_") || p1.State != chat.PendingWaiting || p1.Body != "hello all" ||
		p1.Sender != bob || p1.Name != displayName(bob) || p1.ClientID != "b1" || p1.Time.Before(before) {
		f.Fatalf("held %+v (created %t)", p1, created)
	}
	again, created := f.hold(r.ID, bob, "b1", "hello all")
	if created || again.ID != p1.ID || again.Body != "hello all" {
		f.Errorf("holding the same send again: %+v (created %t)", again, created)
	}
	p2, _ := f.hold(r.ID, bob, "b2", "second")
	if got := f.queue(r.ID); got != p1.ID+" "+p2.ID {
		f.Errorf("queue %q, want %q", got, p1.ID+" "+p2.ID)
	}
	if got, err := f.s.FindPending(f.ctx, r.ID, bob, "b2"); err != nil || got.ID != p2.ID || got.Body != "second" {
		f.Errorf("FindPending = %+v, %v", got, err)
	}
	if _, err := f.s.FindPending(f.ctx, r.ID, bob, "b9"); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("FindPending of nothing = %v, want not_found", err)
	}
	_, _, err := f.s.HoldMessage(f.ctx, chat.PendingMessage{Conv: r.ID, Sender: carol, ClientID: "c1", Body: "hi"})
	if chat.ErrorCode(err) != chat.CodeNotMember {
		f.Errorf("a non-member's held send = %v, want not_member", err)
	}
	f.send(msg(r.ID, bob, "b3", "sent before pre-moderation"))
	if p, created := f.hold(r.ID, bob, "b3", "sent before pre-moderation"); created || p.ID != "" || p.State != chat.PendingApproved {
		f.Errorf("holding a send already in the log: %+v (created %t)", p, created)
	}
	if got := f.queue(r.ID); got != p1.ID+" "+p2.ID {
		f.Errorf("queue %q after the logged send", got)
	}
}

// testDecidePending: approving claims, then settles and counts; rejecting
// settles at once; a settled message keeps no text and moves no more.
func testDecidePending(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r, other := f.room("Held", alice, bob), f.room("Other", alice, bob)
	p1, _ := f.hold(r.ID, bob, "b1", "first")
	p2, _ := f.hold(r.ID, bob, "b2", "second")
	decide := func(id string, to chat.PendingState) (chat.PendingMessage, int, error) {
		return f.s.DecidePending(f.ctx, r.ID, id, to)
	}
	if got, _, err := decide(p1.ID, chat.PendingApproving); err != nil || got.Body != "first" || got.ClientID != "b1" {
		f.Fatalf("claiming = %+v, %v", got, err)
	}
	if _, _, err := decide(p1.ID, chat.PendingApproving); err != nil {
		f.Errorf("claiming again (a retry) = %v", err)
	}
	if _, _, err := decide(p1.ID, chat.PendingRejected); chat.ErrorCode(err) != chat.CodeConflict {
		f.Errorf("rejecting one being approved = %v, want conflict", err)
	}
	if _, n, err := decide(p1.ID, chat.PendingApproved); err != nil || n != 1 || f.approvedIn(r.ID, bob) != 1 {
		f.Errorf("approving = %d, %v; count %d", n, err, f.approvedIn(r.ID, bob))
	}
	if f.approvedIn(other.ID, bob) != 0 {
		f.Errorf("an approval counted in another room")
	}
	if got, _ := f.hold(r.ID, bob, "b1", "first"); got.State != chat.PendingApproved || got.Body != "" {
		f.Errorf("an approved message read back: %+v", got)
	}
	if _, _, err := decide(p2.ID, chat.PendingApproved); chat.ErrorCode(err) != chat.CodeConflict {
		f.Errorf("settling an approval never claimed = %v, want conflict", err)
	}
	if got, _, err := decide(p2.ID, chat.PendingRejected); err != nil || got.Body != "second" {
		f.Errorf("rejecting = %+v, %v", got, err)
	}
	if got, err := f.s.FindPending(f.ctx, r.ID, bob, "b2"); err != nil || got.State != chat.PendingRejected || got.Body != "" {
		f.Errorf("a rejected message read back: %+v, %v", got, err)
	}
	if q := f.queue(r.ID); q != "" {
		f.Errorf("queue %q after both were decided", q)
	}
	for _, to := range []chat.PendingState{chat.PendingApproving, chat.PendingRejected, chat.PendingApproved} {
		for _, id := range []string{p1.ID, p2.ID} {
			if _, _, err := decide(id, to); chat.ErrorCode(err) != chat.CodeConflict {
				f.Errorf("moving decided %s to %s = %v, want conflict", id, to, err)
			}
		}
	}
	if _, _, err := f.s.DecidePending(f.ctx, other.ID, p1.ID, chat.PendingRejected); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("deciding through another room = %v, want not_found", err)
	}
	if _, _, err := decide("p_nosuch", chat.PendingRejected); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("deciding an unknown message = %v, want not_found", err)
	}
}

// testPendingAfterLeaving: a held message outlives its sender's
// membership; a claim can be given back; a new membership counts anew.
func testPendingAfterLeaving(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Held", alice, bob)
	p1, _ := f.hold(r.ID, bob, "b1", "first")
	p2, _ := f.hold(r.ID, bob, "b2", "second")
	p3, _ := f.hold(r.ID, bob, "b3", "third")
	if err := f.s.Leave(f.ctx, r.ID, bob); err != nil {
		f.Fatal(err)
	}
	if q := f.queue(r.ID); q != p1.ID+" "+p2.ID+" "+p3.ID {
		f.Errorf("queue %q after the sender left", q)
	}
	if _, _, err := f.s.DecidePending(f.ctx, r.ID, p1.ID, chat.PendingApproving); err != nil {
		f.Fatal(err)
	}
	if _, _, err := f.s.DecidePending(f.ctx, r.ID, p1.ID, chat.PendingWaiting); err != nil {
		f.Errorf("giving a claim back = %v", err)
	}
	if _, _, err := f.s.DecidePending(f.ctx, r.ID, p1.ID, chat.PendingRejected); err != nil {
		f.Errorf("rejecting once the claim is back = %v", err)
	}
	_, _, _ = f.s.DecidePending(f.ctx, r.ID, p3.ID, chat.PendingApproving)
	if _, n, err := f.s.DecidePending(f.ctx, r.ID, p3.ID, chat.PendingApproved); err != nil || n != 0 {
		f.Errorf("approving a former member's message = %d, %v; want 0, nil", n, err)
	}
	if err := f.s.Join(f.ctx, r.ID, bob, 0); err != nil {
		f.Fatal(err)
	}
	if n := f.approvedIn(r.ID, bob); n != 0 {
		f.Errorf("a new membership's count = %d", n)
	}
	_, _, _ = f.s.DecidePending(f.ctx, r.ID, p2.ID, chat.PendingApproving)
	if _, n, err := f.s.DecidePending(f.ctx, r.ID, p2.ID, chat.PendingApproved); err != nil || n != 1 {
		f.Errorf("approving after joining again = %d, %v", n, err)
	}
}
