package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/chat/server"
)

// Every kind of bad frame gets its documented error code, the connection
// stays open, and every message acked along the way is in history.
func TestBadInputIsRefusedAndNothingAckedIsLost(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.MaxFrameBytes = 2048
		c.MaxMessageBytes = 500
		c.SendRate, c.SendBurst = 0.001, 1000 // a large bucket: no rate limit here
	})
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoom(ann, "Bad input")
	other := e.createRoom(ann, "Not Bob's")
	b := e.dial(bob, nil)
	b.join(room.ID)

	cases := []struct {
		name  string
		frame string
		code  chat.Code
	}{
		{"malformed JSON", `{"type":"send",`, chat.CodeBadJSON},
		{"not an object", `[1,2,3]`, chat.CodeBadJSON},
		{"wrong field type", `{"type":"send","conv":"` + room.ID + `","id":7,"body":"x"}`, chat.CodeBadJSON},
		{"unknown type", `{"type":"shout","conv":"` + room.ID + `"}`, chat.CodeUnknownType},
		{"no type", `{"conv":"` + room.ID + `"}`, chat.CodeMissingField},
		{"send without conv", `{"type":"send","id":"x1","body":"hi"}`, chat.CodeMissingField},
		{"send without id", `{"type":"send","conv":"` + room.ID + `","body":"hi"}`, chat.CodeMissingField},
		{"send without body", `{"type":"send","conv":"` + room.ID + `","id":"x2"}`, chat.CodeMissingField},
		{"blank body", `{"type":"send","conv":"` + room.ID + `","id":"x3","body":"  \n "}`, chat.CodeMissingField},
		{"id too long", `{"type":"send","conv":"` + room.ID + `","id":"` + strings.Repeat("i", 65) + `","body":"hi"}`, chat.CodeInvalidField},
		{"NUL in body", `{"type":"send","conv":"` + room.ID + `","id":"x8","body":"a\u0000b"}`, chat.CodeInvalidField},
		{"message too long", `{"type":"send","conv":"` + room.ID + `","id":"x4","body":"` + strings.Repeat("a", 501) + `"}`, chat.CodeMessageTooLong},
		{"frame too large", `{"type":"send","conv":"` + room.ID + `","id":"x5","body":"` + strings.Repeat("a", 3000) + `"}`, chat.CodeFrameTooLarge},
		{"edit without seq", `{"type":"edit","conv":"` + room.ID + `","body":"x"}`, chat.CodeMissingField},
		{"not a member", `{"type":"send","conv":"` + other.ID + `","id":"x6","body":"hi"}`, chat.CodeNotMember},
		{"unknown conversation", `{"type":"send","conv":"r_nope","id":"x7","body":"hi"}`, chat.CodeNotMember},
		{"typing where not a member", `{"type":"typing","conv":"` + other.ID + `"}`, chat.CodeNotMember},
		{"members where not a member", `{"type":"members","conv":"` + other.ID + `"}`, chat.CodeNotMember},
		{"join unknown room", `{"type":"join","conv":"r_nope"}`, chat.CodeNotFound},
		{"second hello", `{"type":"hello","token":"` + bob + `"}`, chat.CodeAlreadyHello},
	}
	var acked []int64
	for i, tc := range cases {
		b.sendRaw([]byte(tc.frame))
		f := b.expect("error")
		if f.Code != tc.code {
			t.Errorf("%s: got %s, want code %s", tc.name, f.raw, tc.code)
		}
		if f.Message == "" {
			t.Errorf("%s: error without a message: %s", tc.name, f.raw)
		}
		// The connection is still usable, and a good message is acked.
		acked = append(acked, b.sendMsg(room.ID, fmt.Sprint("ok", i), fmt.Sprint("still here ", i)).Seq)
	}
	// A binary frame is not JSON text.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.ws.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if f := b.expect("error"); f.Code != chat.CodeBadJSON {
		t.Errorf("binary frame: %s", f.raw)
	}
	var p struct{ Messages []chat.Event }
	e.api("GET", fmt.Sprintf("/api/conversations/%s/messages?limit=200", room.ID), bob, nil, &p)
	if len(p.Messages) != len(acked) {
		t.Fatalf("history has %d messages, %d were acked", len(p.Messages), len(acked))
	}
	for i, m := range p.Messages {
		if m.Seq != acked[i] || m.Body != fmt.Sprint("still here ", i) {
			t.Fatalf("history[%d] = %+v, want the message acked with seq %d", i, m, acked[i])
		}
	}
}

