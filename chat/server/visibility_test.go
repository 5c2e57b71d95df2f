package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// Room settings (docs/protocol.md#room-settings): private rooms are hidden
// and closed to non-members until a moderator adds them; with joined
// history a member reads nothing said before they joined.

// createRoomWith creates a room with the given settings over HTTP.
func (e *env) createRoomWith(token, name string, set chat.RoomSettings) chat.Conversation {
	e.t.Helper()
	var c chat.Conversation
	body := map[string]string{"name": name, "visibility": string(set.Visibility), "history": string(set.History)}
	if st := e.api("POST", "/api/rooms", token, body, &c); st != http.StatusCreated {
		e.t.Fatalf("create room %s: status %d", name, st)
	}
	if set = set.WithDefaults(); c.Visibility != set.Visibility || c.History != set.History {
		e.t.Fatalf("created room %s is %q/%q, want %q/%q", name, c.Visibility, c.History, set.Visibility, set.History)
	}
	return c
}

// listed reports whether GET /api/rooms shows room to token's user.
func (e *env) listed(token, room string) bool {
	e.t.Helper()
	var out struct{ Rooms []chat.Conversation }
	if st := e.api("GET", "/api/rooms", token, nil, &out); st != http.StatusOK {
		e.t.Fatalf("list rooms: status %d", st)
	}
	for _, c := range out.Rooms {
		if c.ID == room {
			return true
		}
	}
	return false
}

// messageSeqs reads a page of history over HTTP as token's user.
func (e *env) messageSeqs(token, room, query string) []int64 {
	e.t.Helper()
	var out struct{ Messages []frame }
	if st := e.api("GET", "/api/conversations/"+room+"/messages"+query, token, nil, &out); st != http.StatusOK {
		e.t.Fatalf("messages%s: status %d", query, st)
	}
	seqs := []int64{}
	for _, m := range out.Messages {
		seqs = append(seqs, m.Seq)
	}
	return seqs
}

func TestPrivateRoom(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoomWith(ann, "Private", chat.RoomSettings{Visibility: chat.VisibilityPrivate})
	public := e.createRoom(ann, "Public")
	a := e.dial(ann, nil)
	a.sendMsg(room.ID, "m1", "said before bob was added")
	b := e.dial(bob, nil)

	if e.listed(bob, room.ID) || !e.listed(bob, public.ID) || !e.listed(ann, room.ID) {
		t.Fatal("the room list shows private rooms to non-members, or hides them from members, or hides public rooms")
	}
	checkPrivateRefused(t, e, room.ID, bob, b)
	var refusal struct{ Error chat.Error }

	// The owner adds bob: his session hears of it, the room sees him join.
	var added struct{ Member chat.User }
	if st := e.api("POST", "/api/rooms/"+room.ID+"/members", ann, map[string]string{"user": "bob"}, &added); st != http.StatusOK || added.Member.ID != "bob" {
		t.Fatalf("the owner adding bob: %d %+v", st, added)
	}
	if f := b.take(func(f frame) bool { return f.Type == "conversation" && f.Conversation.ID == room.ID }); f.Conversation.Role != chat.RoomMember || f.Conversation.Visibility != chat.VisibilityPrivate {
		t.Errorf("bob's conversation frame: %s", f.raw)
	}
	b.expectSynced(room.ID)
	if f := a.take(func(f frame) bool { return f.Type == "member" && f.Conv == room.ID }); !strings.Contains(string(f.User), `"bob"`) {
		t.Errorf("the room's member frame: %s", f.raw)
	}
	if !e.listed(bob, room.ID) {
		t.Error("bob does not see the private room he was added to")
	}
	a.sendMsg(room.ID, "m2", "welcome, bob")
	if f := b.expectEvent(room.ID); f.Seq != 2 {
		t.Errorf("bob's first live event: %s, want seq 2", f.raw)
	}
	if got := e.messageSeqs(bob, room.ID, ""); fmt.Sprint(got) != "[2]" {
		t.Errorf("bob reads %v, want [2] (joined history)", got)
	}
	// A member may join again (nothing changes); unknown users are not_found.
	if st := e.api("POST", "/api/rooms/"+room.ID+"/join", bob, nil, nil); st != http.StatusOK {
		t.Errorf("a member joining their private room again: %d", st)
	}
	if st := e.api("POST", "/api/rooms/"+room.ID+"/members", ann, map[string]string{"user": "nobody"}, &refusal); st != http.StatusNotFound {
		t.Errorf("adding an unknown user: %d, want 404", st)
	}

	// Made public, anyone sees and joins it.
	var c chat.Conversation
	if st := e.api("PATCH", "/api/rooms/"+room.ID, ann, map[string]string{"visibility": "public"}, &c); st != http.StatusOK ||
		c.Visibility != chat.VisibilityPublic || c.History != chat.HistoryJoined || c.Role != chat.RoomOwner {
		t.Fatalf("PATCH visibility public: %d %+v", st, c)
	}
	carol := e.token("carol", auth.RolePeer)
	if !e.listed(carol, room.ID) || e.api("POST", "/api/rooms/"+room.ID+"/join", carol, nil, nil) != http.StatusOK {
		t.Error("a room made public is not listed or not joinable")
	}
	if st := e.api("PATCH", "/api/rooms/"+room.ID, ann, map[string]string{"history": "everything"}, &refusal); st != http.StatusBadRequest || refusal.Error.Code != chat.CodeInvalidField {
		t.Errorf("PATCH with an unknown history: %d %s", st, refusal.Error.Code)
	}
}

