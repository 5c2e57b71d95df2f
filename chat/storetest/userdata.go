package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
)

// testExportUser: the export holds the user's profile, memberships, the
// messages they sent in rooms and DMs, the reports by and about them,
// their blocks, push subscriptions (no keys), support notes, audit
// entries where they act or are acted on, and holds.
func testExportUser(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	r := f.room("Exported", bob, alice)
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatal(err)
	}
	inRoom := f.send(msg(r.ID, alice, f.id("r1"), "said in the room"))
	f.send(msg(r.ID, bob, f.id("r2"), "bob's, not alice's"))
	f.send(msg(dm.ID, alice, f.id("d1"), "said in the dm"))
	f.report(chat.Report{Conv: r.ID, Seq: inRoom.Seq, User: alice, Reporter: bob, Category: chat.ReportOther, Reason: "about alice"})
	f.report(chat.Report{Conv: r.ID, User: bob, Reporter: alice, Category: chat.ReportOther, Reason: "by alice"})
	if err := f.s.Block(f.ctx, alice, carol); err != nil {
		f.Fatal(err)
	}
	if err := f.s.Block(f.ctx, carol, alice); err != nil {
		f.Fatal(err)
	}
	if err := f.pushStore().PutPushSubscription(f.ctx, f.pushSub(alice, "browser"), 5); err != nil {
		f.Fatal(err)
	}
	if _, _, err := f.s.AddSupportNote(f.ctx, chat.SupportNote{User: alice, Conv: r.ID, Seq: inRoom.Seq, State: chat.SupportTold}); err != nil {
		f.Fatal(err)
	}
	for _, e := range []chat.AuditEntry{{Actor: alice, Action: "test.by"}, {Actor: bob, Action: "test.on", Target: alice}, {Actor: bob, Action: "test.other"}} {
		if err := f.s.AppendAudit(f.ctx, e); err != nil {
			f.Fatal(err)
		}
	}
	f.setHold(chat.HoldUser, alice)

	x, err := f.s.ExportUser(f.ctx, alice)
	if err != nil {
		f.Fatalf("ExportUser: %v", err)
	}
	if x.User == nil || x.User.ID != alice || x.User.Name != displayName("alice") {
		f.Errorf("export user = %+v", x.User)
	}
	var convs, bodies []string
	for _, m := range x.Memberships {
		convs = append(convs, m.Conv)
	}
	for _, m := range x.Messages {
		bodies = append(bodies, m.Conv+":"+m.Body)
		if m.Sender != alice || m.Time.IsZero() || m.Seq == 0 {
			f.Errorf("exported message %+v", m)
		}
	}
	if !slices.Contains(convs, r.ID) || !slices.Contains(convs, dm.ID) || len(convs) != 2 {
		f.Errorf("export memberships %v, want %s and %s", convs, r.ID, dm.ID)
	}
	if !slices.Equal(bodies, []string{r.ID + ":said in the room", dm.ID + ":said in the dm"}) {
		f.Errorf("export messages %q", bodies)
	}
	if len(x.Reports) != 2 || len(x.Blocks) != 1 || x.Blocks[0].User != carol || !slices.Equal(x.BlockedBy, []string{carol}) {
		f.Errorf("export reports %d (want 2), blocks %+v, blocked by %v", len(x.Reports), x.Blocks, x.BlockedBy)
	}
	if len(x.Push) != 1 || x.Push[0].Endpoint != f.pushSub(alice, "browser").Endpoint || len(x.Support) != 1 {
		f.Errorf("export push %+v, support %+v", x.Push, x.Support)
	}
	var actions []string
	for _, e := range x.Audit {
		actions = append(actions, e.Action)
	}
	if !slices.Equal(actions, []string{"test.by", "test.on"}) || len(x.Holds) != 1 {
		f.Errorf("export audit %v (want test.by, test.on), holds %+v", actions, x.Holds)
	}
	none, err := f.s.ExportUser(f.ctx, f.id("nobody"))
	if err != nil || none.User != nil || len(none.Messages) != 0 || none.Memberships == nil {
		f.Errorf("export of an unknown user = %+v, %v; want nil user and empty lists", none, err)
	}
}

