package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// Reports (docs/moderation.md#reports): members report a message or a
// person; the room's owner and moderators are told live and work through
// the queue; the person reported is never told who reported them.

// fileReport sends a report frame and returns its answer (reported or
// error).
func (c *client) fileReport(ref string, fields map[string]any) frame {
	c.t.Helper()
	m := map[string]any{"type": "report", "ref": ref}
	for k, v := range fields {
		m[k] = v
	}
	c.send(m)
	return c.take(func(f frame) bool { return f.Ref == ref })
}

// reportIn decodes the report a reported or report_news frame carries.
func reportIn(t testing.TB, f frame) chat.Report {
	t.Helper()
	var out struct{ Report chat.Report }
	if err := json.Unmarshal([]byte(f.raw), &out); err != nil || out.Report.ID == "" {
		t.Fatalf("no report in %s (%v)", f.raw, err)
	}
	return out.Report
}

// reportNews waits for news of report id with status.
func (c *client) reportNews(id string, status chat.ReportStatus) chat.Report {
	c.t.Helper()
	f := c.take(func(f frame) bool {
		return f.Type == "report_news" && strings.Contains(f.raw, `"id":"`+id+`"`) && strings.Contains(f.raw, `"status":"`+string(status)+`"`)
	})
	return reportIn(c.t, f)
}

// noneOf fails if c got a frame of type typ (whose text holds has)
// before the pong to a ping sent now: the session answers in order, and
// news is queued before.
func (c *client) noneOf(typ, has, who string) {
	c.t.Helper()
	ref := "none-" + typ
	c.send(map[string]any{"type": "ping", "ref": ref})
	c.take(func(f frame) bool { return f.Ref == ref })
	for _, f := range c.backlog {
		if f.Type == typ && strings.Contains(f.raw, has) {
			c.t.Fatalf("%s got %s", who, f.raw)
		}
	}
}

// reportRoom is a room owned by ann (a specialist) with moderator mo and
// members bob and cat (peers), each with a session.
type reportRoom struct {
	room                string
	ann, mo, bob, cat   string // tokens
	ownr, modr, bb, cct *client
}

func newReportRoom(t *testing.T, e *env) *reportRoom {
	t.Helper()
	r := &reportRoom{ann: e.token("ann", auth.RoleSpecialist), mo: e.token("mo", auth.RolePeer),
		bob: e.token("bob", auth.RolePeer), cat: e.token("cat", auth.RolePeer)}
	r.room = e.createRoom(r.ann, "Thursday group").ID
	r.ownr = e.dial(r.ann, nil)
	r.ownr.expectSynced(r.room)
	r.modr, r.bb, r.cct = e.dial(r.mo, nil), e.dial(r.bob, nil), e.dial(r.cat, nil)
	for _, c := range []*client{r.modr, r.bb, r.cct} {
		c.join(r.room)
	}
	e.mustMod("PUT", members(r.room, "mo", "/role"), r.ann, map[string]string{"role": "moderator"})
	r.modr.membership(r.room, func(cv chat.Conversation) bool { return cv.Role == chat.RoomModerator })
	return r
}

func TestReportMessageAndPerson(t *testing.T) {
	e := newEnv(t, noRateLimit)
	r := newReportRoom(t, e)
	m := r.bb.sendMsg(r.room, "b1", "nobody here is worth talking to")

	// A message, by frame: the reported user is its sender.
	f := r.cct.fileReport("r1", map[string]any{"conv": r.room, "seq": m.Seq, "category": "harassment", "reason": "it felt aimed at me"})
	if f.Type != "reported" {
		t.Fatalf("report of a message: %s", f.raw)
	}
	got := reportIn(t, f)
	if !strings.HasPrefix(got.ID, "rp_") || got.Conv != r.room || got.Seq != m.Seq || got.User != "bob" || got.Reporter != "cat" ||
		got.ReporterName != "Cat" || got.Category != chat.ReportHarassment || got.Reason != "it felt aimed at me" ||
		got.Status != chat.ReportOpen || got.ResolvedAt != nil || strings.Contains(f.raw, "worth talking") {
		t.Fatalf("reported: %s", f.raw)
	}
	// The owner and the moderator are told live; the person reported and
	// the reporter (a plain member) are not.
	for name, c := range map[string]*client{"owner": r.ownr, "moderator": r.modr} {
		if n := c.reportNews(got.ID, chat.ReportOpen); n != got {
			t.Fatalf("%s's news: %+v, want %+v", name, n, got)
		}
	}
	r.bb.noneOf("report_news", "", "the reported member")
	r.cct.noneOf("report_news", "", "the reporter")

	// A person, by the route.
	var out struct{ Report chat.Report }
	if st := e.api("POST", "/api/rooms/"+r.room+"/reports", r.cat, map[string]any{"user": "bob", "category": "spam"}, &out); st != http.StatusCreated {
		t.Fatalf("report of a person: %d %+v", st, out)
	}
	if p := out.Report; p.Seq != 0 || p.User != "bob" || p.Reporter != "cat" || p.Category != chat.ReportSpam || p.Status != chat.ReportOpen {
		t.Fatalf("reported a person: %+v", p)
	}
	r.ownr.reportNews(out.Report.ID, chat.ReportOpen)

	checkReportRefusals(t, e, r, m.Seq)
}

