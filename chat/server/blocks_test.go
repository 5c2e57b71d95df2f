package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/server"
)

// blockFixture: two peers, pat and bob, in one room with cat (who sees
// everything), and the DM between pat and bob.
type blockFixture struct {
	e             *env
	pat, bob, cat string // tokens
	p, b, c       *client
	room, dm      string
}

func newBlockFixture(t *testing.T, mod ...func(*server.Config)) *blockFixture {
	fx := &blockFixture{e: newEnv(t, append([]func(*server.Config){noRateLimit}, mod...)...)}
	e := fx.e
	fx.room = e.createRoom(e.token("sam", auth.RoleSpecialist), "Group").ID
	fx.pat, fx.bob, fx.cat = e.token("pat", auth.RolePeer), e.token("bob", auth.RolePeer), e.token("cat", auth.RolePeer)
	fx.p, fx.b, fx.c = e.dial(fx.pat, nil), e.dial(fx.bob, nil), e.dial(fx.cat, nil)
	for _, cl := range []*client{fx.p, fx.b, fx.c} {
		cl.join(fx.room)
	}
	fx.p.send(map[string]any{"type": "open_dm", "user": "bob", "ref": "dm"})
	f := fx.p.take(func(f frame) bool { return f.Ref == "dm" })
	if f.Type != "conversation" {
		t.Fatalf("open_dm: %s", f.raw)
	}
	fx.dm = f.Conversation.ID
	fx.b.take(func(f frame) bool { return f.Type == "conversation" && f.Conversation.ID == fx.dm })
	fx.b.expectSynced(fx.dm)
	fx.p.sendMsg(fx.dm, "hi", "hi bob")
	fx.b.take(func(f frame) bool { return f.Type == "message" && f.Conv == fx.dm })
	return fx
}

// block has the token's user block user over HTTP and returns the answer.
func (fx *blockFixture) block(token, user string) chat.Block {
	fx.e.t.Helper()
	var b chat.Block
	if st := fx.e.api("PUT", "/api/blocks/"+user, token, nil, &b); st != http.StatusOK {
		fx.e.t.Fatalf("PUT /api/blocks/%s: %d", user, st)
	}
	return b
}

// fence waits until c has received everything published to the room
// before now: cat posts there, and c takes that message.
func (fx *blockFixture) fence(c *client, id string) {
	fx.e.t.Helper()
	fx.c.sendMsg(fx.room, id, "fence "+id)
	c.take(func(f frame) bool { return f.Type == "message" && f.Conv == fx.room && f.Body == "fence "+id })
}

