package server_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/server"
)

func noRateLimit(c *server.Config) { c.SendRate = -1 }

// Two members of a room see each other's messages, in the same order, with
// server-assigned sequence numbers; the sender is acked with the sequence.
func TestRoomConversation(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoom(ann, "Tuesday group")
	a := e.dial(ann, nil)
	a.expectSynced(room.ID)
	b := e.dial(bob, nil)
	b.join(room.ID)

	ack1 := a.sendMsg(room.ID, "a1", "Welcome, Bob.")
	ack2 := b.sendMsg(room.ID, "b1", "Thanks, glad to be here.")
	if ack1.Seq != 1 || ack2.Seq != 2 {
		t.Fatalf("acks carry seqs %d, %d; want 1, 2", ack1.Seq, ack2.Seq)
	}
	for _, c := range []*client{a, b} {
		m1, m2 := c.expectEvent(room.ID), c.expectEvent(room.ID)
		if m1.Seq != 1 || m1.From != "ann" || m1.Body != "Welcome, Bob." || m1.ID != "a1" {
			t.Errorf("first message: %s", m1.raw)
		}
		if m2.Seq != 2 || m2.From != "bob" || m2.Body != "Thanks, glad to be here." {
			t.Errorf("second message: %s", m2.raw)
		}
	}
}

// A one-on-one chat: opened by one side, it reaches the other side's open
// session without reconnecting, and only those two can read it.
func TestDirectConversation(t *testing.T) {
	e := newEnv(t)
	sam, pat, eve := e.token("sam", auth.RoleSpecialist), e.token("pat", auth.RolePeer), e.token("eve", auth.RolePeer)
	p := e.dial(pat, nil) // pat must be known to the server before a DM can be opened with them
	s := e.dial(sam, nil)
	ev := e.dial(eve, nil)

	s.send(map[string]any{"type": "open_dm", "user": "pat", "ref": "dm"})
	dm := s.take(func(f frame) bool { return f.Ref == "dm" }).Conversation
	if dm.Kind != chat.KindDM {
		t.Fatalf("open_dm gave %+v", dm)
	}
	// Pat's session is told and subscribed.
	f := p.expect("conversation")
	if f.Conversation.ID != dm.ID || f.Conversation.Name != "Sam" {
		t.Fatalf("pat was told %s", f.raw)
	}
	p.expectSynced(dm.ID)

	s.sendMsg(dm.ID, "s1", "Hi Pat, how was your week?")
	if m := p.expectEvent(dm.ID); m.Body != "Hi Pat, how was your week?" || m.From != "sam" {
		t.Fatalf("pat got %s", m.raw)
	}
	p.sendMsg(dm.ID, "p1", "Better than last one.")
	s.expectEvent(dm.ID) // his own
	if m := s.expectEvent(dm.ID); m.Body != "Better than last one." || m.Seq != 2 {
		t.Fatalf("sam got %s", m.raw)
	}

	// Opening again, from either side, gives the same conversation.
	var again chat.Conversation
	if st := e.api("POST", "/api/dms", pat, map[string]string{"user": "sam"}, &again); st != 200 || again.ID != dm.ID {
		t.Fatalf("reopen: %d %+v", st, again)
	}
	// A third person can neither read nor write it.
	var out struct{ Error chat.Error }
	if st := e.api("GET", "/api/conversations/"+dm.ID+"/messages", eve, nil, &out); st != http.StatusForbidden || out.Error.Code != chat.CodeNotMember {
		t.Fatalf("eve reading the DM: %d %+v", st, out)
	}
	ev.send(map[string]any{"type": "send", "conv": dm.ID, "id": "x", "body": "hi"})
	if f := ev.expect("error"); f.Code != chat.CodeNotMember {
		t.Fatalf("eve writing the DM: %s", f.raw)
	}
	// A DM with oneself, or with an unknown user, is refused.
	s.send(map[string]any{"type": "open_dm", "user": "sam"})
	if f := s.expect("error"); f.Code != chat.CodeInvalidField {
		t.Fatalf("dm with self: %s", f.raw)
	}
	s.send(map[string]any{"type": "open_dm", "user": "nobody"})
	if f := s.expect("error"); f.Code != chat.CodeNotFound {
		t.Fatalf("dm with unknown user: %s", f.raw)
	}
}

