package server_test

import (
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// TestModeratorListsBans: GET /api/rooms/{id}/bans lists the bans in
// force, newest first (a ban for good without an end), for moderators
// only; an unban takes the ban off the list, and reading it is not
// audited.
func TestModeratorListsBans(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	cat, dan := e.token("cat", auth.RolePeer), e.token("dan", auth.RolePeer)
	room := e.createRoom(ann, "Support")
	for _, tok := range []string{bob, cat, dan} {
		e.mustMod("POST", "/api/rooms/"+room.ID+"/join", tok, nil)
	}
	bans := "/api/rooms/" + room.ID + "/bans"
	e.mustMod("POST", bans, ann, map[string]any{"user": "cat", "reason": "threats"})
	time.Sleep(5 * time.Millisecond) // the list is newest first
	e.mustMod("POST", bans, ann, map[string]any{"user": "dan", "minutes": 60, "reason": "spam"})
	audited := len(e.auditActions(room.ID))
	var out struct {
		Bans []map[string]any `json:"bans"`
	}
	if st := e.api("GET", bans, ann, nil, &out); st != 200 || len(out.Bans) != 2 {
		t.Fatalf("ban list: %d %+v", st, out)
	}
	d, c := out.Bans[0], out.Bans[1]
	if d["user"] != "dan" || d["name"] != "Dan" || d["by"] != "ann" || d["at"] == nil {
		t.Errorf("newest ban = %v, want dan's by ann", d)
	}
	if until, err := time.Parse(time.RFC3339, d["until"].(string)); err != nil || until.Before(time.Now().Add(50*time.Minute)) {
		t.Errorf("timed ban's until = %v (%v), want an hour from now", d["until"], err)
	}
	if _, has := c["until"]; c["user"] != "cat" || has {
		t.Errorf("ban for good = %v, want cat's without until", c)
	}
	if st, er := e.mod("GET", bans, bob, nil); st != 403 || er.Code != chat.CodeForbidden {
		t.Errorf("a member reading the ban list: %d %+v", st, er)
	}
	if n := len(e.auditActions(room.ID)); n != audited {
		t.Errorf("reading the ban list wrote %d audit entries", n-audited)
	}
	e.mustMod("DELETE", bans+"/dan", ann, nil)
	if st := e.api("GET", bans, ann, nil, &out); st != 200 || len(out.Bans) != 1 || out.Bans[0]["user"] != "cat" {
		t.Fatalf("ban list after unbanning dan: %d %+v", st, out)
	}
}

// TestMutedUntilOnlyForModerators: the members frame and route carry a
// member's mute to the room's moderators and to nobody else.
func TestMutedUntilOnlyForModerators(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, bob, cat := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer), e.token("cat", auth.RolePeer)
	room := e.createRoom(ann, "Support")
	e.mustMod("POST", "/api/rooms/"+room.ID+"/join", bob, nil)
	e.mustMod("POST", "/api/rooms/"+room.ID+"/join", cat, nil)
	e.mustMod("POST", members(room.ID, "cat", "/mute"), ann, map[string]any{"minutes": 30})
	mutes := func(tok string) map[string]int64 {
		var out struct {
			Members []chat.Member `json:"members"`
		}
		if st := e.api("GET", "/api/conversations/"+room.ID+"/members", tok, nil, &out); st != 200 {
			t.Fatalf("members route: %d", st)
		}
		fromFrame := map[string]int64{}
		c := e.dial(tok, nil)
		c.send(map[string]any{"type": "members", "conv": room.ID, "ref": "m"})
		for _, m := range c.take(func(f frame) bool { return f.Ref == "m" }).Members {
			fromFrame[m.ID] = m.MutedUntil
		}
		got := map[string]int64{}
		for _, m := range out.Members {
			got[m.ID] = m.MutedUntil
			if fromFrame[m.ID] != m.MutedUntil {
				t.Errorf("%s's mute: route %d, frame %d", m.ID, m.MutedUntil, fromFrame[m.ID])
			}
		}
		return got
	}
	if got := mutes(ann); got["cat"] < time.Now().Add(20*time.Minute).UnixNano() || got["bob"] != 0 {
		t.Errorf("a moderator sees mutes %v, want cat's", got)
	}
	if got := mutes(bob); got["cat"] != 0 {
		t.Errorf("a member sees mutes %v, want none", got)
	}
	e.mustMod("DELETE", members(room.ID, "cat", "/mute"), ann, nil)
	if got := mutes(ann); got["cat"] != 0 {
		t.Errorf("after unmuting, a moderator sees %v", got)
	}
}