// testEraseUser: the user's messages become tombstones everywhere but in
// a held room, the edits of them lose their text, their held messages,
// room memberships, blocks, push subscriptions, support notes, profile
// and the words of their reports go; what stays is listed with why.
func testEraseUser(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r, kept := f.room("Erased in", bob, alice), f.room("Held", bob, alice)
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatal(err)
	}
	m := f.send(msg(r.ID, alice, f.id("r1"), "secret in the room"))
	ed := f.send(edit(r.ID, alice, m.Seq, "secret, edited"))
	f.pin(r.ID, m.Seq, bob, 10)
	f.send(msg(dm.ID, alice, f.id("d1"), "secret in the dm"))
	theirs := f.send(msg(dm.ID, bob, f.id("d2"), "bob's own"))
	f.send(msg(kept.ID, alice, f.id("k1"), "kept by the hold"))
	f.setHold(chat.HoldRoom, kept.ID)
	f.hold(r.ID, alice, f.id("p1"), "secret held back")
	rep := f.report(chat.Report{Conv: r.ID, User: bob, Reporter: alice, Category: chat.ReportOther, Reason: "alice's words"})
	f.report(chat.Report{Conv: r.ID, User: alice, Reporter: bob, Category: chat.ReportOther, Reason: "bob's words"})
	if err := f.s.Block(f.ctx, bob, alice); err != nil {
		f.Fatal(err)
	}
	if err := f.pushStore().PutPushSubscription(f.ctx, f.pushSub(alice, "b"), 5); err != nil {
		f.Fatal(err)
	}

	e, err := f.s.EraseUser(f.ctx, alice)
	if err != nil {
		f.Fatalf("EraseUser: %v", err)
	}
	for what, want := range map[string]int{"messages": 2, "edits": 1, "held_messages": 1, "room_memberships": 1,
		"blocks": 1, "push_subscriptions": 1, "report_reasons": 1, "profile": 1} {
		if e.Erased[what] != want {
			f.Errorf("erased %s = %d, want %d (all: %v)", what, e.Erased[what], want, e.Erased)
		}
	}
	f.wantKept(e, "messages", 1, "a legal hold on the room")
	f.wantKept(e, "dm_memberships", 1, "")
	f.wantKept(e, "reports_about", 1, "")
	for _, c := range []string{r.ID, dm.ID} {
		for _, ev := range f.eventsAfter(c, 0, 10) {
			if ev.Sender == alice && ev.Body != "" || ev.Sender == alice && ev.Kind == chat.EventMessage && !ev.Deleted {
				f.Errorf("after the erasure %s keeps %+v", c, ev)
			}
		}
	}
	if h := f.history(dm.ID, 0, 0, 10); len(h) != 2 || h[1].Seq != theirs.Seq || h[1].Body != "bob's own" {
		f.Errorf("the other side of the DM after the erasure: %+v", h)
	}
	if evs := f.eventsAfter(r.ID, ed.Seq-1, 1); len(evs) != 1 || evs[0].Body != "" {
		f.Errorf("the edit after the erasure: %+v", evs)
	}
	if h := f.history(kept.ID, 0, 0, 10); len(h) != 1 || h[0].Body != "kept by the hold" {
		f.Errorf("the held room after the erasure: %+v", h)
	}
	if _, err := f.s.User(f.ctx, alice); !errors.Is(err, chat.ErrNotFound) {
		f.Errorf("User after the erasure: %v, want not found", err)
	}
	if in, _ := f.s.IsMember(f.ctx, r.ID, alice); in {
		f.Errorf("still a member of %s after the erasure", r.ID)
	}
	if got, err := f.s.Report(f.ctx, rep.ID); err != nil || got.Reason != "" {
		f.Errorf("the report alice filed = %+v, %v; want no reason", got, err)
	}
	if p := f.pinSeqs(r.ID); len(p) != 0 {
		f.Errorf("pins after the erasure: %v", p)
	}
	if pend, err := f.s.PendingMessages(f.ctx, r.ID); err != nil || len(pend) != 0 {
		f.Errorf("held messages after the erasure: %+v, %v", pend, err)
	}
}

