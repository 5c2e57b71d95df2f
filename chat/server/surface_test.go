package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/static"
)

// do sends a raw request to the node and returns the response with its
// body read.
func (e *env) do(method, path, token string, body io.Reader, mod func(*http.Request)) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.http.URL+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if mod != nil {
		mod(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// Every answer, whatever produced it (the client's files, the API, its
// errors, a 404, a wrong method, the operations endpoints), says nosniff,
// no-referrer, DENY and carries a Content-Security-Policy that forbids
// framing; answers other than the client's files allow nothing at all.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.Static = static.Handler(0) })
	ann := e.token("ann", auth.RoleAdmin)
	room := e.createRoom(ann, "Headers")
	cases := []struct {
		method, path, token string
		status              int
		page                bool // answered by the browser client's handler
	}{
		{"GET", "/", "", 200, true},
		{"GET", "/js/main.js", "", 200, true},
		{"GET", "/sw.js", "", 200, true},
		{"GET", "/no-such-file.js", "", 404, true},
		{"GET", "/api/me", ann, 200, false},
		{"GET", "/api/conversations/" + room.ID + "/messages", ann, 200, false},
		{"GET", "/api/me", "", 401, false},
		{"GET", "/api/conversations/nope/messages", ann, 404, false},
		{"POST", "/api/rooms", ann, 400, false},
		{"DELETE", "/api/me", ann, 405, false},
		{"GET", "/api/no-such-route", ann, 404, true}, // GET / is the client's
		{"GET", "/healthz", "", 200, false},
		{"GET", "/readyz", "", 200, false},
		{"GET", "/metrics", "", 404, false},
		{"GET", "/ws", "", 426, false},
	}
	for _, tc := range cases {
		resp, body := e.do(tc.method, tc.path, tc.token, strings.NewReader("{"), nil)
		h := resp.Header
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d (%s)", tc.method, tc.path, resp.StatusCode, tc.status, body)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s %s: headers %v", tc.method, tc.path, h)
		}
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s %s: Content-Security-Policy %q", tc.method, tc.path, csp)
		}
		if scripts := strings.Contains(csp, "script-src 'self'"); scripts != tc.page {
			t.Errorf("%s %s: Content-Security-Policy %q: scripts allowed %t, want %t", tc.method, tc.path, csp, scripts, tc.page)
		}
	}
}

// /metrics is not on the public handler unless a metrics token is set;
// then it needs that token as a bearer.
func TestMetricsNeedTheirToken(t *testing.T) {
	open := newEnv(t)
	if resp, body := open.do("GET", "/metrics", "", nil, nil); resp.StatusCode != 404 || strings.Contains(body, "kindred_connections") {
		t.Fatalf("/metrics without a metrics token: %d %.200s", resp.StatusCode, body)
	}
	if !strings.Contains(scrape(open), "kindred_connections") {
		t.Fatal("MetricsHandler does not serve the metrics")
	}

	const tok = "metrics-token-5c1d0b7e"
	e := newEnv(t, func(c *server.Config) { c.MetricsToken = tok })
	user := e.token("ann", auth.RoleAdmin)
	for _, bad := range []string{"", "wrong", tok + "x", user} {
		resp, body := e.do("GET", "/metrics", bad, nil, nil)
		if resp.StatusCode != 401 || !strings.Contains(body, `"auth_required"`) || strings.Contains(body, "kindred_connections") {
			t.Errorf("/metrics with bearer %.12q: %d %.200s", bad, resp.StatusCode, body)
		}
	}
	resp, body := e.do("GET", "/metrics", tok, nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "kindred_connections") {
		t.Fatalf("/metrics with the token: %d %.200s", resp.StatusCode, body)
	}
}

// A body over 64 KiB is refused whole with 413 body_too_large, even when
// it starts as valid JSON and even without a Content-Length; a body with
// anything but white space after its JSON value is bad_json. Nothing of a
// refused request is stored.
func TestBodyLimitsAreStrict(t *testing.T) {
	e := newEnv(t)
	ann := e.token("ann", auth.RoleAdmin)
	room := e.createRoom(ann, "Limits")
	const limit = 64 << 10
	valid := `{"name":"Over the limit"}`
	chunked := func(r *http.Request) { r.ContentLength = -1 }
	cases := []struct {
		name, path, body string
		mod              func(*http.Request)
		status           int
		code             chat.Code
	}{
		{"valid JSON then padding", "/api/rooms", valid + strings.Repeat(" ", limit), nil, 413, chat.CodeBodyTooLarge},
		{"valid JSON then padding, chunked", "/api/rooms", valid + strings.Repeat(" ", limit), chunked, 413, chat.CodeBodyTooLarge},
		{"one long string", "/api/rooms", `{"name":"x","topic":"` + strings.Repeat("t", limit) + `"}`, chunked, 413, chat.CodeBodyTooLarge},
		{"a moderation body", "/api/rooms/" + room.ID + "/bans/bob", `{"reason":"` + strings.Repeat("r", limit) + `"}`, nil, 413, chat.CodeBodyTooLarge},
		{"two JSON values", "/api/rooms", valid + `{"name":"second"}`, nil, 400, chat.CodeBadJSON},
		{"trailing garbage", "/api/rooms", valid + "x", nil, 400, chat.CodeBadJSON},
		{"trailing bracket", "/api/rooms", valid + "]", nil, 400, chat.CodeBadJSON},
		{"no body", "/api/rooms", "", nil, 400, chat.CodeBadJSON},
		{"exactly at the limit", "/api/rooms", valid + strings.Repeat(" ", limit-len(valid)), nil, 201, ""},
		{"trailing white space", "/api/rooms", valid + " \n\t", chunked, 201, ""},
	}
	for _, tc := range cases {
		method := "POST"
		if strings.Contains(tc.path, "/bans/") {
			method = "DELETE"
		}
		resp, body := e.do(method, tc.path, ann, strings.NewReader(tc.body), tc.mod)
		if resp.StatusCode != tc.status || tc.code != "" && !strings.Contains(body, `"code":"`+string(tc.code)+`"`) {
			t.Errorf("%s: %d %.200s, want %d %s", tc.name, resp.StatusCode, body, tc.status, tc.code)
		}
	}
	var out struct{ Rooms []chat.Conversation }
	e.api("GET", "/api/rooms", ann, nil, &out)
	if len(out.Rooms) != 3 { // Limits and the two accepted at the limit
		t.Errorf("rooms after the refusals: %+v", out.Rooms)
	}
}