// Frames past the hard limit are abuse: the connection is closed with 1009.
func TestHugeFrameCloses(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.MaxFrameBytes, c.HardFrameBytes = 1024, 4096 })
	bob := e.token("bob", auth.RolePeer)
	b := e.dial(bob, nil)
	b.sendRaw([]byte(`{"type":"ping","ref":"` + strings.Repeat("z", 8000) + `"}`))
	if code := b.waitClosed(); code != websocket.StatusMessageTooBig {
		t.Fatalf("closed with %d, want 1009", code)
	}
}

// A client that keeps sending refused frames is closed with 4009.
func TestAbusiveClientIsClosed(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.MaxStrikes = 5 })
	b := e.dial(e.token("bob", auth.RolePeer), nil)
	for i := 0; i < 6; i++ {
		b.sendRaw([]byte(`not json`))
	}
	if code := b.waitClosed(); code != protocol.ClosePolicy {
		t.Fatalf("closed with %d, want %d", code, protocol.ClosePolicy)
	}
}

// Sends beyond the user's token bucket are refused with rate_limited and a
// retry time; the connection stays open and later sends succeed. The
// bucket is per user, so a second tab does not get a second allowance.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.SendRate, c.SendBurst = 0.5, 3 })
	ann := e.token("ann", auth.RoleSpecialist)
	room := e.createRoom(ann, "Rate")
	a := e.dial(ann, nil)
	a.expectSynced(room.ID)
	a2 := e.dial(ann, nil)
	a2.expectSynced(room.ID)
	for i := 0; i < 3; i++ {
		a.sendMsg(room.ID, fmt.Sprint("m", i), "ok")
	}
	for _, c := range []*client{a, a2} {
		c.send(map[string]any{"type": "send", "conv": room.ID, "id": "over", "body": "one too many"})
		f := c.expect("error")
		if f.Code != chat.CodeRateLimited || !f.Temporary || f.RetryAfterMS <= 0 || f.ID != "over" {
			t.Fatalf("over the limit: %s", f.raw)
		}
	}
	a.send(map[string]any{"type": "ping", "ref": "p"})
	if f := a.expect("pong"); f.Ref != "p" {
		t.Fatalf("pong %s", f.raw)
	}
}

// A user may belong to at most MaxRoomsPerUser rooms.
func TestRoomLimit(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.MaxRoomsPerUser = 2 })
	ann, bob := e.token("ann", auth.RoleAdmin), e.token("bob", auth.RolePeer)
	var rooms []chat.Conversation
	for i := 0; i < 3; i++ {
		// Ann creates them through different users' limits: she is an
		// admin with her own limit too, so she leaves after creating.
		c := e.createRoom(ann, fmt.Sprint("Room ", i))
		if st := e.api("POST", "/api/rooms/"+c.ID+"/leave", ann, nil, nil); st != 200 {
			t.Fatalf("leave: %d", st)
		}
		rooms = append(rooms, c)
	}
	b := e.dial(bob, nil)
	b.join(rooms[0].ID)
	b.join(rooms[1].ID)
	b.send(map[string]any{"type": "join", "conv": rooms[2].ID})
	if f := b.expect("error"); f.Code != chat.CodeRoomLimit {
		t.Fatalf("third room: %s", f.raw)
	}
	var out struct{ Error chat.Error }
	if st := e.api("POST", "/api/rooms/"+rooms[2].ID+"/join", bob, nil, &out); st != http.StatusConflict || out.Error.Code != chat.CodeRoomLimit {
		t.Fatalf("third room over HTTP: %d %+v", st, out)
	}
	// Leaving one makes room for another.
	b.send(map[string]any{"type": "leave", "conv": rooms[0].ID, "ref": "l"})
	if f := b.take(func(f frame) bool { return f.Ref == "l" }); f.Type != "left" {
		t.Fatalf("leave: %s", f.raw)
	}
	b.join(rooms[2].ID)
	// After leaving, sending there is refused.
	b.send(map[string]any{"type": "send", "conv": rooms[0].ID, "id": "gone", "body": "hi"})
	if f := b.expect("error"); f.Code != chat.CodeNotMember {
		t.Fatalf("send after leave: %s", f.raw)
	}
}