// History pages backwards and forwards over the HTTP API.
func TestHistoryPaging(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann := e.token("ann", auth.RoleSpecialist)
	room := e.createRoom(ann, "History")
	a := e.dial(ann, nil)
	for i := 1; i <= 45; i++ {
		a.sendMsg(room.ID, fmt.Sprint("m", i), fmt.Sprint("message ", i))
	}
	type page struct{ Messages []chat.Event }
	get := func(q string) []chat.Event {
		var p page
		if st := e.api("GET", "/api/conversations/"+room.ID+"/messages?"+q, ann, nil, &p); st != 200 {
			t.Fatalf("history %s: %d", q, st)
		}
		return p.Messages
	}
	seqs := func(evs []chat.Event) (out []int64) {
		for _, e := range evs {
			out = append(out, e.Seq)
		}
		return
	}
	latest := get("limit=20")
	if len(latest) != 20 || latest[0].Seq != 26 || latest[19].Seq != 45 {
		t.Fatalf("latest page: %v", seqs(latest))
	}
	// Walk back to the start, page by page, and collect everything once.
	var all []chat.Event
	all = append(latest, all...)
	for before := latest[0].Seq; ; {
		p := get(fmt.Sprintf("before=%d&limit=20", before))
		if len(p) == 0 {
			break
		}
		all = append(p, all...)
		before = p[0].Seq
	}
	for i, ev := range all {
		if ev.Seq != int64(i+1) || ev.Body != fmt.Sprint("message ", i+1) || ev.Name != "Ann" {
			t.Fatalf("history position %d: %+v", i, ev)
		}
	}
	if len(all) != 45 {
		t.Fatalf("walked %d messages, want 45", len(all))
	}
	if fwd := get("after=40&limit=3"); fmt.Sprint(seqs(fwd)) != "[41 42 43]" {
		t.Fatalf("after=40: %v", seqs(fwd))
	}
	var out struct{ Error chat.Error }
	if st := e.api("GET", "/api/conversations/"+room.ID+"/messages?before=abc", ann, nil, &out); st != 400 || out.Error.Code != chat.CodeInvalidField {
		t.Fatalf("bad before: %d %+v", st, out)
	}
}

// Sending twice with the same client id stores the message once and acks
// both with the same sequence, so a client may resend freely after a
// disconnect.
func TestIdempotentResend(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoom(ann, "Resend")
	b := e.dial(bob, nil)
	b.join(room.ID)
	a := e.dial(ann, nil)
	a.expectSynced(room.ID)

	first := a.sendMsg(room.ID, "same-id", "I might send this twice")
	a.ws.CloseNow() // as if the ack had been lost with the connection
	a2 := e.dial(ann, map[string]int64{room.ID: 0})
	second := a2.sendMsg(room.ID, "same-id", "I might send this twice")
	if !second.Duplicate || second.Seq != first.Seq {
		t.Fatalf("resend ack %s; first was seq %d", second.raw, first.Seq)
	}
	a2.sendMsg(room.ID, "next", "and this once")
	if m := b.expectEvent(room.ID); m.ID != "same-id" || m.Seq != 1 {
		t.Fatalf("bob got %s", m.raw)
	}
	if m := b.expectEvent(room.ID); m.ID != "next" || m.Seq != 2 {
		t.Fatalf("bob got %s, want the next message with seq 2 (no duplicate)", m.raw)
	}
	var p struct{ Messages []chat.Event }
	e.api("GET", "/api/conversations/"+room.ID+"/messages", bob, nil, &p)
	if len(p.Messages) != 2 {
		t.Fatalf("history has %d messages, want 2", len(p.Messages))
	}
}

