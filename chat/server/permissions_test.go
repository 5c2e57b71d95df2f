package server_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/server"

	_ "modernc.org/sqlite" // the "sqlite" driver, for setting room roles in the node's file
)

// permGlobalRoles and permRoomRoles are the permission table's columns and
// the room roles each column is tried with (docs/permissions.md).
var (
	permGlobalRoles = []auth.Role{auth.RolePeer, auth.RoleSpecialist, auth.RoleSupervisor, auth.RoleAdmin}
	permRoomRoles   = []chat.RoomRole{chat.RoomOwner, chat.RoomModerator, chat.RoomMember, chat.RoomNone}
)

func permRoomName(r chat.RoomRole) string {
	if r == chat.RoomNone {
		return "none"
	}
	return string(r)
}

// permHeldText is scored imminent by the crisis detector, so a room that
// holds imminent messages holds it for a supervisor.
const permHeldText = "goodbye everyone, I have the pills and I'm taking them tonight"

// permUser is the caller of one column of cells: a global role (its token)
// and a room role, which it has in every fixture room (none: in none of
// them, except that it wrote two messages in the main room before it left).
type permUser struct {
	ident auth.Identity
	room  chat.RoomRole
	tok   string
	ws    *client // its one session, opened once its memberships were set
	// editSeq and deleteSeq are its own messages in the main room.
	editSeq, deleteSeq int64
	// esc is an escalation about subj that this user acks, hands off and
	// resolves, made when first needed.
	esc string
}

// permCase is how to make a valid request on one route or frame: one
// that succeeds whenever the table allows it.
type permCase struct {
	// Routes: the path (with the fixture's ids), the body and the
	// documented success status.
	path func(t *testing.T, u *permUser) string
	body func(u *permUser) any
	ok   int
	// Frames: the frame (without ref) and the type of its documented
	// answer; "" for a frame that is not answered (typing).
	frame  func(t *testing.T, u *permUser) map[string]any
	answer string
	// passed are error codes that still show the table let the frame
	// through: the session's state refused it after the permission (a
	// video_answer with no offer of the server's to answer).
	passed []chat.Code
}

// permFixture is one escalating node with the rooms, users, messages and
// escalations every cell needs.
type permFixture struct {
	e     *env
	users []*permUser
	// founder (an admin) created every fixture room and set their roles.
	founder string
	// main is the room the non-mutating cells act in; cells that change
	// memberships each get a room of their own (rooms, by purpose), so each
	// user's role there is the one its cells are about.
	main  string
	rooms map[string]string
	// subjMsg is a message of subj's in main, for flags.
	subjMsg int64
	// rep is a specialist's session that raises concerns about subj,
	// which is how cells get escalations that are not about the caller.
	rep *client
	// shared is an escalation about subj in main; escJoin one in
	// rooms["esc-join"]; held one holding subj's message in rooms["held"].
	shared, escJoin, held string
	// report is an open report about subj in main, for refused resolves.
	report string
	// video is the node's SFU; vguest is subj's session, which waits in
	// the waiting room of rooms["video-wait"] for admit and deny cells.
	video  *videoNode
	vguest *client
	n      int
}

func (fx *permFixture) ref(prefix string) string {
	fx.n++
	return fmt.Sprintf("%s-%d", prefix, fx.n)
}

// use makes c report to t (a subtest) until the returned func is called.
func permUse(c *client, t testing.TB) func() {
	old := c.t
	c.t = t
	return func() { c.t = old }
}

