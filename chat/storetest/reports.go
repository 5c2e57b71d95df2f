package storetest

import (
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
)

func (f *fixture) report(r chat.Report) chat.Report {
	f.Helper()
	got, err := f.s.CreateReport(f.ctx, r)
	if err != nil {
		f.Fatalf("CreateReport(%+v): %v", r, err)
	}
	return got
}

// testReports: a report is stored open with its pointer, reason and the
// reporter's name, read back by id, and refused for DMs, unknown rooms
// and bad fields.
func testReports(f *fixture) {
	ann, bob, cat := f.user("ann"), f.user("bob"), f.user("cat")
	r := f.room("Room", ann, bob, cat)
	m := f.send(msg(r.ID, bob, "m1", "something unkind"))
	start := time.Now().Add(-time.Second)
	got := f.report(chat.Report{Conv: r.ID, Seq: m.Seq, User: bob, Reporter: cat, Category: chat.ReportHarassment, Reason: "it hurt"})
	want := chat.Report{ID: got.ID, Conv: r.ID, Seq: m.Seq, User: bob, Reporter: cat, ReporterName: displayName("cat"),
		Category: chat.ReportHarassment, Reason: "it hurt", Status: chat.ReportOpen, CreatedAt: got.CreatedAt}
	if len(got.ID) < 4 || got.ID[:3] != "rp_" || got.CreatedAt.Before(start) || got.ResolvedAt != nil || got != want {
		f.Fatalf("CreateReport = %+v, want %+v", got, want)
	}
	if back, err := f.s.Report(f.ctx, got.ID); err != nil || !sameReport(back, got) {
		f.Errorf("Report(%s) = %+v, %v; want %+v", got.ID, back, err, got)
	}
	person := f.report(chat.Report{Conv: r.ID, User: bob, Reporter: ann, Category: chat.ReportDanger})
	if person.Seq != 0 || person.Reason != "" || person.Category != chat.ReportDanger {
		f.Errorf("a report about a person = %+v", person)
	}
	if _, err := f.s.Report(f.ctx, "rp_nosuch"); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("Report(unknown) = %v, want not_found", err)
	}
	dm, err := f.s.OpenDM(f.ctx, ann, bob)
	if err != nil {
		f.Fatal(err)
	}
	for name, tc := range map[string]struct {
		r    chat.Report
		code chat.Code
	}{
		"a DM":            {chat.Report{Conv: dm.ID, User: bob, Reporter: ann, Category: chat.ReportSpam}, chat.CodeNotFound},
		"an unknown room": {chat.Report{Conv: f.id("nosuch"), User: bob, Reporter: ann, Category: chat.ReportSpam}, chat.CodeNotFound},
		"no category":     {chat.Report{Conv: r.ID, User: bob, Reporter: ann}, chat.CodeInvalidField},
		"a bad category":  {chat.Report{Conv: r.ID, User: bob, Reporter: ann, Category: "rude"}, chat.CodeInvalidField},
		"no user":         {chat.Report{Conv: r.ID, Reporter: ann, Category: chat.ReportSpam}, chat.CodeInvalidField},
		"no reporter":     {chat.Report{Conv: r.ID, User: bob, Category: chat.ReportSpam}, chat.CodeInvalidField},
		"a negative seq":  {chat.Report{Conv: r.ID, Seq: -1, User: bob, Reporter: ann, Category: chat.ReportSpam}, chat.CodeInvalidField},
	} {
		if _, err := f.s.CreateReport(f.ctx, tc.r); chat.ErrorCode(err) != tc.code {
			f.Errorf("CreateReport with %s = %v, want %s", name, err, tc.code)
		}
	}
}

// sameReport compares reports field by field (ResolvedAt by time).
func sameReport(a, b chat.Report) bool {
	ra, rb := a.ResolvedAt, b.ResolvedAt
	a.ResolvedAt, b.ResolvedAt = nil, nil
	if a != b || (ra == nil) != (rb == nil) {
		return false
	}
	return ra == nil || ra.Equal(*rb)
}