// checkPrivateRefused: bob, who is not a member of private room, cannot
// join it (HTTP or WebSocket), add himself, or read it.
func checkPrivateRefused(t *testing.T, e *env, room, bob string, b *client) {
	t.Helper()
	var refusal struct{ Error chat.Error }
	if st := e.api("POST", "/api/rooms/"+room+"/join", bob, nil, &refusal); st != http.StatusNotFound || refusal.Error.Code != chat.CodeNotFound {
		t.Fatalf("a non-member's HTTP join of a private room: %d %s, want 404 not_found", st, refusal.Error.Code)
	}
	b.send(map[string]any{"type": "join", "conv": room, "ref": "pj"})
	if f := b.take(func(f frame) bool { return f.Ref == "pj" }); f.Type != "error" || f.Code != chat.CodeNotFound {
		t.Fatalf("a non-member's join frame for a private room: %s, want not_found", f.raw)
	}
	if st := e.api("POST", "/api/rooms/"+room+"/members", bob, map[string]string{"user": "bob"}, &refusal); st != http.StatusForbidden || refusal.Error.Code != chat.CodeNotMember {
		t.Fatalf("a non-member adding themselves: %d %s, want 403 not_member", st, refusal.Error.Code)
	}
	if st := e.api("GET", "/api/conversations/"+room+"/messages", bob, nil, &refusal); st != http.StatusForbidden {
		t.Fatalf("a non-member reading a private room: %d, want 403", st)
	}
}

// joinedHistoryRoom makes a room with history h in which ann says three
// things, then bob joins, then ann says two more: seqs 1–3 before, 4–5
// after bob joined.
func joinedHistoryRoom(t *testing.T, e *env, h chat.HistoryMode) (room string, ann, bob string) {
	ann, bob = e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room = e.createRoomWith(ann, "History "+string(h), chat.RoomSettings{History: h}).ID
	a := e.dial(ann, nil)
	for i := 1; i <= 3; i++ {
		a.sendMsg(room, fmt.Sprint("before-", i), fmt.Sprint("said before bob joined ", i))
	}
	b := e.dial(bob, nil)
	b.join(room)
	for i := 4; i <= 5; i++ {
		a.sendMsg(room, fmt.Sprint("after-", i), fmt.Sprint("said after bob joined ", i))
	}
	for i := 4; i <= 5; i++ {
		b.expectEvent(room)
	}
	b.ws.CloseNow()
	return room, ann, bob
}

// replayed dials as token with resume {room: 0} and returns the seqs of
// the events replayed before synced.
func replayed(e *env, token, room string) []int64 {
	c := e.dial(token, map[string]int64{room: 0})
	var seqs []int64
	for {
		f := c.take(func(f frame) bool { return (isEvent(f) || f.Type == "synced") && f.Conv == room })
		if f.Type == "synced" {
			return seqs
		}
		seqs = append(seqs, f.Seq)
	}
}