// WebSocket upgrades from origins outside the allow-list are refused with
// 403 before any frame is exchanged.
func TestOriginCheck(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.AllowedOrigins = []string{"care.example.org"} })
	url := strings.Replace(e.http.URL, "http", "ws", 1) + "/ws"
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://evil.example.com", false},
		{"https://care.example.org.evil.com", false},
		{"https://care.example.org", true},
		{e.http.URL, true}, // same host
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {tc.origin}}})
		cancel()
		if tc.ok {
			if err != nil {
				t.Errorf("origin %s refused: %v", tc.origin, err)
				continue
			}
			ws.CloseNow()
			continue
		}
		if err == nil {
			ws.CloseNow()
			t.Errorf("origin %s accepted", tc.origin)
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %s: %v, want 403", tc.origin, err)
		}
	}
}

// A connection must authenticate with its first frame, in time.
func TestHelloRules(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.HelloTimeout = time.Second })
	// Silence: refused with auth_required and closed with 4002.
	c := e.dialRaw(nil)
	if f := c.expect("error"); f.Code != chat.CodeAuthRequired {
		t.Fatalf("silent client: %s", f.raw)
	}
	if code := c.waitClosed(); code != protocol.CloseHelloTimeout {
		t.Fatalf("silent client closed with %d", code)
	}
	// Another frame first: refused, 4001.
	c = e.dialRaw(nil)
	c.send(map[string]any{"type": "send", "conv": "r", "id": "x", "body": "hi"})
	if f := c.expect("error"); f.Code != chat.CodeAuthRequired {
		t.Fatalf("send before hello: %s", f.raw)
	}
	if code := c.waitClosed(); code != protocol.CloseUnauthorized {
		t.Fatalf("send before hello closed with %d", code)
	}
}

// Tokens are checked on every WebSocket and HTTP entry point; each kind of
// bad token gets its documented code; a valid token with the wrong role is
// refused the action.
func TestAuthTable(t *testing.T) {
	e := newEnv(t)
	otherSigner, err := auth.NewHMACSigner([]byte("another-secret-another-secret-another"))
	if err != nil {
		t.Fatal(err)
	}
	mint := func(s *auth.Signer, sub string, role auth.Role, ttl time.Duration) string {
		tok, err := s.Mint(sub, sub, role, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	expired := func() string {
		// Minted with a valid signature but an exp in the past.
		tok := mint(e.signer, "ann", auth.RolePeer, time.Hour)
		parts := strings.Split(tok, ".")
		claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var m map[string]any
		json.Unmarshal(claims, &m)
		m["exp"] = time.Now().Add(-time.Minute).Unix()
		return resign(t, e.secret, m)
	}()
	algNone := func() string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		c, _ := json.Marshal(map[string]any{"sub": "mallory", "name": "M", "role": "admin", "exp": time.Now().Add(time.Hour).Unix()})
		return h + "." + base64.RawURLEncoding.EncodeToString(c) + "."
	}()
	cases := []struct {
		name  string
		token string
		code  chat.Code
	}{
		{"missing token", "", chat.CodeAuthRequired},
		{"expired", expired, chat.CodeTokenExpired},
		{"wrong key", mint(otherSigner, "ann", auth.RoleAdmin, time.Hour), chat.CodeTokenInvalid},
		{"alg none", algNone, chat.CodeTokenInvalid},
		{"malformed", "not.a.jwt", chat.CodeTokenInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out struct{ Error chat.Error }
			if st := e.api("GET", "/api/rooms", tc.token, nil, &out); st != http.StatusUnauthorized || out.Error.Code != tc.code {
				t.Errorf("HTTP: %d %+v, want 401 %s", st, out, tc.code)
			}
			c := e.dialRaw(nil)
			c.send(map[string]any{"type": "hello", "token": tc.token})
			if f := c.expect("error"); f.Code != tc.code || strings.Contains(f.raw, tc.token) && tc.token != "" {
				t.Errorf("WebSocket: %s, want %s", f.raw, tc.code)
			}
			if code := c.waitClosed(); code != protocol.CloseUnauthorized {
				t.Errorf("WebSocket closed with %d, want 4001", code)
			}
		})
	}
	t.Run("token in query string ignored", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.http.URL+"/api/rooms?access_token="+mint(e.signer, "ann", auth.RoleAdmin, time.Hour), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", resp.StatusCode)
		}
	})
	t.Run("wrong role for an action", func(t *testing.T) {
		var out struct{ Error chat.Error }
		peer := mint(e.signer, "pia", auth.RolePeer, time.Hour)
		if st := e.api("POST", "/api/rooms", peer, map[string]string{"name": "Mine"}, &out); st != http.StatusForbidden || out.Error.Code != chat.CodeForbidden {
			t.Errorf("peer creating a room: %d %+v", st, out)
		}
		spec := mint(e.signer, "sue", auth.RoleSpecialist, time.Hour)
		if st := e.api("POST", "/api/rooms", spec, map[string]string{"name": "Mine"}, nil); st != http.StatusCreated {
			t.Errorf("specialist creating a room: %d", st)
		}
	})
	t.Run("session ends when the token expires", func(t *testing.T) {
		c := e.dial(mint(e.signer, "shortlived", auth.RolePeer, 1500*time.Millisecond), nil)
		if f := c.expect("error"); f.Code != chat.CodeTokenExpired {
			t.Errorf("got %s", f.raw)
		}
		if code := c.waitClosed(); code != protocol.CloseUnauthorized {
			t.Errorf("closed with %d, want 4001", code)
		}
	})
}