// testReportsList: reports are listed newest first, by room, by status,
// without those about a given user, and paged by time and id.
func testReportsList(f *fixture) {
	ann, bob, cat := f.user("ann"), f.user("bob"), f.user("cat")
	r1, r2 := f.room("One", ann, bob, cat), f.room("Two", ann, bob, cat)
	var in1 []chat.Report                                                           // r1's, oldest first
	for _, p := range [][2]string{{bob, cat}, {cat, ann}, {bob, ann}, {ann, bob}} { // about, by
		in1 = append(in1, f.report(chat.Report{Conv: r1.ID, User: p[0], Reporter: p[1], Category: chat.ReportSpam}))
	}
	other := f.report(chat.Report{Conv: r2.ID, User: bob, Reporter: cat, Category: chat.ReportOther})
	list := func(flt chat.ReportFilter) []string {
		f.Helper()
		got, err := f.s.Reports(f.ctx, flt)
		if err != nil {
			f.Fatalf("Reports(%+v): %v", flt, err)
		}
		ids := []string{}
		for _, x := range got {
			if x.Conv == r1.ID || x.Conv == r2.ID {
				ids = append(ids, x.ID)
			}
		}
		return ids
	}
	ids := func(rs ...chat.Report) []string {
		out := []string{}
		for _, x := range rs {
			out = append(out, x.ID)
		}
		return out
	}
	check := func(what string, got, want []string) {
		f.Helper()
		if len(got) != len(want) {
			f.Errorf("%s: %v, want %v", what, got, want)
			return
		}
		for i := range got {
			if got[i] != want[i] {
				f.Errorf("%s: %v, want %v", what, got, want)
				return
			}
		}
	}
	check("room one", list(chat.ReportFilter{Conv: r1.ID}), ids(in1[3], in1[2], in1[1], in1[0]))
	check("every room", list(chat.ReportFilter{}), ids(other, in1[3], in1[2], in1[1], in1[0]))
	check("not about bob", list(chat.ReportFilter{Conv: r1.ID, NotAbout: bob}), ids(in1[3], in1[1]))
	check("limit 2", list(chat.ReportFilter{Conv: r1.ID, Limit: 2}), ids(in1[3], in1[2]))
	check("before the third", list(chat.ReportFilter{Conv: r1.ID, BeforeAt: in1[2].CreatedAt, BeforeID: in1[2].ID}), ids(in1[1], in1[0]))
	check("before the second's time", list(chat.ReportFilter{Conv: r1.ID, BeforeAt: in1[1].CreatedAt}), ids(in1[0]))
	if _, err := f.s.ResolveReport(f.ctx, in1[1].ID, ann, chat.OutcomeWarned, ""); err != nil {
		f.Fatal(err)
	}
	check("open", list(chat.ReportFilter{Conv: r1.ID, Status: chat.ReportOpen}), ids(in1[3], in1[2], in1[0]))
	check("resolved", list(chat.ReportFilter{Conv: r1.ID, Status: chat.ReportResolved}), ids(in1[1]))
}

// testResolveReport: a report is resolved once, with its outcome, note,
// resolver and time; again is a conflict, and of concurrent resolves
// exactly one succeeds.
func testResolveReport(f *fixture) {
	ann, bob, cat := f.user("ann"), f.user("bob"), f.user("cat")
	r := f.room("Room", ann, bob, cat)
	rep := f.report(chat.Report{Conv: r.ID, User: bob, Reporter: cat, Category: chat.ReportHarassment, Reason: "rude"})
	if _, err := f.s.ResolveReport(f.ctx, rep.ID, ann, "shrugged", ""); chat.ErrorCode(err) != chat.CodeInvalidField {
		f.Errorf("ResolveReport with an unknown outcome = %v, want invalid_field", err)
	}
	if _, err := f.s.ResolveReport(f.ctx, "rp_nosuch", ann, chat.OutcomeNoAction, ""); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("ResolveReport(unknown) = %v, want not_found", err)
	}
	got, err := f.s.ResolveReport(f.ctx, rep.ID, ann, chat.OutcomeMuted, "muted for an hour")
	if err != nil {
		f.Fatal(err)
	}
	if got.Status != chat.ReportResolved || got.Outcome != chat.OutcomeMuted || got.Note != "muted for an hour" ||
		got.ResolvedBy != ann || got.ResolvedAt == nil || got.ResolvedAt.Before(rep.CreatedAt) || got.Reason != "rude" {
		f.Errorf("ResolveReport = %+v", got)
	}
	if back, _ := f.s.Report(f.ctx, rep.ID); !sameReport(back, got) {
		f.Errorf("Report after resolving = %+v, want %+v", back, got)
	}
	if _, err := f.s.ResolveReport(f.ctx, rep.ID, cat, chat.OutcomeNoAction, ""); chat.ErrorCode(err) != chat.CodeConflict {
		f.Errorf("resolving again = %v, want conflict", err)
	}
	race := f.report(chat.Report{Conv: r.ID, User: bob, Reporter: cat, Category: chat.ReportSpam})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for range 8 {
		wg.Go(func() {
			_, err := f.s.ResolveReport(f.ctx, race.ID, ann, chat.OutcomeNoAction, "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case chat.ErrorCode(err) == chat.CodeConflict:
				conflicts++
			default:
				f.Errorf("concurrent ResolveReport: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || conflicts != 7 {
		f.Errorf("8 concurrent resolves: %d succeeded, %d conflicts; want 1 and 7", wins, conflicts)
	}
}