func TestJoinedHistory(t *testing.T) {
	e := newEnv(t, noRateLimit)
	room, _, bob := joinedHistoryRoom(t, e, chat.HistoryJoined)
	for _, c := range []struct{ query, want string }{
		{"", "[4 5]"},
		{"?before=5", "[4]"},
		{"?before=4", "[]"},
		{"?before=3", "[]"},
		{"?after=1", "[4 5]"},
		{"?after=4", "[5]"},
		{"?limit=1", "[5]"},
	} {
		if got := fmt.Sprint(e.messageSeqs(bob, room, c.query)); got != c.want {
			t.Errorf("bob's history%s = %s, want %s", c.query, got, c.want)
		}
	}
	if got := fmt.Sprint(replayed(e, bob, room)); got != "[4 5]" {
		t.Errorf("bob's resume from 0 replayed %s, want [4 5]", got)
	}
	// The member list is not affected: ann is listed though she joined first.
	var ms struct{ Members []chat.Member }
	if e.api("GET", "/api/conversations/"+room+"/members", bob, nil, &ms); len(ms.Members) != 2 {
		t.Errorf("bob sees %d members, want 2", len(ms.Members))
	}

	// Leaving and joining again starts from the new join.
	if st := e.api("POST", "/api/rooms/"+room+"/leave", bob, nil, nil); st != http.StatusOK {
		t.Fatal(st)
	}
	a := e.dial(e.token("ann", auth.RoleSpecialist), nil)
	a.sendMsg(room, "away", "said while bob was away")
	if st := e.api("POST", "/api/rooms/"+room+"/join", bob, nil, nil); st != http.StatusOK {
		t.Fatal(st)
	}
	if got := fmt.Sprint(e.messageSeqs(bob, room, "")); got != "[]" {
		t.Errorf("after leaving and joining again bob reads %s, want []", got)
	}
	// Switching to shared history shows everything.
	if st := e.api("PATCH", "/api/rooms/"+room, e.token("ann", auth.RoleSpecialist), map[string]string{"history": "shared"}, nil); st != http.StatusOK {
		t.Fatal(st)
	}
	if got := fmt.Sprint(e.messageSeqs(bob, room, "")); got != "[1 2 3 4 5 6]" {
		t.Errorf("with shared history bob reads %s, want [1 2 3 4 5 6]", got)
	}
}

func TestSharedHistory(t *testing.T) {
	e := newEnv(t, noRateLimit)
	room, _, bob := joinedHistoryRoom(t, e, chat.HistoryShared)
	if got := fmt.Sprint(e.messageSeqs(bob, room, "")); got != "[1 2 3 4 5]" {
		t.Errorf("bob's history = %s, want [1 2 3 4 5]", got)
	}
	if got := fmt.Sprint(e.messageSeqs(bob, room, "?before=4")); got != "[1 2 3]" {
		t.Errorf("bob's history before 4 = %s, want [1 2 3]", got)
	}
	if got := fmt.Sprint(replayed(e, bob, room)); got != "[1 2 3 4 5]" {
		t.Errorf("bob's resume from 0 replayed %s, want [1 2 3 4 5]", got)
	}
}

// A member cannot flag a message said before they joined a `joined` room:
// it is not theirs to see, and a flag would send its text to supervisors.
func TestFlagBeforeJoinRefused(t *testing.T) {
	e := newEscalatingEnv(t)
	spec := e.token("sam", auth.RoleSpecialist)
	room := e.createRoom(spec, "Group")
	p := e.dial(e.token("pat", auth.RolePeer), nil)
	p.join(room.ID)
	early := p.sendMsg(room.ID, "m1", "said before fay came")
	fr := e.dial(e.token("fay", auth.RolePeer), nil)
	fr.join(room.ID)
	late := p.sendMsg(room.ID, "m2", "said after")
	fr.send(map[string]any{"type": "flag", "conv": room.ID, "seq": early.Seq, "ref": "f1"})
	if f := fr.take(func(f frame) bool { return f.Ref == "f1" }); f.Code != "not_found" {
		t.Fatalf("flag of a message from before the join: %s", f.raw)
	}
	fr.send(map[string]any{"type": "flag", "conv": room.ID, "seq": late.Seq, "ref": "f2"})
	if f := fr.take(func(f frame) bool { return f.Ref == "f2" }); f.Type != "flagged" {
		t.Fatalf("flag of a message from after the join: %s", f.raw)
	}
}
