package server_test

import (
	"net/http"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// The rules beside the table for reports: one reports only what one can
// see (not a message from before one joined a room whose history starts
// at the join, not a deleted one), only in rooms (DMs have no
// moderators), and nobody, staff included, is shown a report about them.
func TestReportOnlyWhatYouSee(t *testing.T) {
	e := newEnv(t, noRateLimit)
	r := newReportRoom(t, e)
	before := r.bb.sendMsg(r.room, "b1", "said before dan came")
	gone := r.bb.sendMsg(r.room, "b2", "said, then deleted")
	r.bb.send(map[string]any{"type": "delete", "conv": r.room, "seq": gone.Seq, "ref": "del"})
	r.bb.take(func(f frame) bool { return f.Type == "ack" && f.Seq > gone.Seq })

	dan := e.token("dan", auth.RolePeer)
	d := e.dial(dan, nil)
	d.join(r.room)
	if f := d.fileReport("old", map[string]any{"conv": r.room, "seq": before.Seq, "category": "spam"}); f.Code != chat.CodeNotFound {
		t.Fatalf("a report of a message from before one joined (joined history): %s", f.raw)
	}
	if f := r.cct.fileReport("gone", map[string]any{"conv": r.room, "seq": gone.Seq, "category": "spam"}); f.Code != chat.CodeConflict {
		t.Fatalf("a report of a deleted message: %s", f.raw)
	}
	if f := r.cct.fileReport("ok", map[string]any{"conv": r.room, "seq": before.Seq, "category": "spam"}); f.Type != "reported" {
		t.Fatalf("a report of a message seen: %s", f.raw)
	}

	// A DM: refused, whoever reports what.
	d.send(map[string]any{"type": "open_dm", "user": "bob", "ref": "dm"})
	dm := d.take(func(f frame) bool { return f.Ref == "dm" }).Conversation.ID
	if dm == "" {
		t.Fatal("no DM")
	}
	if f := d.fileReport("dm1", map[string]any{"conv": dm, "user": "bob", "category": "harassment"}); f.Code != chat.CodeNotFound {
		t.Fatalf("a report in a DM: %s", f.raw)
	}

	// A supervisor in the room who is reported neither finds the report
	// in any queue nor resolves it; another supervisor does.
	sue := e.token("sue", auth.RoleSupervisor)
	e.dial(sue, nil).join(r.room)
	f := r.cct.fileReport("sue", map[string]any{"conv": r.room, "user": "sue", "category": "inappropriate"})
	id := reportIn(t, f).ID
	for _, q := range []string{"/api/reports?status=all", "/api/rooms/" + r.room + "/reports?status=all"} {
		if _, p := e.reports(q, sue); containsID(p.Reports, id) || len(p.Reports) == 0 {
			t.Fatalf("%s as the supervisor reported: %v (the report about them is %s)", q, reportIDs(p.Reports), id)
		}
	}
	if st, er := e.mod("POST", "/api/reports/"+id+"/resolve", sue, map[string]any{"outcome": "no_action"}); st != http.StatusForbidden || er.Code != chat.CodeForbidden {
		t.Fatalf("the supervisor reported resolving it: %d %+v", st, er)
	}
	if _, p := e.reports("/api/reports", e.token("sid", auth.RoleSupervisor)); !containsID(p.Reports, id) {
		t.Fatalf("another supervisor's queue lacks the report about sue: %v", reportIDs(p.Reports))
	}
	e.mustMod("POST", "/api/reports/"+id+"/resolve", e.token("sid", auth.RoleSupervisor), map[string]any{"outcome": "no_action"})
}

func containsID(rs []chat.Report, id string) bool {
	for _, r := range rs {
		if r.ID == id {
			return true
		}
	}
	return false
}
