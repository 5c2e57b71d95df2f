package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/server"
)

// apiRaw calls the HTTP API and returns the response's status, its
// Retry-After header and its error (if any).
func (e *env) apiRaw(method, path, token string, body string) (int, string, chat.Error) {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.http.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Error chat.Error }
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, resp.Header.Get("Retry-After"), out.Error
}

// The HTTP join, leave and open-DM routes take from the membership budget
// the join, leave and open_dm frames take from: one per user on the node,
// whichever front end spends it, kept after the user's sessions end.
// Refusals are 429 rate_limited with Retry-After, counted as refused.
func TestHTTPMembershipRateLimit(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.MembershipRate, c.MembershipBurst, c.MaxRoomsPerUser = 0.001, 3, 100
	})
	admin := e.token("ann", auth.RoleAdmin)
	var rooms []chat.Conversation
	for i := range 6 {
		rooms = append(rooms, e.createRoom(admin, fmt.Sprint("Group ", i)))
	}
	bob := e.token("bob", auth.RolePeer)
	e.dial(e.token("cat", auth.RolePeer), nil) // someone to open a DM with

	// Two joins over HTTP, the third over the WebSocket: the burst is spent.
	for _, r := range rooms[:2] {
		if st, _, er := e.apiRaw("POST", "/api/rooms/"+r.ID+"/join", bob, ""); st != 200 {
			t.Fatalf("HTTP join within the burst: %d %+v", st, er)
		}
	}
	b := e.dial(bob, nil)
	b.join(rooms[2].ID)
	b.send(map[string]any{"type": "join", "conv": rooms[3].ID, "ref": "ws-over"})
	if f := b.take(func(f frame) bool { return f.Ref == "ws-over" }); f.Code != chat.CodeRateLimited {
		t.Fatalf("a join frame after the HTTP joins spent the budget: %s", f.raw)
	}
	b.ws.CloseNow()
	<-b.done

	before := metric(t, e, `kindred_frames_rejected_total{code="rate_limited"}`)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/rooms/" + rooms[4].ID + "/join", ""},
		{"POST", "/api/rooms/" + rooms[0].ID + "/leave", ""},
		{"POST", "/api/dms", `{"user":"cat"}`},
	} {
		st, retry, er := e.apiRaw(c.method, c.path, bob, c.body)
		if st != http.StatusTooManyRequests || er.Code != chat.CodeRateLimited || !er.Temporary || er.RetryAfterMS <= 0 {
			t.Errorf("%s %s over the budget (no session left): %d %+v", c.method, c.path, st, er)
		}
		if want := fmt.Sprint((er.RetryAfterMS + 999) / 1000); retry != want {
			t.Errorf("%s %s: Retry-After %q, want %q", c.method, c.path, retry, want)
		}
	}
	if got := metric(t, e, `kindred_frames_rejected_total{code="rate_limited"}`) - before; got != 3 {
		t.Errorf("refused HTTP calls counted %v times, want 3", got)
	}
	if n := len(membersOf(t, e, admin, rooms[4].ID)); n != 1 {
		t.Errorf("the refused HTTP join was carried out: %d members", n)
	}
	if n := len(membersOf(t, e, admin, rooms[0].ID)); n != 2 {
		t.Errorf("the refused HTTP leave was carried out: %d members", n)
	}
	// Another user's budget is their own.
	if st, _, er := e.apiRaw("POST", "/api/rooms/"+rooms[4].ID+"/join", e.token("dee", auth.RolePeer), ""); st != 200 {
		t.Fatalf("another user's join: %d %+v", st, er)
	}
}