// checkReportRefusals: bad reports get their documented codes, and the
// connection survives them.
func checkReportRefusals(t *testing.T, e *env, r *reportRoom, seq int64) {
	own := r.cct.sendMsg(r.room, "c1", "my own words")
	long := strings.Repeat("x", 1001)
	for i, tc := range []struct {
		fields map[string]any
		code   chat.Code
	}{
		{map[string]any{"seq": seq, "category": "spam"}, chat.CodeMissingField},
		{map[string]any{"conv": r.room, "category": "spam"}, chat.CodeMissingField},
		{map[string]any{"conv": r.room, "user": "bob"}, chat.CodeMissingField},
		{map[string]any{"conv": r.room, "user": "bob", "category": "rude"}, chat.CodeInvalidField},
		{map[string]any{"conv": r.room, "user": "bob", "category": "other", "reason": long}, chat.CodeInvalidField},
		{map[string]any{"conv": r.room, "user": "cat", "category": "spam"}, chat.CodeInvalidField},
		{map[string]any{"conv": r.room, "seq": own.Seq, "category": "spam"}, chat.CodeInvalidField},
		{map[string]any{"conv": r.room, "seq": seq, "user": "mo", "category": "spam"}, chat.CodeInvalidField},
		{map[string]any{"conv": r.room, "seq": 999, "category": "spam"}, chat.CodeNotFound},
		{map[string]any{"conv": r.room, "user": "nobody", "category": "spam"}, chat.CodeNotFound},
		{map[string]any{"conv": "r_nosuchroom", "user": "bob", "category": "spam"}, chat.CodeNotMember},
	} {
		if f := r.cct.fileReport(fmt.Sprint("bad", i), tc.fields); f.Type != "error" || f.Code != tc.code {
			t.Errorf("report %v: %s, want %s", tc.fields, f.raw, tc.code)
		}
	}
	// Not a member: refused on the frame and the route.
	dan := e.token("dan", auth.RolePeer)
	d := e.dial(dan, nil)
	if f := d.fileReport("d1", map[string]any{"conv": r.room, "user": "bob", "category": "spam"}); f.Code != chat.CodeNotMember {
		t.Fatalf("a non-member's report: %s", f.raw)
	}
	if st, er := e.mod("POST", "/api/rooms/"+r.room+"/reports", dan, map[string]any{"user": "bob", "category": "spam"}); st != http.StatusForbidden || er.Code != chat.CodeNotMember {
		t.Fatalf("a non-member's report over HTTP: %d %+v", st, er)
	}
	if st, er := e.mod("POST", "/api/rooms/"+r.room+"/reports", r.cat, map[string]any{"conv": "r_other", "user": "bob", "category": "spam"}); st != http.StatusBadRequest || er.Code != chat.CodeInvalidField {
		t.Fatalf("a report naming another room over HTTP: %d %+v", st, er)
	}
	r.cct.sendMsg(r.room, "c2", "still connected")
}

// reportPage is a page of a report queue.
type reportPage struct {
	Reports []chat.Report
	Next    string
	Error   chat.Error
}

func (e *env) reports(path, token string) (int, reportPage) {
	e.t.Helper()
	var p reportPage
	st := e.api("GET", path, token, nil, &p)
	return st, p
}