// Edits and deletes of one's own messages reach members as events; history
// shows the edited text and a tombstone; others' messages are refused.
func TestEditAndDelete(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoom(ann, "Edits")
	a := e.dial(ann, nil)
	a.expectSynced(room.ID)
	b := e.dial(bob, nil)
	b.join(room.ID)
	m1 := b.sendMsg(room.ID, "b1", "I feel terible today")
	m2 := b.sendMsg(room.ID, "b2", "sorry, wrong room")

	b.send(map[string]any{"type": "edit", "conv": room.ID, "seq": m1.Seq, "body": "I feel terrible today", "ref": "e1"})
	if ack := b.expect("ack"); ack.Ref != "e1" || ack.Seq != 3 {
		t.Fatalf("edit ack %s", ack.raw)
	}
	b.send(map[string]any{"type": "delete", "conv": room.ID, "seq": m2.Seq, "ref": "d1"})
	if ack := b.expect("ack"); ack.Ref != "d1" || ack.Seq != 4 {
		t.Fatalf("delete ack %s", ack.raw)
	}
	a.expectEvent(room.ID)
	a.expectEvent(room.ID)
	if ed := a.expectEvent(room.ID); ed.Type != "edit" || ed.Target != m1.Seq || ed.Body != "I feel terrible today" {
		t.Fatalf("ann got %s", ed.raw)
	}
	if del := a.expectEvent(room.ID); del.Type != "delete" || del.Target != m2.Seq || del.Body != "" {
		t.Fatalf("ann got %s", del.raw)
	}
	// Ann may not edit or delete Bob's message.
	a.send(map[string]any{"type": "edit", "conv": room.ID, "seq": m1.Seq, "body": "x"})
	if f := a.expect("error"); f.Code != chat.CodeNotAuthor {
		t.Fatalf("editing another's message: %s", f.raw)
	}
	b.send(map[string]any{"type": "delete", "conv": room.ID, "seq": m2.Seq})
	if f := b.expect("error"); f.Code != chat.CodeConflict {
		t.Fatalf("deleting twice: %s", f.raw)
	}
	b.send(map[string]any{"type": "edit", "conv": room.ID, "seq": 99, "body": "x"})
	if f := b.expect("error"); f.Code != chat.CodeNotFound {
		t.Fatalf("editing a missing message: %s", f.raw)
	}
	var p struct{ Messages []chat.Event }
	e.api("GET", "/api/conversations/"+room.ID+"/messages", bob, nil, &p)
	if len(p.Messages) != 2 || p.Messages[0].Body != "I feel terrible today" || p.Messages[0].EditedAt == nil ||
		!p.Messages[1].Deleted || p.Messages[1].Body != "" {
		t.Fatalf("history after edit and delete: %+v", p.Messages)
	}
}

// Typing indicators reach the other members; member lists show presence.
func TestTypingAndPresence(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoom(ann, "Presence")
	a := e.dial(ann, nil)
	a.expectSynced(room.ID)
	b := e.dial(bob, nil)
	b.join(room.ID)

	b.send(map[string]any{"type": "typing", "conv": room.ID})
	a.take(func(f frame) bool { return f.Type == "typing" && f.From == "bob" && f.Conv == room.ID })
	// Ann learns that the newcomer is online without asking.
	a.take(func(f frame) bool { return f.Type == "presence" && f.Online && string(f.User) == `"bob"` })
	a.send(map[string]any{"type": "members", "conv": room.ID, "ref": "m"})
	ml := a.expect("member_list")
	online := map[string]bool{}
	for _, m := range ml.Members {
		online[m.ID] = m.Online
	}
	if len(online) != 2 || !online["ann"] || !online["bob"] {
		t.Fatalf("member list %s", ml.raw)
	}
	b.ws.CloseNow()
	a.take(func(f frame) bool { return f.Type == "presence" && !f.Online && string(f.User) == `"bob"` })
	var out struct{ Members []chat.Member }
	e.api("GET", "/api/conversations/"+room.ID+"/members", ann, nil, &out)
	for _, m := range out.Members {
		if m.ID == "bob" && m.Online {
			t.Fatalf("bob still online after disconnect: %+v", out.Members)
		}
	}
}

// Rooms larger than PresenceFanoutMax are not told when members come and
// go (that would cost N² frames when a large room connects at once);
// member lists still show presence.
func TestNoPresenceFanoutInLargeRooms(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.PresenceFanoutMax = 2 })
	ann, bob, cat := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer), e.token("cat", auth.RolePeer)
	room := e.createRoom(ann, "Large")
	a := e.dial(ann, nil)
	a.expectSynced(room.ID)
	b := e.dial(bob, nil)
	b.join(room.ID) // two members: still small
	a.take(func(f frame) bool { return f.Type == "presence" && string(f.User) == `"bob"` })
	c := e.dial(cat, nil)
	c.join(room.ID) // three members: large
	c.sendMsg(room.ID, "c1", "hello")
	// Everything Ann got before Cat's message: no presence about Cat.
	for {
		f := a.next()
		if f.Type == "presence" && string(f.User) == `"cat"` {
			t.Fatalf("presence sent to a room over the limit: %s", f.raw)
		}
		if isEvent(f) && f.ID == "c1" {
			break
		}
	}
	a.send(map[string]any{"type": "members", "conv": room.ID})
	for _, m := range a.expect("member_list").Members {
		if !m.Online {
			t.Fatalf("member list shows %s offline", m.ID)
		}
	}
}
