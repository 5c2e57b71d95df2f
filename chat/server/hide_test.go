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
)

// Moderators hide messages (docs/moderation.md#hiding-messages): the text
// is gone for every member, live, in history and in every replay, and who
// hid it and why is in the audit log only.

// hidePath is the hide route of message seq of room.
func hidePath(room string, seq int64) string {
	return fmt.Sprintf("/api/rooms/%s/messages/%d/hide", room, seq)
}

// wireEvent is a log event as the wire has it, with the fields the shared
// frame type does not decode.
type wireEvent struct {
	Type    string  `json:"type"`
	Conv    string  `json:"conv"`
	Seq     int64   `json:"seq"`
	Target  int64   `json:"target"`
	From    *string `json:"from"`
	Body    *string `json:"body"`
	Deleted bool    `json:"deleted"`
	Hidden  bool    `json:"hidden"`
}

func decodeEvent(t testing.TB, raw string) wireEvent {
	t.Helper()
	var w wireEvent
	if err := json.Unmarshal([]byte(raw), &w); err != nil {
		t.Fatalf("frame %s: %v", raw, err)
	}
	return w
}

// checkHidden fails unless raw is message seq, hidden, without its text.
func checkHidden(t testing.TB, where, raw string, seq int64) {
	t.Helper()
	w := decodeEvent(t, raw)
	if w.Type != "message" || w.Seq != seq || !w.Deleted || !w.Hidden || w.Body != nil {
		t.Errorf("%s: message %d is %s, want it hidden without a body", where, seq, raw)
	}
}

// checkHideFrame fails unless raw is a hide of target with no sender.
func checkHideFrame(t testing.TB, where, raw string, conv string, target int64) {
	t.Helper()
	w := decodeEvent(t, raw)
	if w.Type != "hide" || w.Conv != conv || w.Target != target || w.Seq <= target || w.From != nil || w.Body != nil {
		t.Errorf("%s: hide frame %s, want a hide of %d without sender or body", where, raw, target)
	}
}

// hideAnswer is the hide route's answer.
type hideAnswer struct {
	Conv   string
	Seq    int64
	Target int64
	Error  chat.Error
}

func (e *env) hide(room string, seq int64, token string, body any) (int, hideAnswer) {
	e.t.Helper()
	var out hideAnswer
	st := e.api("POST", hidePath(room, seq), token, body, &out)
	return st, out
}

// messagesOf is a conversation's history over HTTP, raw.
func (e *env) messagesOf(room, token string) []json.RawMessage {
	e.t.Helper()
	var out struct{ Messages []json.RawMessage }
	if st := e.api("GET", "/api/conversations/"+room+"/messages", token, nil, &out); st != http.StatusOK {
		e.t.Fatalf("history: %d", st)
	}
	return out.Messages
}

// messageIn returns message seq of msgs, raw.
func messageIn(t testing.TB, msgs []json.RawMessage, seq int64) string {
	t.Helper()
	for _, m := range msgs {
		if decodeEvent(t, string(m)).Seq == seq {
			return string(m)
		}
	}
	t.Fatalf("message %d not in history", seq)
	return ""
}

func TestModeratorHides(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, bob, cat, dan, eve := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer),
		e.token("cat", auth.RolePeer), e.token("dan", auth.RolePeer), e.token("eve", auth.RolePeer)
	ada := e.token("ada", auth.RoleAdmin)
	room := e.createRoom(ann, "Support")
	a := e.dial(ann, nil)
	a.expectSynced(room.ID)
	sessions := map[string]*client{"ann": a}
	for name, tok := range map[string]string{"bob": bob, "cat": cat, "dan": dan, "eve": eve} {
		sessions[name] = e.dial(tok, nil)
		sessions[name].join(room.ID)
	}
	e.mustMod("PUT", members(room.ID, "bob", "/role"), ann, map[string]string{"role": "moderator"})
	sessions["bob"].membership(room.ID, func(cv chat.Conversation) bool { return cv.Role == chat.RoomModerator })

	c := sessions["cat"]
	m := c.sendMsg(room.ID, "c1", "my private words").Seq
	c.send(map[string]any{"type": "edit", "conv": room.ID, "seq": m, "body": "my private words, edited"})
	c.take(func(f frame) bool { return f.Type == "ack" && f.Seq == m+1 })
	for _, s := range sessions {
		s.take(func(f frame) bool { return f.Type == "edit" && f.Target == m })
	}
	// Eve goes away before the hide, to come back later.
	sessions["eve"].ws.CloseNow()
	delete(sessions, "eve")

	// A peer member may not hide.
	if st, out := e.hide(room.ID, m, dan, map[string]string{"reason": "no"}); st != http.StatusForbidden || out.Error.Code != chat.CodeForbidden {
		t.Fatalf("a peer member hiding: %d %+v", st, out.Error)
	}
	st, out := e.hide(room.ID, m, bob, map[string]string{"reason": "shared someone's diagnosis"})
	if st != http.StatusOK || out.Conv != room.ID || out.Target != m || out.Seq != m+2 {
		t.Fatalf("hide: %d %+v, want seq %d", st, out, m+2)
	}
	for name, s := range sessions {
		f := s.take(func(f frame) bool { return f.Type == "hide" && f.Conv == room.ID })
		checkHideFrame(t, name+"'s live view", f.raw, room.ID, m)
		if strings.Contains(f.raw, "bob") || strings.Contains(f.raw, "diagnosis") {
			t.Errorf("the hide frame names the moderator or the reason: %s", f.raw)
		}
	}
	checkHidden(t, "HTTP history", messageIn(t, e.messagesOf(room.ID, dan), m), m)

	// Eve resumes from before the message: the replay has it hidden.
	ev := e.dial(eve, map[string]int64{room.ID: m - 1})
	checkHidden(t, "resume", ev.take(func(f frame) bool { return f.Seq == m && f.Conv == room.ID }).raw, m)
	if f := ev.take(func(f frame) bool { return f.Seq == m+1 && f.Conv == room.ID }); f.Type != "edit" || f.Body != "" {
		t.Errorf("resume: the edit of the hidden message is %s, want it without text", f.raw)
	}
	checkHideFrame(t, "resume", ev.take(func(f frame) bool { return f.Seq == m+2 && f.Conv == room.ID }).raw, room.ID, m)
	ev.expectSynced(room.ID)
	// A fresh session that joins again catches up the same way.
	fresh := e.dial(dan, map[string]int64{room.ID: 0})
	checkHidden(t, "catch-up from 0", fresh.take(func(f frame) bool { return f.Seq == m && f.Conv == room.ID }).raw, m)

	// Hiding again: the same answer, no new event, no second audit entry.
	if st, again := e.hide(room.ID, m, ann, nil); st != http.StatusOK || again.Seq != m+2 {
		t.Fatalf("hiding again: %d %+v", st, again)
	}
	if last := c.sendMsg(room.ID, "c2", "after").Seq; last != m+3 {
		t.Errorf("the next message got seq %d, want %d: hiding again wrote an event", last, m+3)
	}
	entries := auditOf(t, e, ada, "?room="+room.ID)
	var hides []chat.AuditEntry
	for _, en := range entries {
		if en.Action == "message.hide" {
			hides = append(hides, en)
		}
	}
	if len(hides) != 1 {
		t.Fatalf("%d message.hide entries, want 1: %+v", len(hides), hides)
	}
	if en := hides[0]; en.Actor != "bob" || en.Target != "cat" || en.Reason != "shared someone's diagnosis" || en.Detail != fmt.Sprintf("seq=%d", m) {
		t.Errorf("audit entry %+v", en)
	}
	checkHideRefusals(t, e, room.ID, c, ann)
}