// The block routes: PUT blocks (again: no change), GET lists, DELETE
// lifts; the blocker's other sessions are told with a blocks frame, the
// person blocked is told nothing, and nothing is audited.
func TestBlockRoutes(t *testing.T) {
	fx := newBlockFixture(t)
	e := fx.e
	adm := e.token("ada", auth.RoleAdmin)
	audited := len(auditOf(t, e, adm, ""))
	for _, c := range []struct {
		user string
		code chat.Code
		st   int
	}{{"pat", chat.CodeInvalidField, 400}, {"nobody", chat.CodeNotFound, 404}} {
		var out struct{ Error chat.Error }
		if st := e.api("PUT", "/api/blocks/"+c.user, fx.pat, nil, &out); st != c.st || out.Error.Code != c.code {
			t.Errorf("PUT /api/blocks/%s: %d %+v, want %d %s", c.user, st, out.Error, c.st, c.code)
		}
	}
	other := e.dial(fx.pat, nil) // pat's second session
	before := time.Now().Add(-time.Second)
	b := fx.block(fx.pat, "bob")
	if b.User != "bob" || b.Name != "Bob" || b.Since.Before(before) {
		t.Fatalf("PUT /api/blocks/bob = %+v", b)
	}
	again := fx.block(fx.pat, "bob")
	if !again.Since.Equal(b.Since) {
		t.Errorf("blocking again moved the time: %v, then %v", b.Since, again.Since)
	}
	f := other.take(func(f frame) bool { return f.Type == "blocks" })
	if string(f.User) != `"bob"` || !strings.Contains(f.raw, `"blocked":true`) || !strings.Contains(f.raw, `"name":"Bob"`) {
		t.Errorf("blocks frame to the blocker's other session: %s", f.raw)
	}
	var list struct{ Blocks []map[string]any }
	if st := e.api("GET", "/api/blocks", fx.pat, nil, &list); st != 200 || len(list.Blocks) != 1 ||
		list.Blocks[0]["user"] != "bob" || list.Blocks[0]["name"] != "Bob" || list.Blocks[0]["since"] == nil || len(list.Blocks[0]) != 3 {
		t.Fatalf("GET /api/blocks: %d %+v", st, list)
	}
	if st := e.api("GET", "/api/blocks", fx.bob, nil, &list); st != 200 || len(list.Blocks) != 0 {
		t.Fatalf("GET /api/blocks of the person blocked: %d %+v", st, list)
	}
	if st := e.api("DELETE", "/api/blocks/bob", fx.pat, nil, nil); st != 200 {
		t.Fatalf("DELETE: %d", st)
	}
	other.take(func(f frame) bool {
		return f.Type == "blocks" && strings.Contains(f.raw, `"blocked":false`) && string(f.User) == `"bob"`
	})
	if st := e.api("DELETE", "/api/blocks/bob", fx.pat, nil, nil); st != 200 {
		t.Fatalf("DELETE again: %d", st)
	}
	fx.fence(fx.b, "after")
	for _, f := range fx.b.backlog {
		if f.Type == "blocks" || f.Type == "blocked_by" {
			t.Errorf("the person blocked was told: %s", f.raw)
		}
	}
	if n := len(auditOf(t, e, adm, "")); n != audited {
		t.Errorf("blocking wrote %d audit entries, want none", n-audited)
	}
}

// While a block stands neither side sends or edits in their DM (blocked,
// saying no more), nor opens it again; room messages still flow; lifting
// the block reopens the DM.
func TestBlockDM(t *testing.T) {
	fx := newBlockFixture(t)
	e := fx.e
	seq := fx.b.sendMsg(fx.dm, "b1", "hello pat").Seq
	fx.block(fx.pat, "bob")
	fx.fence(fx.b, "f1") // the news is applied before later frames

	for _, c := range []struct {
		who  string
		cl   *client
		send map[string]any
	}{
		{"bob's send", fx.b, map[string]any{"type": "send", "conv": fx.dm, "id": "b2", "body": "why?", "ref": "x1"}},
		{"bob's edit", fx.b, map[string]any{"type": "edit", "conv": fx.dm, "seq": seq, "body": "changed", "ref": "x2"}},
		{"pat's send", fx.p, map[string]any{"type": "send", "conv": fx.dm, "id": "p2", "body": "bye", "ref": "x3"}},
		{"bob's open_dm", fx.b, map[string]any{"type": "open_dm", "user": "pat", "ref": "x4"}},
		{"pat's open_dm", fx.p, map[string]any{"type": "open_dm", "user": "bob", "ref": "x5"}},
	} {
		c.cl.send(c.send)
		ref := c.send["ref"]
		f := c.cl.take(func(f frame) bool { return f.Ref == ref })
		if f.Code != chat.CodeBlocked || f.Message != "you can't message this person" {
			t.Errorf("%s while blocked: %s", c.who, f.raw)
		}
	}
	for _, tok := range []string{fx.bob, fx.pat} {
		other := map[string]string{fx.bob: "pat", fx.pat: "bob"}[tok]
		var out struct{ Error chat.Error }
		if st := e.api("POST", "/api/dms", tok, map[string]string{"user": other}, &out); st != http.StatusForbidden || out.Error.Code != chat.CodeBlocked {
			t.Errorf("POST /api/dms with %s while blocked: %d %+v", other, st, out.Error)
		}
	}
	// Room messages of the person blocked are still delivered.
	fx.b.sendMsg(fx.room, "room1", "in the room")
	fx.p.take(func(f frame) bool { return f.Type == "message" && f.Conv == fx.room && f.Body == "in the room" })

	if st := e.api("DELETE", "/api/blocks/bob", fx.pat, nil, nil); st != 200 {
		t.Fatal(st)
	}
	fx.fence(fx.b, "f2")
	fx.fence(fx.p, "f3")
	fx.b.sendMsg(fx.dm, "b3", "thanks")
	fx.p.sendMsg(fx.dm, "p3", "sorry")
}

