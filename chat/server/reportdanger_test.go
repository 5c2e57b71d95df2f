package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/sqlite"
)

// A report that says someone may be in danger also enters the crisis
// path, whatever the reporter's role: about a message as a flag, about a
// person as a concern (which a peer cannot raise otherwise). The on-call
// supervisor is paged and the room's facilitators get a room_alert.
func TestReportDangerEscalates(t *testing.T) {
	e := newEscalatingEnv(t, noRateLimit)
	now := time.Now()
	if _, err := e.store.(*sqlite.Store).Escalations().PutShift(context.Background(), escalation.Shift{
		Supervisor: "prim", Tier: escalation.ShiftPrimary, Start: now.Add(-time.Hour), End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	oncall := e.dial(e.token("prim", auth.RoleSupervisor), nil)
	r := newReportRoom(t, e)
	m := r.bb.sendMsg(r.room, "b1", "I gave away my things today")

	page := func(subject string, src escalation.Source) escalation.Escalation {
		t.Helper()
		f := oncall.take(func(f frame) bool {
			return f.Type == "escalation" && strings.Contains(f.raw, `"page":true`) && strings.Contains(f.raw, `"source":"`+string(src)+`"`)
		})
		x := decodeEscalation(t, f).Escalation
		if x.Subject != subject || x.ReportedBy != "cat" || x.Conv != r.room || !strings.Contains(x.Reason, "worried about him") {
			t.Fatalf("the on-call supervisor's page: %+v", x)
		}
		return x
	}
	f := r.cct.fileReport("d1", map[string]any{"conv": r.room, "seq": m.Seq, "category": "danger", "reason": "worried about him"})
	if f.Type != "reported" || reportIn(t, f).Category != chat.ReportDanger {
		t.Fatalf("a danger report: %s", f.raw)
	}
	if x := page("bob", escalation.SourceFlag); x.Message.Seq != m.Seq {
		t.Fatalf("the escalation does not point at the message: %+v", x.Message)
	}
	a := r.ownr.take(func(f frame) bool { return f.Type == "room_alert" && f.Seq == m.Seq })
	if !strings.Contains(a.raw, `"source":"flag"`) || strings.Contains(a.raw, "cat") {
		t.Fatalf("the owner's alert: %s", a.raw)
	}
	r.ownr.reportNews(reportIn(t, f).ID, chat.ReportOpen)

	// About a person, by a peer over HTTP: a concern.
	var out struct{ Report chat.Report }
	if st := e.api("POST", "/api/rooms/"+r.room+"/reports", r.cat, map[string]any{"user": "bob", "category": "danger", "reason": "worried about him, he said goodbye"}, &out); st != http.StatusCreated {
		t.Fatalf("a danger report about a person: %d", st)
	}
	page("bob", escalation.SourceConcern)
	a = r.modr.take(func(f frame) bool { return f.Type == "room_alert" && strings.Contains(f.raw, `"source":"concern"`) })
	var al struct{ Conv, User, Severity string }
	if json.Unmarshal([]byte(a.raw), &al); al.Conv != r.room || al.User != "bob" || al.Severity != "high" || a.Seq != 0 {
		t.Fatalf("the moderator's alert about a person: %s", a.raw)
	}
	// Other categories page nobody.
	r.cct.fileReport("s1", map[string]any{"conv": r.room, "user": "bob", "category": "spam"})
	var list struct{ Escalations []escalation.Escalation }
	e.api("GET", "/api/escalations", e.token("sue", auth.RoleSupervisor), nil, &list)
	if len(list.Escalations) != 2 {
		t.Fatalf("escalations opened: %d, want 2 (the danger reports)", len(list.Escalations))
	}
}

// Reports take from the same hourly bucket as flags and concerns; a
// refused one is a refused frame (rate_limited, retry_after_ms, counted),
// over HTTP too, and reconnecting does not refill the bucket.
func TestReportsShareTheCap(t *testing.T) {
	e := newEscalatingEnv(t, func(c *server.Config) { c.ReportsPerHour = 3 })
	r := newReportRoom(t, e)
	m := r.bb.sendMsg(r.room, "b1", "hello")
	r.cct.send(map[string]any{"type": "flag", "conv": r.room, "seq": m.Seq, "ref": "f"})
	if f := r.cct.take(func(f frame) bool { return f.Ref == "f" }); f.Type != "flagged" {
		t.Fatalf("flag: %s", f.raw)
	}
	if f := r.cct.fileReport("r1", map[string]any{"conv": r.room, "user": "bob", "category": "spam"}); f.Type != "reported" {
		t.Fatalf("report within the cap: %s", f.raw)
	}
	if st := e.api("POST", "/api/rooms/"+r.room+"/reports", r.cat, map[string]any{"user": "bob", "category": "spam"}, nil); st != http.StatusCreated {
		t.Fatalf("report over HTTP within the cap: %d", st)
	}
	metricName := `kindred_frames_rejected_total{code="rate_limited"}`
	f := r.cct.fileReport("r2", map[string]any{"conv": r.room, "user": "bob", "category": "spam"})
	if f.Code != chat.CodeRateLimited || !f.Temporary || f.RetryAfterMS < 1000 {
		t.Fatalf("a report over the cap: %s", f.raw)
	}
	st, er := e.mod("POST", "/api/rooms/"+r.room+"/reports", r.cat, map[string]any{"user": "bob", "category": "spam"})
	if st != http.StatusTooManyRequests || er.Code != chat.CodeRateLimited || er.RetryAfterMS < 1000 {
		t.Fatalf("a report over HTTP over the cap: %d %+v", st, er)
	}
	if n := metric(t, e, metricName); n != 2 {
		t.Fatalf("%s = %v, want 2", metricName, n)
	}
	r.cct.ws.CloseNow()
	again := e.dial(r.cat, nil)
	if f := again.fileReport("r3", map[string]any{"conv": r.room, "user": "bob", "category": "spam"}); f.Code != chat.CodeRateLimited {
		t.Fatalf("a report after reconnecting: %s", f.raw)
	}
	// Another user has a bucket of their own.
	if f := r.bb.fileReport("r4", map[string]any{"conv": r.room, "user": "cat", "category": "spam"}); f.Type != "reported" {
		t.Fatalf("bob's first report: %s", f.raw)
	}
	var page struct{ Reports []chat.Report }
	e.api("GET", "/api/rooms/"+r.room+"/reports", r.ann, nil, &page)
	if len(page.Reports) != 3 {
		t.Fatalf("reports stored: %d, want 3: %v", len(page.Reports), fmt.Sprint(reportIDs(page.Reports)))
	}
}