// Correctly signed tokens with a sub that would be stored as a broken user
// id, or with times written as strings, are refused over HTTP and over the
// WebSocket (4001), and no such user is stored.
func TestBadClaimsRefused(t *testing.T) {
	e := newEnv(t)
	exp := time.Now().Add(time.Hour).Unix()
	cases := map[string]map[string]any{
		"NUL in sub":      {"sub": "ann\x00admin", "role": "peer", "exp": exp},
		"newline in sub":  {"sub": "ann\nrole=admin", "role": "peer", "exp": exp},
		"sub of 11 KB":    {"sub": strings.Repeat("a", 11<<10), "role": "peer", "exp": exp},
		"exp as a string": {"sub": "ann", "role": "peer", "exp": fmt.Sprint(exp + 100*365*86400)},
		"NUL in name":     {"sub": "ann", "name": "Ann\x00", "role": "peer", "exp": exp},
	}
	for name, claims := range cases {
		tok := resign(t, e.secret, claims)
		var out struct{ Error chat.Error }
		if st := e.api("GET", "/api/me", tok, nil, &out); st != 401 || out.Error.Code != chat.CodeTokenInvalid {
			t.Errorf("%s over HTTP: %d %+v", name, st, out)
		}
		c := e.dialRaw(nil)
		c.send(map[string]any{"type": "hello", "token": tok})
		if f := c.expect("error"); f.Code != chat.CodeTokenInvalid {
			t.Errorf("%s over the WebSocket: %s", name, f.raw)
		}
		if code := c.waitClosed(); code != protocol.CloseUnauthorized {
			t.Errorf("%s: closed with %d, want 4001", name, code)
		}
	}
	if u, err := e.store.User(t.Context(), "ann"); err == nil {
		t.Errorf("a refused token stored its user: %+v", u)
	}
}

// after=0 is the first page of a conversation, from its start; no after
// is the newest page. In a room with joined history the first page starts
// where the reader joined.
func TestHistoryAfterZeroIsTheFirstPage(t *testing.T) {
	e := newEnv(t)
	ann := e.token("ann", auth.RoleAdmin)
	room := e.createRoom(ann, "Pages")
	a := e.dial(ann, nil)
	a.join(room.ID)
	for i := 1; i <= 8; i++ {
		a.sendMsg(room.ID, fmt.Sprint("m", i), fmt.Sprint("message ", i))
	}
	page := func(token, query string) []int64 {
		t.Helper()
		var out struct{ Messages []struct{ Seq int64 } }
		if st := e.api("GET", "/api/conversations/"+room.ID+"/messages?"+query, token, nil, &out); st != 200 {
			t.Fatalf("GET messages?%s: %d", query, st)
		}
		var seqs []int64
		for _, m := range out.Messages {
			seqs = append(seqs, m.Seq)
		}
		return seqs
	}
	want := func(query string, got []int64, first, last int64) {
		t.Helper()
		if len(got) == 0 || got[0] != first || got[len(got)-1] != last || int64(len(got)) != last-first+1 {
			t.Errorf("%s: seqs %v, want %d…%d", query, got, first, last)
		}
	}
	want("after=0&limit=3", page(ann, "after=0&limit=3"), 1, 3)
	want("limit=3", page(ann, "limit=3"), 6, 8)
	want("after=3&limit=2", page(ann, "after=3&limit=2"), 4, 5)

	// Bob joins after message 8 in a joined-history room: his first page
	// starts after it.
	bob := e.token("bob", auth.RolePeer)
	if st := e.api("POST", "/api/rooms/"+room.ID+"/join", bob, nil, nil); st != 200 {
		t.Fatalf("bob join: %d", st)
	}
	for i := 9; i <= 12; i++ {
		a.sendMsg(room.ID, fmt.Sprint("m", i), fmt.Sprint("message ", i))
	}
	want("bob after=0&limit=2", page(bob, "after=0&limit=2"), 9, 10)
}
