package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// bodyRoutes are the API routes that read a JSON body, with {room} for a
// room the caller owns and {user} for another user.
var bodyRoutes = []struct{ method, path string }{
	{"POST", "/api/rooms"},
	{"PATCH", "/api/rooms/{room}"},
	{"POST", "/api/rooms/{room}/members"},
	{"PUT", "/api/rooms/{room}/policy"},
	{"POST", "/api/rooms/{room}/invites"},
	{"POST", "/api/rooms/{room}/bans"},
	{"DELETE", "/api/rooms/{room}/bans/{user}"},
	{"POST", "/api/rooms/{room}/members/{user}/mute"},
	{"PUT", "/api/rooms/{room}/members/{user}/role"},
	{"DELETE", "/api/rooms/{room}/members/{user}"},
	{"POST", "/api/rooms/{room}/messages/1/hide"},
	{"POST", "/api/rooms/{room}/pending/p_x/approve"},
	{"POST", "/api/rooms/{room}/pending/p_x/reject"},
	{"POST", "/api/rooms/{room}/reports"},
	{"POST", "/api/reports/1/resolve"},
	{"POST", "/api/dms"},
	{"POST", "/api/escalations/e_x/notes"},
	{"POST", "/api/escalations/e_x/handoff"},
	{"POST", "/api/escalations/e_x/resolve"},
	{"POST", "/api/oncall/shifts"},
	{"POST", "/api/push/subscriptions"},
	{"DELETE", "/api/push/subscriptions"},
	{"DELETE", "/api/rooms/{room}/members/{user}/mute"},
	{"POST", "/api/rooms/{room}/guidelines/accept"},
	{"PUT", "/api/holds/users/{user}"},
	{"PUT", "/api/holds/rooms/{room}"},
}

// FuzzAPIBodies sends arbitrary bodies to every API route that reads one,
// as an admin who owns the room, through the node's real handler and
// SQLite store. Whatever the body, the answer is JSON: a success, or an
// error with a code whose status the error table gives; never a 500 or a
// panic. Seeds: testdata/fuzz/FuzzAPIBodies (route index, body).
func FuzzAPIBodies(f *testing.F) {
	e := newEscalatingEnv(f)
	ann := e.token("ann", auth.RoleAdmin)
	room := e.createRoom(ann, "Fuzzed")
	e.token("bob", auth.RolePeer)
	if st := e.api("POST", "/api/rooms/"+room.ID+"/join", e.token("bob", auth.RolePeer), nil, nil); st != 200 {
		f.Fatalf("bob join: %d", st)
	}
	h := e.srv.Handler()
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := bodyRoutes[int(route)%len(bodyRoutes)]
		path := string(bytes.ReplaceAll(bytes.ReplaceAll([]byte(r.path), []byte("{room}"), []byte(room.ID)), []byte("{user}"), []byte("bob")))
		req := httptest.NewRequest(r.method, path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ann)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q: %d %s", r.method, path, body, rec.Code, rec.Body)
		}
		if rec.Code < 400 {
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s %s %q: %d with a body that is not JSON: %s", r.method, path, body, rec.Code, rec.Body)
			}
			return
		}
		var out struct{ Error *chat.Error }
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Error == nil || out.Error.Code == "" {
			t.Fatalf("%s %s %q: %d without a JSON error: %s", r.method, path, body, rec.Code, rec.Body)
		}
		if out.Error.Code == chat.CodeInternal {
			t.Fatalf("%s %s %q: internal error %+v", r.method, path, body, out.Error)
		}
	})
}