// call makes an HTTP API request; it returns the status, the error code
// (if the answer is an error) and the answer.
func (fx *permFixture) call(t testing.TB, method, path, tok string, body any) (int, chat.Code, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, fx.e.http.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out struct {
		Error struct {
			Code chat.Code `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out.Error.Code, strings.TrimSpace(string(data))
}

// permShort shortens an answer for a failure message.
func permShort(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// must is call for the fixture's own requests, which must succeed.
func (fx *permFixture) must(t testing.TB, method, path, tok string, body any, want int) string {
	t.Helper()
	st, _, raw := fx.call(t, method, path, tok, body)
	if st != want {
		t.Fatalf("fixture: %s %s: %d %s, want %d", method, path, st, permShort(raw), want)
	}
	return raw
}

// newEscalation has rep raise a concern about subj naming conv: a new
// escalation, never about any cell's caller.
func (fx *permFixture) newEscalation(t testing.TB, conv string) string {
	t.Helper()
	defer permUse(fx.rep, t)()
	ref := fx.ref("esc")
	fx.rep.send(map[string]any{"type": "concern", "user": "subj", "conv": conv, "reason": "withdrawn lately", "ref": ref})
	f := fx.rep.take(func(f frame) bool { return f.Ref == ref })
	var fl struct{ Escalation string }
	if f.Type != "flagged" || json.Unmarshal([]byte(f.raw), &fl) != nil || fl.Escalation == "" {
		t.Fatalf("fixture: concern: %s", f.raw)
	}
	return fl.Escalation
}

func newPermFixture(t *testing.T) *permFixture {
	// The one-on-one policy (beside the table) would refuse a DM between
	// two peers who share no room; TestDMPolicy covers it.
	video := withVideo(t, 20) // every cell's caller in one session, and its host
	e := newEscalatingPushEnv(t, server.EscalationOptions{}, noRateLimit, video.set, func(c *server.Config) { c.Detector, c.DMPolicy = crisisDetector, server.DMAnyone })
	video.wire(e)
	fx := &permFixture{e: e, rooms: map[string]string{}, video: video}
	fx.founder = e.token("founder", auth.RoleAdmin)
	for _, r := range permGlobalRoles {
		for _, rr := range permRoomRoles {
			id := string(r) + "-" + permRoomName(rr)
			fx.users = append(fx.users, &permUser{ident: auth.Identity{UserID: id, Name: id, Role: r}, room: rr, tok: e.token(id, r)})
		}
	}
	subj, rep, hto := e.token("subj", auth.RolePeer), e.token("rep", auth.RoleSpecialist), e.token("hto", auth.RoleSupervisor)
	fx.must(t, "GET", "/api/me", hto, nil, http.StatusOK)                           // a known supervisor: handoffs and shifts name them
	fx.must(t, "GET", "/api/me", e.token("blk", auth.RolePeer), nil, http.StatusOK) // someone known to block

	// The rooms, each with every user in its role, written straight into
	// the database in one transaction (joining and naming moderators one
	// by one through the API costs a commit each). Users whose
	// room role is none are members of the main room only, to write
	// there, and leave it below; subj and rep are members everywhere.
	fx.main = e.createRoom(fx.founder, "Main").ID
	for _, p := range []string{"held", "join-frame", "join-route", "leave-frame", "leave-route", "esc-join", "mod", "video-start", "video-wait"} {
		fx.rooms[p] = e.createRoom(fx.founder, p).ID
	}
	all := append([]string{fx.main}, permValues(fx.rooms)...)
	db, err := sql.Open("sqlite", "file:"+e.dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	add := func(room, user string, role chat.RoomRole) {
		if _, err := tx.Exec(`INSERT INTO members (conv_id, user_id, joined_at, role) VALUES (?, ?, ?, ?)`,
			room, user, time.Now().UnixNano(), string(role)); err != nil {
			t.Fatalf("fixture: %s in %s: %v", user, room, err)
		}
	}
	for _, room := range all {
		add(room, "subj", chat.RoomMember)
		add(room, "rep", chat.RoomMember)
		for _, u := range fx.users {
			switch {
			case u.room != chat.RoomNone:
				add(room, u.ident.UserID, u.room)
			case room == fx.main:
				add(room, u.ident.UserID, chat.RoomMember)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, u := range fx.users {
		if got, err := e.store.MemberRole(context.Background(), fx.rooms["held"], u.ident.UserID); err != nil || got != u.room {
			t.Fatalf("fixture: %s's role is %q (%v), want %q", u.ident.UserID, got, err, u.room)
		}
	}
	fx.must(t, "PUT", "/api/rooms/"+fx.rooms["held"]+"/policy", fx.founder, map[string]bool{"hold_imminent": true}, http.StatusOK)

	// Sessions, opened now that the roles are set; every user writes the
	// two messages its edit and delete cells change.
	for _, u := range fx.users {
		u.ws = e.dial(u.tok, nil)
	}
	for _, u := range fx.users {
		u.ws.send(map[string]any{"type": "send", "conv": fx.main, "id": "edit-me", "body": "a message to edit"})
		u.ws.send(map[string]any{"type": "send", "conv": fx.main, "id": "delete-me", "body": "a message to delete"})
	}
	for _, u := range fx.users {
		u.editSeq = permAck(u.ws, "edit-me").Seq
		u.deleteSeq = permAck(u.ws, "delete-me").Seq
	}
	s := e.dial(subj, nil)
	fx.subjMsg = s.sendMsg(fx.main, "subj-1", "it has been a long week").Seq
	s.send(map[string]any{"type": "send", "conv": fx.rooms["held"], "id": "subj-held", "body": permHeldText})
	if a := permAck(s, "subj-held"); !strings.Contains(a.raw, `"held":true`) {
		t.Fatalf("fixture: the crisis detector did not hold %q in a room that holds imminent messages: %s", permHeldText, a.raw)
	}
	// Users whose room role is none leave the main room, then start a
	// fresh session (so that no session remembers the membership).
	for _, u := range fx.users {
		if u.room == chat.RoomNone {
			fx.must(t, "POST", "/api/rooms/"+fx.main+"/leave", u.tok, nil, http.StatusOK)
			u.ws.ws.CloseNow()
			u.ws = e.dial(u.tok, nil)
		}
	}

	fx.rep = e.dial(rep, nil)
	fx.vguest = e.dial(subj, nil)
	fx.shared = fx.newEscalation(t, fx.main)
	fx.escJoin = fx.newEscalation(t, fx.rooms["esc-join"])
	var list struct{ Escalations []escalation.Escalation }
	if err := json.Unmarshal([]byte(fx.must(t, "GET", "/api/escalations?subject=subj", fx.founder, nil, http.StatusOK)), &list); err != nil {
		t.Fatal(err)
	}
	for _, x := range list.Escalations {
		if x.Held() {
			fx.held = x.ID
		}
	}
	if fx.held == "" {
		t.Fatal("fixture: no escalation holds subj's message")
	}
	return fx
}

// permAck waits for the answer to c's send with client id id, which must
// be an ack.
func permAck(c *client, id string) frame {
	c.t.Helper()
	f := c.take(func(f frame) bool { return (f.Type == "ack" || f.Type == "error") && f.ID == id })
	if f.Type != "ack" {
		c.t.Fatalf("fixture: send %s refused: %s", id, f.raw)
	}
	return f
}

func permValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// heldBy is the path of a hold that the founder (an admin) sets first,
// so that lifting it is valid.
func (fx *permFixture) heldBy(p string) func(*testing.T, *permUser) string {
	return func(t *testing.T, _ *permUser) string {
		fx.must(t, "PUT", p, fx.founder, nil, http.StatusOK)
		return p
	}
}

// permCases is a valid request for every route and frame the table lists.
func (fx *permFixture) permCases(t *testing.T) (routes, frames map[string]*permCase) {
	path := func(p string) func(*testing.T, *permUser) string {
		return func(*testing.T, *permUser) string { return p }
	}
	own := func(suffix string) func(*testing.T, *permUser) string {
		// The caller's own escalation (about subj) when the table allows
		// the action: an ack, handoff or resolve of one that someone else
		// acknowledged, was handed or resolved is a conflict. The same
		// caller may ack it, then hand it off, then resolve it. A refusal
		// comes before the escalation is looked at.
		return func(t *testing.T, u *permUser) string {
			if auth.Permit(u.ident, u.room, auth.ActHandleEscalation) != nil {
				return "/api/escalations/" + fx.shared + suffix
			}
			if u.esc == "" {
				u.esc = fx.newEscalation(t, fx.main)
			}
			return "/api/escalations/" + u.esc + suffix
		}
	}
	noBody := func(*permUser) any { return nil }
	body := func(v any) func(*permUser) any { return func(*permUser) any { return v } }
	esc := "/api/escalations/" + fx.shared
	// A browser's subscription per caller (any valid P-256 point will do).
	p256dh := base64.RawURLEncoding.EncodeToString(mustECDHKey(t).PublicKey().Bytes())
	pushSub := func(u *permUser) any {
		return map[string]any{"endpoint": "https://push.example.org/" + u.ident.UserID,
			"keys": map[string]string{"p256dh": p256dh, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}
	}
	shift := func() map[string]any {
		return map[string]any{"supervisor": "hto", "tier": "backup", "start": time.Now(), "end": time.Now().Add(time.Hour)}
	}
	routes = map[string]*permCase{
		"GET /api/me":            {path: path("/api/me"), body: noBody, ok: 200},
		"GET /api/conversations": {path: path("/api/conversations"), body: noBody, ok: 200},
		"GET /api/rooms":         {path: path("/api/rooms"), body: noBody, ok: 200},
		"POST /api/rooms": {path: path("/api/rooms"), ok: 201,
			body: func(u *permUser) any { return map[string]string{"name": "Room of " + u.ident.UserID} }},
		"POST /api/rooms/{id}/join":            {path: path("/api/rooms/" + fx.rooms["join-route"] + "/join"), body: noBody, ok: 200},
		"POST /api/rooms/{id}/leave":           {path: path("/api/rooms/" + fx.rooms["leave-route"] + "/leave"), body: noBody, ok: 200},
		"GET /api/conversations/{id}/messages": {path: path("/api/conversations/" + fx.main + "/messages"), body: noBody, ok: 200},
		"GET /api/rooms/{id}/pins":             {path: path("/api/rooms/" + fx.main + "/pins"), body: noBody, ok: 200},
		"GET /api/conversations/{id}/members":  {path: path("/api/conversations/" + fx.main + "/members"), body: noBody, ok: 200},
		"POST /api/dms":                        {path: path("/api/dms"), body: body(map[string]string{"user": "subj"}), ok: 200},
		"GET /api/rooms/{id}/policy":           {path: path("/api/rooms/" + fx.main + "/policy"), body: noBody, ok: 200},
		"PUT /api/rooms/{id}/policy": {path: path("/api/rooms/" + fx.main + "/policy"), ok: 200,
			body: body(map[string]bool{"hold_imminent": false})},
		// Adding someone already in the room, and settings the room has
		// already: valid, and they change nothing the other cells see.
		"POST /api/rooms/{id}/members": {path: path("/api/rooms/" + fx.main + "/members"), ok: 200,
			body: body(map[string]string{"user": "subj"})},
		"PATCH /api/rooms/{id}": {path: path("/api/rooms/" + fx.main), ok: 200,
			body: body(map[string]string{"visibility": "public", "history": "joined"})},
		"GET /api/escalations":               {path: path("/api/escalations"), body: noBody, ok: 200},
		"GET /api/escalations/{id}":          {path: path(esc), body: noBody, ok: 200},
		"POST /api/escalations/{id}/ack":     {path: own("/ack"), body: noBody, ok: 200},
		"POST /api/escalations/{id}/notes":   {path: path(esc + "/notes"), body: body(map[string]string{"text": "called them"}), ok: 200},
		"POST /api/escalations/{id}/handoff": {path: own("/handoff"), body: body(map[string]string{"to": "hto"}), ok: 200},
		"POST /api/escalations/{id}/resolve": {path: own("/resolve"), body: body(map[string]string{"outcome": "talked it through"}), ok: 200},
		"POST /api/escalations/{id}/join":    {path: path("/api/escalations/" + fx.escJoin + "/join"), body: noBody, ok: 200},
		"POST /api/escalations/{id}/release": {path: path("/api/escalations/" + fx.held + "/release"), body: noBody, ok: 200},
		"POST /api/escalations/{id}/dm":      {path: path(esc + "/dm"), body: noBody, ok: 200},
		"GET /api/oncall/shifts":             {path: path("/api/oncall/shifts"), body: noBody, ok: 200},
		"GET /api/supervisors":               {path: path("/api/supervisors"), body: noBody, ok: 200},
		"GET /api/push/key":                  {path: path("/api/push/key"), body: noBody, ok: 200},
		"POST /api/push/subscriptions":       {path: path("/api/push/subscriptions"), body: pushSub, ok: 201},
		"DELETE /api/push/subscriptions":     {path: path("/api/push/subscriptions"), body: pushSub, ok: 200},
		"GET /api/blocks":                    {path: path("/api/blocks"), body: noBody, ok: 200},
		"GET /api/support":                   {path: path("/api/support"), body: noBody, ok: 200},
		"PUT /api/blocks/{user}":             {path: path("/api/blocks/blk"), body: noBody, ok: 200},
		"DELETE /api/blocks/{user}":          {path: path("/api/blocks/blk"), body: noBody, ok: 200},
		"GET /api/audit":                     {path: path("/api/audit"), body: noBody, ok: 200},
		"POST /api/users/{id}/revoke":        {path: path("/api/users/revokee/revoke"), body: noBody, ok: 200},
		"GET /api/users/{id}/export":         {path: path("/api/users/exportee/export"), body: noBody, ok: 200},
		"POST /api/users/{id}/erase":         {path: path("/api/users/erasee/erase"), body: noBody, ok: 200},
		"PUT /api/holds/users/{id}":          {path: path("/api/holds/users/holdee"), body: body(map[string]string{"reason": "case"}), ok: 200},
		"PUT /api/holds/rooms/{id}":          {path: path("/api/holds/rooms/" + fx.main), body: noBody, ok: 200},
		"GET /api/holds":                     {path: path("/api/holds"), body: noBody, ok: 200},
		"DELETE /api/holds/users/{id}":       {path: fx.heldBy("/api/holds/users/holdee"), body: noBody, ok: 200},
		"DELETE /api/holds/rooms/{id}":       {path: fx.heldBy("/api/holds/rooms/" + fx.main), body: noBody, ok: 200},
		"POST /api/oncall/shifts": {path: path("/api/oncall/shifts"), ok: 201,
			body: func(*permUser) any { return shift() }},
		"DELETE /api/oncall/shifts/{id}": {body: noBody, ok: 200, path: func(t *testing.T, _ *permUser) string {
			// A shift of its own, added by the founder (an admin).
			var sh escalation.Shift
			raw := fx.must(t, "POST", "/api/oncall/shifts", fx.founder, shift(), http.StatusCreated)
			if err := json.Unmarshal([]byte(raw), &sh); err != nil || sh.ID == "" {
				t.Fatalf("fixture: shift: %s", raw)
			}
			return "/api/oncall/shifts/" + sh.ID
		}},
	}
	for k, pc := range fx.peopleCases() {
		routes[k] = pc
	}
	for k, pc := range fx.modCases() {
		routes[k] = pc
	}
	for k, pc := range fx.inviteCases() {
		routes[k] = pc
	}
	for k, pc := range fx.premodCases() {
		routes[k] = pc
	}
	for k, pc := range fx.reportCases() {
		routes[k] = pc
	}
	frame := func(m map[string]any) func(*testing.T, *permUser) map[string]any {
		return func(*testing.T, *permUser) map[string]any { return m }
	}
	frames = map[string]*permCase{
		"ping": {frame: frame(map[string]any{"type": "ping"}), answer: "pong"},
		"reauth": {answer: "reauthed", frame: func(_ *testing.T, u *permUser) map[string]any {
			return map[string]any{"type": "reauth", "token": u.tok}
		}},
		"join":    {frame: frame(map[string]any{"type": "join", "conv": fx.rooms["join-frame"]}), answer: "conversation"},
		"leave":   {frame: frame(map[string]any{"type": "leave", "conv": fx.rooms["leave-frame"]}), answer: "left"},
		"members": {frame: frame(map[string]any{"type": "members", "conv": fx.main}), answer: "member_list"},
		"typing":  {frame: frame(map[string]any{"type": "typing", "conv": fx.main}), answer: ""},
		"send": {answer: "ack", frame: func(_ *testing.T, u *permUser) map[string]any {
			return map[string]any{"type": "send", "conv": fx.main, "id": "cell-" + u.ident.UserID, "body": "hello from " + u.ident.UserID}
		}},
		"edit": {answer: "ack", frame: func(_ *testing.T, u *permUser) map[string]any {
			return map[string]any{"type": "edit", "conv": fx.main, "seq": u.editSeq, "body": "edited"}
		}},
		"delete": {answer: "ack", frame: func(_ *testing.T, u *permUser) map[string]any {
			return map[string]any{"type": "delete", "conv": fx.main, "seq": u.deleteSeq}
		}},
		"flag":    {frame: frame(map[string]any{"type": "flag", "conv": fx.main, "seq": fx.subjMsg, "reason": "this worried me"}), answer: "flagged"},
		"open_dm": {frame: frame(map[string]any{"type": "open_dm", "user": "subj"}), answer: "conversation"},
		"concern": {frame: frame(map[string]any{"type": "concern", "user": "subj", "reason": "missed sessions"}), answer: "flagged"},
		"report":  {frame: frame(map[string]any{"type": "report", "conv": fx.main, "user": "subj", "category": "spam"}), answer: "reported"},
		// A support note of the caller's own (only its owner may dismiss
		// it: beside the table).
		"dismiss_support": {answer: "support_dismissed", frame: func(t *testing.T, u *permUser) map[string]any {
			n, _, err := fx.e.store.AddSupportNote(context.Background(), chat.SupportNote{User: u.ident.UserID, Conv: fx.main, Seq: u.editSeq, State: chat.SupportTold})
			if err != nil {
				t.Fatalf("fixture: support note: %v", err)
			}
			return map[string]any{"type": "dismiss_support", "note": n.ID}
		}},
	}
	for k, pc := range fx.videoCases(t) {
		frames[k] = pc
	}
	return routes, frames
}

// modCases are the moderation routes' cases: each caller acts on a plain
// member of its own (a peer), so that the rules beside the table allow it.
func (fx *permFixture) modCases() map[string]*permCase {
	noBody := func(*permUser) any { return nil }
	body := func(v any) func(*permUser) any { return func(*permUser) any { return v } }
	bans := "/api/rooms/" + fx.rooms["mod"] + "/bans"
	return map[string]*permCase{
		"PUT /api/rooms/{id}/members/{user}/role": {path: fx.modPath("/role", false), ok: 200,
			body: body(map[string]string{"role": "moderator", "reason": "helpful"})},
		"POST /api/rooms/{id}/members/{user}/mute": {path: fx.modPath("/mute", false), ok: 200,
			body: body(map[string]any{"minutes": 5, "reason": "cool down"})},
		"DELETE /api/rooms/{id}/members/{user}/mute": {path: fx.modPath("/mute", false), body: noBody, ok: 200},
		"DELETE /api/rooms/{id}/members/{user}":      {path: fx.modPath("", false), body: noBody, ok: 200},
		"POST /api/rooms/{id}/bans": {path: func(*testing.T, *permUser) string { return bans }, ok: 200,
			body: func(u *permUser) any {
				return map[string]any{"user": fx.modTarget(nil, u, false), "minutes": 0, "reason": "abuse"}
			}},
		"DELETE /api/rooms/{id}/bans/{user}": {path: fx.modPath("", true), body: noBody, ok: 200},
		"GET /api/rooms/{id}/bans":           {path: func(*testing.T, *permUser) string { return bans }, body: noBody, ok: 200},
		"POST /api/rooms/{id}/messages/{seq}/hide": {ok: 200, body: body(map[string]string{"reason": "off topic"}),
			path: func(t *testing.T, u *permUser) string {
				return fmt.Sprintf("/api/rooms/%s/messages/%d/hide", fx.rooms["mod"], fx.modMessage(t, "hide-"+u.ident.UserID))
			}},
		"PUT /api/rooms/{id}/pins/{seq}": {ok: 200, body: noBody, path: func(t *testing.T, u *permUser) string {
			return fmt.Sprintf("/api/rooms/%s/pins/%d", fx.rooms["mod"], fx.modMessage(t, "pin-"+u.ident.UserID))
		}},
		"DELETE /api/rooms/{id}/pins/{seq}": {ok: 200, body: noBody, path: func(t *testing.T, u *permUser) string {
			seq := fx.modMessage(t, "unpin-"+u.ident.UserID)
			if _, err := fx.e.store.Pin(context.Background(), fx.rooms["mod"], seq, "founder", chat.MaxPins); err != nil {
				t.Fatalf("fixture: pin %d: %v", seq, err)
			}
			return fmt.Sprintf("/api/rooms/%s/pins/%d", fx.rooms["mod"], seq)
		}},
	}
}

// reportCases are the report routes' cases: reports about subj in the
// main room; a caller the table allows resolves one of its own (resolving
// one twice is a conflict).
func (fx *permFixture) reportCases() map[string]*permCase {
	noBody := func(*permUser) any { return nil }
	path := func(p string) func(*testing.T, *permUser) string {
		return func(*testing.T, *permUser) string { return p }
	}
	return map[string]*permCase{
		"POST /api/rooms/{id}/reports": {path: path("/api/rooms/" + fx.main + "/reports"), ok: 201,
			body: func(*permUser) any { return map[string]string{"user": "subj", "category": "spam", "reason": "adverts"} }},
		"GET /api/rooms/{id}/reports": {path: path("/api/rooms/" + fx.main + "/reports?status=all"), body: noBody, ok: 200},
		"GET /api/reports":            {path: path("/api/reports?status=all"), body: noBody, ok: 200},
		"POST /api/reports/{id}/resolve": {ok: 200,
			body: func(*permUser) any { return map[string]string{"outcome": "no_action", "note": "fine"} },
			path: func(t *testing.T, u *permUser) string {
				if auth.Permit(u.ident, u.room, auth.ActHandleReports) != nil {
					if fx.report == "" {
						fx.report = fx.newReport(t)
					}
					return "/api/reports/" + fx.report + "/resolve"
				}
				return "/api/reports/" + fx.newReport(t) + "/resolve"
			}},
	}
}

// newReport stores an open report by rep about subj in the main room.
func (fx *permFixture) newReport(t *testing.T) string {
	r, err := fx.e.store.CreateReport(context.Background(), chat.Report{Conv: fx.main, User: "subj", Reporter: "rep", Category: chat.ReportOther})
	if err != nil {
		t.Fatalf("fixture: report: %v", err)
	}
	return r.ID
}

// modMessage stores a message of subj's in the "mod" room, with client id
// id, and returns its seq.
func (fx *permFixture) modMessage(t *testing.T, id string) int64 {
	items := []chat.AppendItem{{Event: chat.Event{Conv: fx.rooms["mod"], Kind: chat.EventMessage, Sender: "subj", ClientID: id, Body: "a message for moderators"}}}
	if err := fx.e.store.Append(context.Background(), items); err != nil || items[0].Err != nil {
		t.Fatalf("fixture: message %s: %v %v", id, err, items[0].Err)
	}
	return items[0].Event.Seq
}

// modTarget makes a peer of u's own a member of the "mod" room (banned
// from it instead, with banned) and returns its id.
func (fx *permFixture) modTarget(t *testing.T, u *permUser, banned bool) string {
	ctx, id := context.Background(), "tgt-"+u.ident.UserID
	err := fx.e.store.UpsertUser(ctx, chat.User{ID: id, Name: id, Role: string(auth.RolePeer)})
	if err == nil && banned {
		err = fx.e.store.Ban(ctx, fx.rooms["mod"], id, fx.founder, chat.MutedForever)
	} else if err == nil {
		_ = fx.e.store.Unban(ctx, fx.rooms["mod"], id)
		err = fx.e.store.Join(ctx, fx.rooms["mod"], id, 0)
	}
	if err != nil && t != nil {
		t.Fatalf("fixture: target %s: %v", id, err)
	}
	return id
}

// modPath is the path of a moderation route about u's own target in the
// "mod" room: /api/rooms/{mod}/members/{target}+suffix, or with ban
// /api/rooms/{mod}/bans/{target}.
func (fx *permFixture) modPath(suffix string, ban bool) func(*testing.T, *permUser) string {
	return func(t *testing.T, u *permUser) string {
		target := fx.modTarget(t, u, ban)
		if ban {
			return "/api/rooms/" + fx.rooms["mod"] + "/bans/" + target
		}
		return "/api/rooms/" + fx.rooms["mod"] + "/members/" + target + suffix
	}
}

// runRoute makes pc's request as u and checks the answer against the table.
func (fx *permFixture) runRoute(t *testing.T, act auth.Action, pattern string, pc *permCase, u *permUser) {
	want := auth.Permit(u.ident, u.room, act)
	method, _, _ := strings.Cut(pattern, " ")
	path := pc.path(t, u)
	st, code, raw := fx.call(t, method, path, u.tok, pc.body(u))
	if want != nil {
		if wc := chat.ErrorCode(want); st != http.StatusForbidden || code != wc {
			t.Errorf("%s %s as %s (room role %s): got %d %s; the table refuses it (%v): want 403 %s",
				method, path, u.ident.Role, permRoomName(u.room), st, permShort(raw), want, wc)
		}
		return
	}
	if st != pc.ok {
		t.Errorf("%s %s as %s (room role %s): got %d %s; the table allows it: want %d",
			method, path, u.ident.Role, permRoomName(u.room), st, permShort(raw), pc.ok)
	}
}

// runFrame sends pc's frame on u's session and checks the answer against
// the table.
func (fx *permFixture) runFrame(t *testing.T, act auth.Action, typ string, pc *permCase, u *permUser) {
	want := auth.Permit(u.ident, u.room, act)
	c := u.ws
	defer permUse(c, t)()
	ref := fx.ref(typ)
	f := pc.frame(t, u)
	m := make(map[string]any, len(f)+1)
	for k, v := range f {
		m[k] = v
	}
	m["ref"] = ref
	c.send(m)
	match := func(f frame) bool { return f.Ref == ref }
	pingRef := ref + "-ping"
	if pc.answer == "" {
		// Not answered when allowed: the session handles frames in
		// order, so a pong before any error means none is coming.
		c.send(map[string]any{"type": "ping", "ref": pingRef})
		match = func(f frame) bool { return f.Ref == ref || f.Ref == pingRef }
	}
	got := c.take(match)
	if want != nil {
		wc := chat.ErrorCode(want)
		if strings.HasPrefix(typ, "video_") && wc == chat.CodeNotMember {
			wc = "video_not_member" // docs/permissions.md, rules beside the table
		}
		if got.Type != "error" || got.Code != wc || got.Ref != ref {
			t.Errorf("%s frame as %s (room role %s): got %s; the table refuses it (%v): want an error %s with ref %s",
				typ, u.ident.Role, permRoomName(u.room), got.raw, want, wc, ref)
		}
		return
	}
	if pc.answer == "" {
		if got.Ref != pingRef {
			t.Errorf("%s frame as %s (room role %s): got %s; the table allows it: want no answer",
				typ, u.ident.Role, permRoomName(u.room), got.raw)
		}
		return
	}
	if got.Type == "error" && slices.Contains(pc.passed, got.Code) {
		return
	}
	if got.Type != pc.answer {
		t.Errorf("%s frame as %s (room role %s): got %s; the table allows it: want %s",
			typ, u.ident.Role, permRoomName(u.room), got.raw, pc.answer)
	}
}

// Every cell of the permission table, at the server: for each action, each
// route and frame checked against it (auth.Routes, auth.Frames), each global
// role and each room role, a valid request is refused exactly as
// auth.Permit refuses it (403 or an error frame, with Permit's code), and
// answered as documented when Permit allows it. The checks beside the
// table (authorship, an escalation's subject, a concern's conversation)
// are kept out: callers edit and delete their own messages, handle
// escalations about someone else, and name no conversation in concerns.
// Also: the server registers exactly the table's API routes and handles
// exactly its frames, so a route or frame without a row fails here.
func TestEveryPermissionCell(t *testing.T) {
	fx := newPermFixture(t)
	routes, frames := fx.permCases(t)

	tableRoutes, tableFrames := auth.Routes(), auth.Frames()
	for _, r := range permKeys(tableRoutes) {
		if routes[r] == nil {
			t.Errorf("the table lists route %q, which this test has no valid request for: add one to permCases", r)
		}
	}
	for _, r := range permKeys(routes) {
		if _, ok := tableRoutes[r]; !ok {
			t.Errorf("permCases has route %q, which the permission table does not list", r)
		}
	}
	for _, f := range permKeys(tableFrames) {
		if frames[f] == nil {
			t.Errorf("the table lists frame %q, which this test has no valid request for: add one to permCases", f)
		}
	}
	for _, f := range permKeys(frames) {
		if _, ok := tableFrames[f]; !ok {
			t.Errorf("permCases has frame %q, which the permission table does not list", f)
		}
	}

	cells := 0
	for _, act := range auth.Actions() {
		var used bool
		for _, r := range permKeys(tableRoutes) {
			if tableRoutes[r] != act || routes[r] == nil {
				continue
			}
			used = true
			for _, u := range fx.users {
				cells++
				t.Run(fmt.Sprintf("%s/%s/%s/%s", act, r, u.ident.Role, permRoomName(u.room)), func(t *testing.T) {
					fx.runRoute(t, act, r, routes[r], u)
				})
			}
		}
		for _, f := range permKeys(tableFrames) {
			if tableFrames[f] != act || frames[f] == nil {
				continue
			}
			used = true
			for _, u := range fx.users {
				cells++
				t.Run(fmt.Sprintf("%s/%s/%s/%s", act, f, u.ident.Role, permRoomName(u.room)), func(t *testing.T) {
					fx.runFrame(t, act, f, frames[f], u)
				})
			}
		}
		if act == auth.ActReceivePages {
			// Pushed, not requested: by now every cell's session has
			// seen escalations opened (concerns, flags, the held
			// message) and changed (acks, handoffs, resolutions).
			used = true
			for _, u := range fx.users {
				cells++
				t.Run(fmt.Sprintf("%s/escalation/%s/%s", act, u.ident.Role, permRoomName(u.room)), func(t *testing.T) {
					fx.checkPages(t, u)
				})
			}
		}
		if !used {
			t.Logf("no route, frame or push uses %s yet", act)
		}
	}
	t.Logf("%d cells", cells)

	t.Run("routes/registered", func(t *testing.T) { fx.checkRegisteredRoutes(t) })
	t.Run("frames/handled", func(t *testing.T) { checkHandledFrames(t) })
}

// checkPages: a session whose token allows receive_pages gets escalation
// frames; any other never does.
func (fx *permFixture) checkPages(t *testing.T, u *permUser) {
	want := auth.Permit(u.ident, u.room, auth.ActReceivePages)
	c := u.ws
	defer permUse(c, t)()
	if want == nil {
		c.take(func(f frame) bool { return f.Type == "escalation" })
		return
	}
	ref := fx.ref("pages")
	c.send(map[string]any{"type": "ping", "ref": ref})
	c.take(func(f frame) bool { return f.Ref == ref })
	for _, f := range c.backlog {
		if f.Type == "escalation" {
			t.Errorf("%s (room role %s) may not receive pages (%v) but got %s", u.ident.Role, permRoomName(u.room), want, f.raw)
			return
		}
	}
}

// checkRegisteredRoutes: the API routes the server registers (read from
// its source) are exactly the table's, and each of them is served behind
// a bearer token.
func (fx *permFixture) checkRegisteredRoutes(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: a route registered with a pattern that is not a literal; this test cannot check it", fset.Position(call.Pos()))
				return true
			}
			pattern, _ := strconv.Unquote(lit.Value)
			p := pattern
			if _, after, ok := strings.Cut(pattern, " "); ok {
				p = after
			}
			if strings.HasPrefix(p, "/api/") || p == "/api" {
				registered[pattern] = fset.Position(call.Pos()).String()
			}
			return true
		})
	}
	table := auth.Routes()
	t.Logf("the server registers %d API routes; the table lists %d", len(registered), len(table))
	for _, r := range permKeys(registered) {
		if _, ok := table[r]; !ok {
			t.Errorf("the server registers %q (%s), which the permission table does not list", r, registered[r])
		}
	}
	for _, r := range permKeys(table) {
		if _, ok := registered[r]; !ok {
			t.Errorf("the permission table lists %q, which the server does not register", r)
		}
		// Served, and only with a token: a route the mux does not have
		// answers a plain-text 404 or 405.
		method, path, _ := strings.Cut(r, " ")
		path = strings.ReplaceAll(path, "{id}", "x")
		if st, code, raw := fx.call(t, method, path, "", nil); st != http.StatusUnauthorized || code != chat.CodeAuthRequired {
			t.Errorf("%s %s without a token: %d %s, want 401 auth_required", method, path, st, permShort(raw))
		}
	}
}

// checkHandledFrames: the client frames the server handles after hello
// (its frame table in frames.go) are exactly the permission table's.
func checkHandledFrames(t *testing.T) {
	fset := token.NewFileSet()
	consts := map[string]string{}
	protoFiles, err := filepath.Glob(filepath.Join("..", "protocol", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var decls []ast.Decl
	for _, name := range protoFiles {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		pf, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		decls = append(decls, pf.Decls...)
	}
	for _, d := range decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						consts[n.Name], _ = strconv.Unquote(lit.Value)
					}
				}
			}
		}
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	handled := map[string]bool{}
	found := false
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var lit ast.Expr
			switch n := n.(type) {
			case *ast.AssignStmt:
				if id, ok := n.Lhs[0].(*ast.Ident); ok && id.Name == "frames" && len(n.Rhs) == 1 {
					lit = n.Rhs[0]
				}
			case *ast.ValueSpec:
				if n.Names[0].Name == "frames" && len(n.Values) == 1 {
					lit = n.Values[0]
				}
			}
			cl, ok := lit.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if _, ok := cl.Type.(*ast.MapType); !ok {
				return true
			}
			found = true
			for _, el := range cl.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				switch k := kv.Key.(type) {
				case *ast.SelectorExpr:
					v, ok := consts[k.Sel.Name]
					if !ok {
						t.Errorf("%s: frame type %s is not a protocol constant", fset.Position(k.Pos()), k.Sel.Name)
					}
					handled[v] = true
				case *ast.BasicLit:
					v, _ := strconv.Unquote(k.Value)
					handled[v] = true
				default:
					t.Errorf("%s: a frame type that is not a literal or a protocol constant", fset.Position(kv.Key.Pos()))
				}
			}
			return true
		})
	}
	if !found {
		t.Fatal("no frame table (frames = map[string]frameHandler{…}) in the server's source")
	}
	// hello is handled after hello only to refuse it (already_authenticated).
	delete(handled, "hello")
	table := auth.Frames()
	t.Logf("the server handles %d frames after hello; the table lists %d", len(handled), len(table))
	for _, f := range permKeys(handled) {
		if _, ok := table[f]; !ok {
			t.Errorf("the server handles frame %q, which the permission table does not list", f)
		}
	}
	for _, f := range permKeys(table) {
		if !handled[f] {
			t.Errorf("the permission table lists frame %q, which the server does not handle", f)
		}
	}
}

func permKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func mustECDHKey(t *testing.T) *ecdh.PrivateKey {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