func reportIDs(rs []chat.Report) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// The queue: the owner and moderators list a room's reports and resolve
// them, once, and are told; members, and the person a report is about,
// cannot; supervisors see every room's.
func TestReportQueue(t *testing.T) {
	e := newEnv(t, noRateLimit)
	r := newReportRoom(t, e)
	var ids []string // oldest first
	for i, who := range []string{"bob", "bob", "mo"} {
		f := r.cct.fileReport(fmt.Sprint("q", i), map[string]any{"conv": r.room, "user": who, "category": "inappropriate", "reason": fmt.Sprint("reason ", i)})
		ids = append(ids, reportIn(t, f).ID)
	}
	q := "/api/rooms/" + r.room + "/reports"
	if st, p := e.reports(q, r.ann); st != 200 || strings.Join(reportIDs(p.Reports), ",") != strings.Join([]string{ids[2], ids[1], ids[0]}, ",") {
		t.Fatalf("the owner's queue: %d %v, want %v newest first", st, reportIDs(p.Reports), ids)
	}
	// A report about the moderator is not shown to them, nor told.
	if _, p := e.reports(q, r.mo); strings.Join(reportIDs(p.Reports), ",") != ids[1]+","+ids[0] {
		t.Fatalf("the moderator's queue: %v, want %v (not the one about them)", reportIDs(p.Reports), ids[:2])
	}
	r.modr.reportNews(ids[1], chat.ReportOpen)
	r.modr.noneOf("report_news", ids[2], "the moderator reported")
	if st, er := e.mod("POST", "/api/reports/"+ids[2]+"/resolve", r.mo, map[string]any{"outcome": "no_action"}); st != http.StatusForbidden || er.Code != chat.CodeForbidden {
		t.Fatalf("the moderator resolving a report about them: %d %+v", st, er)
	}
	// Members cannot list or resolve.
	if st, p := e.reports(q, r.bob); st != http.StatusForbidden || p.Error.Code != chat.CodeForbidden {
		t.Fatalf("a member's list: %d %+v", st, p.Error)
	}
	if st, er := e.mod("POST", "/api/reports/"+ids[0]+"/resolve", r.bob, map[string]any{"outcome": "no_action"}); st != http.StatusForbidden || er.Code != chat.CodeForbidden {
		t.Fatalf("a member's resolve: %d %+v", st, er)
	}
	if st, p := e.reports("/api/reports", r.ann); st != http.StatusForbidden || p.Error.Code != chat.CodeForbidden {
		t.Fatalf("a specialist's list across rooms: %d %+v", st, p.Error)
	}

	// The moderator resolves; the owner is told; again is a conflict.
	var out struct {
		Report chat.Report
		Error  chat.Error
	}
	if st := e.api("POST", "/api/reports/"+ids[0]+"/resolve", r.mo, map[string]any{"outcome": "warned", "note": "spoke to bob"}, &out); st != 200 {
		t.Fatalf("resolve: %d %+v", st, out.Error)
	}
	if x := out.Report; x.Status != chat.ReportResolved || x.Outcome != chat.OutcomeWarned || x.Note != "spoke to bob" || x.ResolvedBy != "mo" || x.ResolvedAt == nil {
		t.Fatalf("resolved: %+v", x)
	}
	if n := r.ownr.reportNews(ids[0], chat.ReportResolved); n.Outcome != chat.OutcomeWarned || n.ResolvedBy != "mo" {
		t.Fatalf("the owner's news of the resolution: %+v", n)
	}
	if st, er := e.mod("POST", "/api/reports/"+ids[0]+"/resolve", r.ann, map[string]any{"outcome": "banned"}); st != http.StatusConflict || er.Code != chat.CodeConflict {
		t.Fatalf("resolving again: %d %+v", st, er)
	}
	for _, tc := range []struct {
		body any
		code chat.Code
	}{{map[string]any{}, chat.CodeMissingField}, {map[string]any{"outcome": "shrug"}, chat.CodeInvalidField}, {"no object", chat.CodeBadJSON}} {
		if st, er := e.mod("POST", "/api/reports/"+ids[1]+"/resolve", r.ann, tc.body); st != http.StatusBadRequest || er.Code != tc.code {
			t.Errorf("resolve with %v: %d %+v, want %s", tc.body, st, er, tc.code)
		}
	}
	checkQueuePages(t, e, q, r.ann, ids)
	// Supervisors see every room's; the status filter holds.
	sue := e.token("sue", auth.RoleSupervisor)
	if st, p := e.reports("/api/reports?status=open", sue); st != 200 || strings.Join(reportIDs(p.Reports), ",") != ids[2]+","+ids[1] {
		t.Fatalf("a supervisor's open reports: %d %v", st, reportIDs(p.Reports))
	}
	if st, p := e.reports("/api/reports?status=resolved", sue); st != 200 || len(p.Reports) != 1 || p.Reports[0].ID != ids[0] {
		t.Fatalf("a supervisor's resolved reports: %d %v", st, reportIDs(p.Reports))
	}
	if st, p := e.reports(q+"?status=maybe", r.ann); st != http.StatusBadRequest || p.Error.Code != chat.CodeInvalidField {
		t.Fatalf("an unknown status: %d %+v", st, p.Error)
	}
}

