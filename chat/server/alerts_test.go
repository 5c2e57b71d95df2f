package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/server"
)

// A message the detector scores concern (which escalates to nobody) and a
// flag both reach the room's owner and moderators as a private room_alert:
// a pointer and a severity, never the text; plain members get nothing.
func TestFacilitatorsAlerted(t *testing.T) {
	e := newEscalatingEnv(t, noRateLimit, func(c *server.Config) { c.Detector = crisisDetector })
	spec := e.token("sam", auth.RoleSpecialist)
	room := e.createRoom(spec, "Evening group")
	owner := e.dial(spec, nil)
	owner.expectSynced(room.ID)
	mo, pat, fay := e.dial(e.token("mo", auth.RolePeer), nil), e.dial(e.token("pat", auth.RolePeer), nil), e.dial(e.token("fay", auth.RolePeer), nil)
	for _, c := range []*client{mo, pat, fay} {
		c.join(room.ID)
	}
	e.mustMod("PUT", members(room.ID, "mo", "/role"), spec, map[string]string{"role": "moderator"})

	const sad = "I feel so hopeless lately, nothing ever gets better"
	m := pat.sendMsg(room.ID, "c1", sad)
	for name, c := range map[string]*client{"owner": owner, "moderator": mo} {
		a := c.take(func(f frame) bool { return f.Type == "room_alert" })
		var got struct {
			Conv, Severity, Source string
			Seq                    int64
		}
		json.Unmarshal([]byte(a.raw), &got)
		if got.Conv != room.ID || got.Seq != m.Seq || got.Severity != "concern" || got.Source != "detector" || strings.Contains(a.raw, "hopeless") {
			t.Fatalf("%s's alert: %s", name, a.raw)
		}
	}
	var list struct{ Escalations []escalation.Escalation }
	e.api("GET", "/api/escalations", e.token("sue", auth.RoleSupervisor), nil, &list)
	if len(list.Escalations) != 0 {
		t.Fatalf("a concern opened escalations: %d", len(list.Escalations))
	}

	ok := pat.sendMsg(room.ID, "c2", "see you all next week")
	fay.send(map[string]any{"type": "flag", "conv": room.ID, "seq": ok.Seq, "reason": "worried", "ref": "f"})
	if f := fay.take(func(f frame) bool { return f.Ref == "f" }); f.Type != "flagged" {
		t.Fatalf("flag: %s", f.raw)
	}
	a := owner.take(func(f frame) bool { return f.Type == "room_alert" && f.Seq == ok.Seq })
	if !strings.Contains(a.raw, `"source":"flag"`) || !strings.Contains(a.raw, `"severity":"high"`) || strings.Contains(a.raw, "fay") {
		t.Fatalf("alert for the flag: %s", a.raw)
	}
	// Members who are not facilitators got no alert (a pong comes after
	// anything sent to them before it).
	for name, c := range map[string]*client{"pat": pat, "fay": fay} {
		c.send(map[string]any{"type": "ping", "ref": "end"})
		for f := c.next(); f.Type != "pong"; f = c.next() {
			if f.Type == "room_alert" {
				t.Fatalf("%s got %s", name, f.raw)
			}
		}
	}
}