// testEraseHeldUser: a hold on the user keeps everything, and says so.
func testEraseHeldUser(f *fixture) {
	alice := f.user("alice")
	r := f.room("Room", alice)
	f.send(msg(r.ID, alice, f.id("m"), "kept"))
	f.setHold(chat.HoldUser, alice)
	e, err := f.s.EraseUser(f.ctx, alice)
	if err != nil {
		f.Fatal(err)
	}
	f.wantKept(e, "messages", 1, "a legal hold on the user")
	if h := f.history(r.ID, 0, 0, 10); len(h) != 1 || h[0].Body != "kept" {
		f.Errorf("a held user's message after the erasure: %+v", h)
	}
	if _, err := f.s.User(f.ctx, alice); err != nil {
		f.Errorf("a held user's profile after the erasure: %v", err)
	}
	if _, err := f.s.EraseUser(f.ctx, "a\x00b"); chat.ErrorCode(err) != chat.CodeInvalidField {
		f.Errorf("EraseUser of an unstorable id: %v", err)
	}
}

func (f *fixture) wantKept(e chat.Erasure, what string, n int, reason string) {
	f.Helper()
	for _, k := range e.Kept {
		if k.What == what {
			if k.Count != n || k.Reason == "" || reason != "" && k.Reason != reason {
				f.Errorf("kept %s = %+v, want %d (%q)", what, k, n, reason)
			}
			return
		}
	}
	f.Errorf("kept %s missing from %+v", what, e.Kept)
}

// RunEscalationRetention checks, on a store and its escalation store,
// that PurgeEscalations removes resolved escalations closed before the
// horizon only, and that an erasure removes the resolved escalations
// about the user and keeps the open one, saying why.
func RunEscalationRetention(t *testing.T, s chat.Store, es escalation.Store) {
	f := newFixture(t, s)
	subject := f.user("subject")
	mk := func(name string, status escalation.Status, resolved time.Time) string {
		e := &escalation.Escalation{ID: f.id(name), Subject: subject, Source: escalation.SourceConcern,
			Status: status, CreatedAt: ancient, ResolvedAt: resolved,
			Timeline: []escalation.Step{{At: ancient, Kind: escalation.StepCreated, Actor: escalation.SystemActor}}}
		if _, _, err := es.Create(f.ctx, e); err != nil {
			f.Fatalf("Create(%s): %v", name, err)
		}
		return e.ID
	}
	old := mk("old", escalation.StatusResolved, ancient.Add(time.Hour))
	recent := mk("recent", escalation.StatusResolved, time.Now())
	open := mk("open", escalation.StatusOpen, time.Time{})
	acked := mk("acked", escalation.StatusAcknowledged, time.Time{})
	for {
		n, err := s.PurgeEscalations(f.ctx, ancient.AddDate(5, 0, 0), 1)
		if err != nil {
			f.Fatalf("PurgeEscalations: %v", err)
		}
		if n == 0 {
			break
		}
	}
	exists := func(id string) bool {
		_, err := es.Get(f.ctx, id)
		if err != nil && !errors.Is(err, escalation.ErrNotFound) {
			f.Fatal(err)
		}
		return err == nil
	}
	if exists(old) || !exists(recent) || !exists(open) || !exists(acked) {
		f.Errorf("after the purge: old %t (want gone), recent %t, open %t, acknowledged %t (want kept)",
			exists(old), exists(recent), exists(open), exists(acked))
	}
	e, err := s.EraseUser(f.ctx, subject)
	if err != nil {
		f.Fatal(err)
	}
	if e.Erased["escalations"] != 1 || exists(recent) || !exists(open) {
		f.Errorf("erasure: %d escalations erased (want the resolved one), open kept %t", e.Erased["escalations"], exists(open))
	}
	f.wantKept(e, "escalations", 2, "")
}