// checkQueuePages: statuses and paging by id and by time.
func checkQueuePages(t *testing.T, e *env, q, tok string, ids []string) {
	t.Helper()
	_, all := e.reports(q+"?status=all", tok)
	if strings.Join(reportIDs(all.Reports), ",") != ids[2]+","+ids[1]+","+ids[0] {
		t.Fatalf("status=all: %v", reportIDs(all.Reports))
	}
	_, first := e.reports(q+"?status=all&limit=2", tok)
	if len(first.Reports) != 2 || first.Next != ids[1] {
		t.Fatalf("a first page of 2: %v next %q", reportIDs(first.Reports), first.Next)
	}
	_, second := e.reports(q+"?status=all&limit=2&before="+first.Next, tok)
	if len(second.Reports) != 1 || second.Reports[0].ID != ids[0] || second.Next != "" {
		t.Fatalf("the second page: %v next %q", reportIDs(second.Reports), second.Next)
	}
	at := all.Reports[1].CreatedAt.Format("2006-01-02T15:04:05.999999999Z07:00")
	if _, p := e.reports(q+"?status=all&before="+at, tok); len(p.Reports) != 1 || p.Reports[0].ID != ids[0] {
		t.Fatalf("before a time: %v", reportIDs(p.Reports))
	}
	if st, p := e.reports(q+"?before=rp_nosuch", tok); st != http.StatusBadRequest || p.Error.Code != chat.CodeInvalidField {
		t.Fatalf("before an unknown report: %d %+v", st, p.Error)
	}
}

// Each report and each resolution is one audit entry naming the report,
// never its reason.
func TestReportAudit(t *testing.T) {
	e := newEnv(t, noRateLimit)
	r := newReportRoom(t, e)
	f := r.cct.fileReport("a1", map[string]any{"conv": r.room, "user": "bob", "category": "harassment", "reason": "he keeps asking about my diagnosis"})
	id := reportIn(t, f).ID
	e.mustMod("POST", "/api/reports/"+id+"/resolve", r.ann, map[string]any{"outcome": "muted", "note": "muted for a day"})
	var log struct{ Entries []chat.AuditEntry }
	e.api("GET", "/api/audit?room="+r.room, e.token("sue", auth.RoleSupervisor), nil, &log)
	var creates, resolves []chat.AuditEntry
	for _, a := range log.Entries {
		if strings.Contains(a.Reason+a.Detail, "diagnosis") {
			t.Fatalf("the reason reached the audit log: %+v", a)
		}
		switch a.Action {
		case "report.create":
			creates = append(creates, a)
		case "report.resolve":
			resolves = append(resolves, a)
		}
	}
	if len(creates) != 1 || len(resolves) != 1 {
		t.Fatalf("audit: %d report.create and %d report.resolve entries, want one each: %+v", len(creates), len(resolves), log.Entries)
	}
	if c := creates[0]; c.Actor != "cat" || c.Room != r.room || c.Target != "bob" || c.Detail != "report="+id+" category=harassment" || c.Reason != "" {
		t.Fatalf("report.create: %+v", c)
	}
	if c := resolves[0]; c.Actor != "ann" || c.Room != r.room || c.Target != "bob" || c.Detail != "report="+id+" outcome=muted" || c.Reason != "muted for a day" {
		t.Fatalf("report.resolve: %+v", c)
	}
}

// A report made on one node reaches a moderator's session on another
// (PostgreSQL and Redis), and its resolution there reaches the owner's
// session on the first.
func TestClusterReportNews(t *testing.T) {
	c := newCluster(t, 2, "")
	ann, mo, bob, cat := c.token("ann", auth.RoleSpecialist), c.token("mo", auth.RolePeer), c.token("bob", auth.RolePeer), c.token("cat", auth.RolePeer)
	a, b := c.env(0), c.env(1)
	room := a.createRoom(ann, "Across nodes").ID
	owner := c.dial(0, ann, nil)
	owner.expectSynced(room)
	m := c.dial(1, mo, nil)
	m.join(room)
	bb, k := c.dial(1, bob, nil), c.dial(0, cat, nil)
	bb.join(room)
	k.join(room)
	a.mustMod("PUT", members(room, "mo", "/role"), ann, map[string]string{"role": "moderator"})
	m.membership(room, func(cv chat.Conversation) bool { return cv.Role == chat.RoomModerator })

	msg := bb.sendMsg(room, "b1", "whatever")
	f := k.fileReport("r1", map[string]any{"conv": room, "seq": msg.Seq, "category": "inappropriate", "reason": "not ok"})
	if f.Type != "reported" {
		t.Fatalf("report: %s", f.raw)
	}
	id := reportIn(t, f).ID
	if n := m.reportNews(id, chat.ReportOpen); n.User != "bob" || n.Reporter != "cat" || n.Seq != msg.Seq {
		t.Fatalf("the moderator's news on the other node: %+v", n)
	}
	owner.reportNews(id, chat.ReportOpen)
	b.mustMod("POST", "/api/reports/"+id+"/resolve", mo, map[string]any{"outcome": "hidden"})
	if n := owner.reportNews(id, chat.ReportResolved); n.Outcome != chat.OutcomeHidden || n.ResolvedBy != "mo" {
		t.Fatalf("the owner's news of the resolution on the other node: %+v", n)
	}
	bb.noneOf("report_news", "", "the reported member")
}