// Joins (and leaves, and DMs opened) beyond the user's membership bucket
// are refused with rate_limited and count as refused frames: a client that
// floods joins is closed with 4009 instead of being announced to room
// after room.
func TestMembershipRateLimit(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.MembershipRate, c.MembershipBurst, c.MaxStrikes, c.MaxRoomsPerUser = 0.001, 3, 5, 100
	})
	admin := e.token("ann", auth.RoleAdmin)
	var rooms []chat.Conversation
	for i := range 12 {
		rooms = append(rooms, e.createRoom(admin, fmt.Sprint("Group ", i)))
	}
	b := e.dial(e.token("bob", auth.RolePeer), nil)
	for i, r := range rooms[:3] {
		b.send(map[string]any{"type": "join", "conv": r.ID, "ref": fmt.Sprint("j", i)})
		if f := b.take(func(f frame) bool { return f.Ref == fmt.Sprint("j", i) }); f.Type != "conversation" {
			t.Fatalf("join %d within the burst: %s", i, f.raw)
		}
	}
	b.send(map[string]any{"type": "join", "conv": rooms[3].ID, "ref": "over"})
	if f := b.take(func(f frame) bool { return f.Ref == "over" }); f.Code != chat.CodeRateLimited || !f.Temporary || f.RetryAfterMS <= 0 {
		t.Fatalf("join over the limit: %s", f.raw)
	}
	if n := len(membersOf(t, e, admin, rooms[3].ID)); n != 1 {
		t.Fatalf("the refused join was carried out: %d members", n)
	}
	// The refusal above was the first strike; five more make six, past
	// MaxStrikes, and the sixth is the last frame written: one more could
	// meet a socket the server has closed already.
	for i := 4; i < 9; i++ {
		b.send(map[string]any{"type": "join", "conv": rooms[i].ID})
	}
	if code := b.waitClosed(); code != 4009 {
		t.Fatalf("a client flooding joins was closed with %d, want 4009", code)
	}
}

// Flags and concerns are capped per user: each one pages people.
func TestReportsCapped(t *testing.T) {
	e := newEscalatingEnv(t, func(c *server.Config) { c.ReportsPerHour = 2 })
	spec := e.token("sam", auth.RoleSpecialist)
	room := e.createRoom(spec, "Group")
	p := e.dial(e.token("pat", auth.RolePeer), nil)
	p.join(room.ID)
	fr := e.dial(e.token("fay", auth.RolePeer), nil)
	fr.join(room.ID)
	var seqs []int64
	for i := range 3 {
		seqs = append(seqs, p.sendMsg(room.ID, fmt.Sprint("m", i), fmt.Sprint("message ", i)).Seq)
	}
	for i, seq := range seqs {
		ref := fmt.Sprint("f", i)
		fr.send(map[string]any{"type": "flag", "conv": room.ID, "seq": seq, "reason": "worried", "ref": ref})
		f := fr.take(func(f frame) bool { return f.Ref == ref })
		switch {
		case i < 2 && f.Type != "flagged":
			t.Fatalf("flag %d (seq %d of %v) within the cap: %s", i, seq, seqs, f.raw)
		case i == 2 && f.Code != chat.CodeRateLimited:
			t.Fatalf("flag over the cap: %s", f.raw)
		}
	}
	var list struct{ Escalations []json.RawMessage }
	e.api("GET", "/api/escalations", e.token("sue", auth.RoleSupervisor), nil, &list)
	if len(list.Escalations) != 2 {
		t.Fatalf("escalations opened: %d, want 2", len(list.Escalations))
	}
}

func membersOf(t *testing.T, e *env, token, conv string) []chat.Member {
	t.Helper()
	var out struct{ Members []chat.Member }
	if st := e.api("GET", "/api/conversations/"+conv+"/members", token, nil, &out); st != 200 {
		t.Fatalf("members: %d", st)
	}
	return out.Members
}