// The person blocked sees none of the blocker's presence: no presence or
// typing frames about them, and member lists show them offline, while
// others see it all. Lifting the block shows it again.
func TestBlockPresence(t *testing.T) {
	fx := newBlockFixture(t)
	e := fx.e
	fx.block(fx.pat, "bob")
	fx.fence(fx.b, "f0")
	fx.b.backlog = nil // what came before the block (pat's presence when the DM opened)

	// pat goes offline and comes back; then types in the room.
	fx.p.ws.CloseNow()
	fx.c.take(func(f frame) bool { return f.Type == "presence" && string(f.User) == `"pat"` && !f.Online })
	p := e.dial(fx.pat, nil)
	fx.c.take(func(f frame) bool { return f.Type == "presence" && string(f.User) == `"pat"` && f.Online })
	p.send(map[string]any{"type": "typing", "conv": fx.room})
	fx.c.take(func(f frame) bool { return f.Type == "typing" && f.From == "pat" })
	fx.fence(fx.b, "f1")
	for _, f := range fx.b.backlog {
		if (f.Type == "presence" && string(f.User) == `"pat"`) || (f.Type == "typing" && f.From == "pat") {
			t.Errorf("the person blocked saw the blocker's presence: %s", f.raw)
		}
	}
	online := func(ms []chat.Member, user string) bool {
		for _, m := range ms {
			if m.ID == user {
				return m.Online
			}
		}
		t.Fatalf("%s is not in the member list", user)
		return false
	}
	if online(membersOf(t, e, fx.bob, fx.room), "pat") || !online(membersOf(t, e, fx.cat, fx.room), "pat") {
		t.Error("HTTP member lists: pat should look offline to bob only")
	}
	for _, c := range []struct {
		cl   *client
		want bool
	}{{fx.b, false}, {fx.c, true}} {
		c.cl.send(map[string]any{"type": "members", "conv": fx.room, "ref": "ml"})
		f := c.cl.take(func(f frame) bool { return f.Ref == "ml" })
		if got := online(f.Members, "pat"); got != c.want {
			t.Errorf("member_list: pat online %t, want %t", got, c.want)
		}
	}
	if st := e.api("DELETE", "/api/blocks/bob", fx.pat, nil, nil); st != 200 {
		t.Fatal(st)
	}
	fx.fence(fx.b, "f2")
	p2 := e.dial(fx.pat, nil) // a new session: typing is forwarded once a second per session
	fx.b.take(func(f frame) bool { return f.Type == "presence" && string(f.User) == `"pat"` && f.Online })
	p2.send(map[string]any{"type": "typing", "conv": fx.room})
	fx.b.take(func(f frame) bool { return f.Type == "typing" && f.From == "pat" })
	if !online(membersOf(t, e, fx.bob, fx.room), "pat") {
		t.Error("after the unblock pat still looks offline to bob")
	}
}

