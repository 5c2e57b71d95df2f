package storetest

import (
	"strings"
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