// checkHideRefusals: a message its author deleted is a conflict; a seq that
// is no message of the room is not found; a supervisor who is no member
// may hide.
func checkHideRefusals(t *testing.T, e *env, room string, c *client, owner string) {
	t.Helper()
	d := c.sendMsg(room, "c3", "oops").Seq
	c.send(map[string]any{"type": "delete", "conv": room, "seq": d})
	c.take(func(f frame) bool { return f.Type == "ack" && f.Seq == d+1 })
	if st, out := e.hide(room, d, owner, nil); st != http.StatusConflict || out.Error.Code != chat.CodeConflict {
		t.Errorf("hiding a deleted message: %d %+v", st, out.Error)
	}
	for _, seq := range []int64{d + 1, 999} {
		if st, out := e.hide(room, seq, owner, nil); st != http.StatusNotFound || out.Error.Code != chat.CodeNotFound {
			t.Errorf("hiding seq %d (not a message): %d %+v", seq, st, out.Error)
		}
	}
	if st, _ := e.hide(room, 0, owner, nil); st != http.StatusBadRequest {
		t.Errorf("hiding seq 0: %d", st)
	}
	if st, _ := e.hide(room, d, owner, map[string]string{"reason": strings.Repeat("x", 501)}); st != http.StatusBadRequest {
		t.Errorf("a reason of 501 bytes: %d", st)
	}
	s := c.sendMsg(room, "c4", "seen by a supervisor").Seq
	if st, out := e.hide(room, s, e.token("sue", auth.RoleSupervisor), nil); st != http.StatusOK || out.Target != s {
		t.Errorf("a supervisor hiding in a room they are not in: %d %+v", st, out)
	}
}

// A message hidden through node A is gone from node B's members' live
// view within a second, from history on B and from a replay on B.
func TestClusterHide(t *testing.T) {
	c := newCluster(t, 2, "")
	ann, bob, cat := c.token("ann", auth.RoleSpecialist), c.token("bob", auth.RolePeer), c.token("cat", auth.RolePeer)
	a, b := c.env(0), c.env(1)
	room := a.createRoom(ann, "Across nodes")
	bs, ks := c.dial(1, bob, nil), c.dial(1, cat, nil)
	bs.join(room.ID)
	ks.join(room.ID)
	m := ks.sendMsg(room.ID, "k1", "words to take back").Seq
	bs.take(func(f frame) bool { return f.Type == "message" && f.Seq == m })
	ks.ws.CloseNow()

	st, out := a.hide(room.ID, m, ann, map[string]string{"reason": "off topic"})
	if st != http.StatusOK {
		t.Fatalf("hide on node 0: %d %+v", st, out.Error)
	}
	answered := time.Now()
	f := bs.take(func(f frame) bool { return f.Type == "hide" && f.Conv == room.ID })
	if late := time.Since(answered); late > time.Second {
		t.Errorf("the hide reached node 1 after %v", late)
	}
	checkHideFrame(t, "node 1 live", f.raw, room.ID, m)
	checkHidden(t, "node 1 history", messageIn(t, b.messagesOf(room.ID, bob), m), m)
	r := c.dial(1, cat, map[string]int64{room.ID: m - 1})
	checkHidden(t, "node 1 replay", r.take(func(f frame) bool { return f.Seq == m && f.Conv == room.ID }).raw, m)
	checkHideFrame(t, "node 1 replay", r.take(func(f frame) bool { return f.Type == "hide" && f.Conv == room.ID }).raw, room.ID, m)
}