// Staff duties are not blocked. A peer who blocks a supervisor hides from
// them and refuses their ordinary DM, but the supervisor's DM for an
// escalation about the peer opens, and both write in it. A peer who blocks
// the specialist running their room is still moderated by them, and the
// specialist's DM is closed.
func TestBlockStaffDuties(t *testing.T) {
	e := newEscalatingEnv(t, noRateLimit)
	sam, sue, pat := e.token("sam", auth.RoleSpecialist), e.token("sue", auth.RoleSupervisor), e.token("pat", auth.RolePeer)
	room := e.createRoom(sam, "Group")
	p, s, sp := e.dial(pat, nil), e.dial(sue, nil), e.dial(sam, nil)
	p.join(room.ID)
	for _, who := range []string{"sue", "sam"} {
		if st := e.api("PUT", "/api/blocks/"+who, pat, nil, nil); st != 200 {
			t.Fatalf("block %s: %d", who, st)
		}
	}
	var out struct{ Error chat.Error }
	if st := e.api("POST", "/api/dms", sue, map[string]string{"user": "pat"}, &out); st != http.StatusForbidden || out.Error.Code != chat.CodeBlocked {
		t.Fatalf("a supervisor's ordinary DM with a peer who blocked them: %d %+v", st, out.Error)
	}
	// An escalation about pat, raised by sam's concern.
	sp.send(map[string]any{"type": "concern", "user": "pat", "conv": room.ID, "reason": "withdrawn", "ref": "c"})
	var fl struct{ Escalation string }
	if f := sp.take(func(f frame) bool { return f.Ref == "c" }); f.Type != "flagged" || json.Unmarshal([]byte(f.raw), &fl) != nil {
		t.Fatalf("concern: %s", f.raw)
	}
	var dm struct{ Conversation chat.Conversation }
	if st := e.api("POST", "/api/escalations/"+fl.Escalation+"/dm", sue, nil, &dm); st != 200 {
		t.Fatalf("the escalation's DM: %d", st)
	}
	s.take(func(f frame) bool { return f.Type == "conversation" && f.Conversation.ID == dm.Conversation.ID })
	s.expectSynced(dm.Conversation.ID)
	p.take(func(f frame) bool { return f.Type == "conversation" && f.Conversation.ID == dm.Conversation.ID })
	p.expectSynced(dm.Conversation.ID)
	s.sendMsg(dm.Conversation.ID, "s1", "are you safe right now?")
	p.sendMsg(dm.Conversation.ID, "p1", "yes, thank you")

	// sam still moderates pat; sam's DM with pat is closed.
	e.mustMod("POST", "/api/rooms/"+room.ID+"/members/pat/mute", sam, map[string]any{"minutes": 5})
	if st := e.api("POST", "/api/dms", sam, map[string]string{"user": "pat"}, &out); st != http.StatusForbidden || out.Error.Code != chat.CodeBlocked {
		t.Fatalf("a specialist's DM with a peer who blocked them: %d %+v", st, out.Error)
	}
}

// A block made through one node refuses the blocked person's DM send on
// another within a second: the news travels through the broker.
func TestClusterBlock(t *testing.T) {
	c := newCluster(t, 2, "")
	sam, pat, bob := c.token("sam", auth.RoleSpecialist), c.token("pat", auth.RolePeer), c.token("bob", auth.RolePeer)
	a := c.env(0)
	room := a.createRoom(sam, "Across nodes")
	p, b := c.dial(0, pat, nil), c.dial(1, bob, nil)
	p.join(room.ID)
	b.join(room.ID)
	b.send(map[string]any{"type": "open_dm", "user": "pat", "ref": "dm"})
	f := b.take(func(f frame) bool { return f.Ref == "dm" })
	if f.Type != "conversation" {
		t.Fatalf("open_dm: %s", f.raw)
	}
	dm := f.Conversation.ID
	b.sendMsg(dm, "b0", "hello")
	if st := a.api("PUT", "/api/blocks/bob", pat, nil, nil); st != 200 {
		t.Fatalf("block through node 0: %d", st)
	}
	deadline := time.Now().Add(time.Second)
	for i := 0; ; i++ {
		f := b.trySend(dm, fmt.Sprint("b", i+1), "still there?")
		if f.Type == "error" && f.Code == chat.CodeBlocked {
			break
		}
		if f.Type == "error" || time.Now().After(deadline) {
			t.Fatalf("a second after the block on node 0, bob's DM send on node 1 is answered %s, want blocked", f.raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
