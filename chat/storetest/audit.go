package storetest

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// testAudit: entries come back newest first, filtered by room, actor and
// time, and paged by ID.
func testAudit(f *fixture) {
	room1, room2, ann, bob := f.id("r1"), f.id("r2"), f.id("ann"), f.id("bob")
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	in := []chat.AuditEntry{
		{At: t0, Actor: ann, Action: "room.settings", Room: room1, Detail: "visibility=private"},
		{At: t0.Add(time.Minute), Actor: bob, Action: "member.add", Room: room1, Target: ann},
		{At: t0.Add(2 * time.Minute), Actor: ann, Action: "member.add", Room: room2, Target: bob, Reason: "asked to join"},
	}
	for _, e := range in {
		if err := f.s.AppendAudit(f.ctx, e); err != nil {
			f.Fatal(err)
		}
	}
	got, err := f.s.Audit(f.ctx, chat.AuditFilter{Room: room1})
	if err != nil {
		f.Fatal(err)
	}
	if len(got) != 2 || got[0].Actor != bob || got[1].Action != "room.settings" || !got[1].At.Equal(t0) || got[0].ID <= got[1].ID {
		f.Fatalf("room filter: %+v", got)
	}
	byAnn, _ := f.s.Audit(f.ctx, chat.AuditFilter{Actor: ann})
	if len(byAnn) != 2 || byAnn[0].Room != room2 || byAnn[0].Reason != "asked to join" || byAnn[0].Target != bob {
		f.Fatalf("actor filter: %+v", byAnn)
	}
	window, _ := f.s.Audit(f.ctx, chat.AuditFilter{Actor: ann, Since: t0.Add(time.Second), Until: t0.Add(3 * time.Minute)})
	if len(window) != 1 || window[0].Room != room2 {
		f.Fatalf("time filter: %+v", window)
	}
	page1, _ := f.s.Audit(f.ctx, chat.AuditFilter{Actor: ann, Limit: 1})
	page2, _ := f.s.Audit(f.ctx, chat.AuditFilter{Actor: ann, Limit: 1, Before: page1[0].ID})
	if len(page1) != 1 || len(page2) != 1 || page2[0].ID >= page1[0].ID || page2[0].Room != room1 {
		f.Fatalf("paging: %+v then %+v", page1, page2)
	}
}

// testAuditText: an entry is never lost for its text: NUL, invalid UTF-8
// and overlong reasons are repaired, not refused.
func testAuditText(f *fixture) {
	actor := f.id("ann")
	reason := "bad\x00text \xff" + strings.Repeat("x", 5000)
	if err := f.s.AppendAudit(f.ctx, chat.AuditEntry{Actor: actor, Action: "member.ban", Reason: reason}); err != nil {
		f.Fatal(err)
	}
	got, err := f.s.Audit(f.ctx, chat.AuditFilter{Actor: actor})
	if err != nil || len(got) != 1 {
		f.Fatalf("audit: %v %+v", err, got)
	}
	r := got[0].Reason
	if strings.ContainsRune(r, 0) || !strings.HasPrefix(r, "badtext \uFFFD") || len(r) > 2000 || got[0].At.IsZero() {
		f.Fatalf("repaired reason %q (%d bytes), at %v", r[:20], len(r), got[0].At)
	}
}

// testAuditChain: appends from many goroutines, one entry or several at a
// time, make one chain: dense positions, each hash following from the one
// before, and VerifyAudit finds nothing wrong; an anchored head is found
// again, and a head that was never there is reported.
func testAuditChain(f *fixture) {
	actor, room := f.id("ann"), f.id("room")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Go(func() {
			for i := range 5 {
				e := chat.AuditEntry{Actor: actor, Action: "history.read", Room: room, Target: fmt.Sprint(g), Source: "192.0.2.7", Detail: fmt.Sprint("i=", i)}
				if err := f.s.AppendAudit(f.ctx, e, e); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		f.Fatal(err)
	}
	got, err := f.s.Audit(f.ctx, chat.AuditFilter{Actor: actor, Limit: 200})
	if err != nil || len(got) != 80 {
		f.Fatalf("audit: %v, %d entries", err, len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Position >= got[i-1].Position || got[i].Hash == "" || got[i].Source != "192.0.2.7" {
			f.Fatalf("entries out of chain order: %+v then %+v", got[i-1], got[i])
		}
	}
	rep, err := f.s.VerifyAudit(f.ctx, chat.AuditHead{Position: got[0].Position, Hash: got[0].Hash})
	if err != nil || len(rep.Problems) > 0 || rep.Count < 80 || rep.Head.Position < got[0].Position || rep.Head.Position != rep.Count {
		f.Fatalf("verify: %v %+v", err, rep)
	}
	rep, err = f.s.VerifyAudit(f.ctx, chat.AuditHead{Position: got[0].Position, Hash: "sha256:00"})
	if err != nil || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "anchored head") {
		f.Fatalf("verify against a wrong anchor: %v %+v", err, rep)
	}
}

// testAuditFilters: action, target and source select entries too.
func testAuditFilters(f *fixture) {
	ann, bob := f.id("ann"), f.id("bob")
	in := []chat.AuditEntry{
		{Actor: ann, Action: "signin.fail", Source: "198.51.100.9", Detail: "code=token_invalid count=1"},
		{Actor: ann, Action: "history.read", Room: f.id("r"), Target: bob, Source: "198.51.100.10"},
		{Actor: bob, Action: "member.ban", Room: f.id("r"), Target: ann},
	}
	if err := f.s.AppendAudit(f.ctx, in...); err != nil {
		f.Fatal(err)
	}
	for _, tc := range []struct {
		f    chat.AuditFilter
		want string
	}{
		{chat.AuditFilter{Actor: ann, Action: "signin.fail"}, "signin.fail"},
		{chat.AuditFilter{Target: bob}, "history.read"},
		{chat.AuditFilter{Target: ann, Actor: bob}, "member.ban"},
		{chat.AuditFilter{Source: "198.51.100.9", Actor: ann}, "signin.fail"},
	} {
		got, err := f.s.Audit(f.ctx, tc.f)
		if err != nil || len(got) != 1 || got[0].Action != tc.want {
			f.Fatalf("Audit(%+v) = %v %+v, want one %s", tc.f, err, got, tc.want)
		}
	}
}
