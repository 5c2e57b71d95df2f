package storetest

import (
	"slices"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// Retention (migration 0020). The store may be shared with other tests:
// the purges here use a room's own retention, or a deployment retention
// of 50 years against messages dated 1971, so that they remove nothing
// another test wrote.

const fiftyYears = 50 * 365 * 24 * time.Hour

var ancient = time.Date(1971, 2, 3, 4, 5, 6, 0, time.UTC)

func dated(it chat.AppendItem, at time.Time) chat.AppendItem {
	it.Event.Time = at
	return it
}

// purgeAll runs purge rounds of a few entries each until the store says
// there is no more, and returns the conversations something went from.
func (f *fixture) purgeAll(global time.Duration, now time.Time) []string {
	f.Helper()
	var convs []string
	req := chat.PurgeRequest{Global: global, Now: now, Limit: 3}
	for round := 0; ; round++ {
		if round > 100000 {
			f.Fatalf("the purge does not end")
		}
		res, err := f.s.PurgeMessages(f.ctx, req)
		if err != nil {
			f.Fatalf("PurgeMessages: %v", err)
		}
		convs = append(convs, res.Convs...)
		if res.Events > req.Limit {
			f.Fatalf("a round of limit %d removed %d entries", req.Limit, res.Events)
		}
		if !res.More {
			return convs
		}
		req.After = res.Next
	}
}

func (f *fixture) setRetain(conv string, days int) {
	f.Helper()
	if err := f.s.SetRoomSettings(f.ctx, conv, chat.RoomSettings{RetainDays: &days}); err != nil {
		f.Fatalf("SetRoomSettings(retain_days %d): %v", days, err)
	}
}

// testPurgeRoom: a room keeping one day loses what is older, from the
// start of its log, with the pins and support notes of the messages
// removed; later edits of them keep their place without text; PurgedSeq
// and MemberSince say where reading starts; sequence numbers go on.
func testPurgeRoom(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Kept a day", alice, bob)
	f.setRetain(r.ID, 1)
	if c := f.conversation(r.ID); c.RetainDays != 1 {
		f.Fatalf("RetainDays = %d, want 1", c.RetainDays)
	}
	now := time.Now()
	old := now.Add(-72 * time.Hour)
	m1 := f.send(dated(msg(r.ID, alice, f.id("m1"), "old one"), old))
	f.send(dated(msg(r.ID, bob, f.id("m2"), "old two"), old))
	f.send(dated(edit(r.ID, alice, m1.Seq, "old one, edited"), old.Add(time.Hour)))
	m3 := f.send(dated(msg(r.ID, alice, f.id("m3"), "old three"), old.Add(2*time.Hour)))
	f.send(dated(msg(r.ID, bob, f.id("m4"), "recent"), now.Add(-time.Hour)))
	late := f.send(edit(r.ID, alice, m3.Seq, "old three, edited today"))
	f.pin(r.ID, m3.Seq, alice, 10)
	if _, _, err := f.s.AddSupportNote(f.ctx, chat.SupportNote{User: alice, Conv: r.ID, Seq: m1.Seq, State: chat.SupportTold}); err != nil {
		f.Fatal(err)
	}

	if convs := f.purgeAll(0, now); !slices.Contains(convs, r.ID) {
		f.Fatalf("the purge did not touch %s (%v)", r.ID, convs)
	}
	if got := seqs(f.history(r.ID, 0, 0, 50)); !slices.Equal(got, []int64{5}) {
		f.Errorf("History after the purge = %v, want [5]", got)
	}
	evs := f.eventsAfter(r.ID, 0, 50)
	if got := seqs(evs); !slices.Equal(got, []int64{5, 6}) {
		f.Fatalf("EventsAfter(0) after the purge = %v, want [5 6]", got)
	}
	if evs[1].Seq != late.Seq || evs[1].Body != "" {
		f.Errorf("the later edit of a purged message = %+v, want it kept without text", evs[1])
	}
	c := f.conversation(r.ID)
	if c.PurgedSeq != 4 || c.LastSeq != 6 {
		f.Errorf("PurgedSeq, LastSeq = %d, %d; want 4, 6", c.PurgedSeq, c.LastSeq)
	}
	f.wantSince(r.ID, bob, 4)
	f.wantSince(r.ID, f.id("stranger"), 4)
	if p := f.pinSeqs(r.ID); len(p) != 0 {
		f.Errorf("pins of purged messages remain: %v", p)
	}
	if notes, err := f.s.SupportNotes(f.ctx, alice); err != nil || len(notes) != 0 {
		f.Errorf("support notes of purged messages = %+v, %v; want none", notes, err)
	}
	if next := f.send(msg(r.ID, alice, f.id("m7"), "new")); next.Seq != 7 {
		f.Errorf("next message got seq %d, want 7", next.Seq)
	}
	// Again: nothing more is old enough.
	if convs := f.purgeAll(0, now); slices.Contains(convs, r.ID) {
		f.Errorf("a second purge removed more from %s", r.ID)
	}
	if got := seqs(f.eventsAfter(r.ID, 0, 50)); !slices.Equal(got, []int64{5, 6, 7}) {
		f.Errorf("EventsAfter after a second purge = %v", got)
	}
}

// testPurgeGlobal: the deployment's retention applies to DMs and to rooms
// without their own; a room may shorten it but not lengthen it.
func testPurgeGlobal(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatal(err)
	}
	long := f.room("Wants a century", alice)
	f.setRetain(long.ID, chat.MaxRetainDays)
	f.send(dated(msg(dm.ID, alice, f.id("d1"), "ancient dm"), ancient))
	f.send(dated(msg(long.ID, alice, f.id("l1"), "ancient room"), ancient))
	f.send(msg(dm.ID, bob, f.id("d2"), "today"))
	f.send(msg(long.ID, alice, f.id("l2"), "today"))
	f.purgeAll(fiftyYears, time.Now())
	for _, conv := range []string{dm.ID, long.ID} {
		if got := seqs(f.eventsAfter(conv, 0, 10)); !slices.Equal(got, []int64{2}) {
			f.Errorf("%s after a 50-year purge: %v, want [2]", conv, got)
		}
		if c := f.conversation(conv); c.PurgedSeq != 1 {
			f.Errorf("%s PurgedSeq = %d, want 1", conv, c.PurgedSeq)
		}
	}
	if h, ok := chat.Horizon(time.Time{}, 0, 0); ok {
		f.Errorf("no retention anywhere gave a horizon %v", h)
	}
}

// testPurgeHolds: a room under a hold keeps everything; a user under a
// hold keeps their messages, out of every reader's reach below PurgedSeq
// but still in their export.
func testPurgeHolds(f *fixture) {
	alice, carol, dave := f.user("alice"), f.user("carol"), f.user("dave")
	held := f.room("Held room", alice)
	mixed := f.room("Mixed", carol, dave)
	old := time.Now().Add(-72 * time.Hour)
	for _, r := range []string{held.ID, mixed.ID} {
		f.setRetain(r, 1)
	}
	f.send(dated(msg(held.ID, alice, f.id("h1"), "held"), old))
	c1 := f.send(dated(msg(mixed.ID, carol, f.id("c1"), "carol's"), old))
	f.send(dated(msg(mixed.ID, dave, f.id("d1"), "dave's"), old))
	f.send(dated(edit(mixed.ID, carol, c1.Seq, "carol's, edited"), old))
	f.setHold(chat.HoldRoom, held.ID)
	f.setHold(chat.HoldUser, carol)

	f.purgeAll(0, time.Now())
	if got := seqs(f.eventsAfter(held.ID, 0, 10)); !slices.Equal(got, []int64{1}) {
		f.Errorf("held room after the purge: %v, want [1]", got)
	}
	if got := seqs(f.eventsAfter(mixed.ID, 0, 10)); !slices.Equal(got, []int64{1, 3}) {
		f.Errorf("room with a held user after the purge: %v, want [1 3] (carol's message and edit)", got)
	}
	if c := f.conversation(mixed.ID); c.PurgedSeq != 3 {
		f.Errorf("PurgedSeq = %d, want 3: nobody reads what the hold keeps", c.PurgedSeq)
	}
	exp, err := f.s.ExportUser(f.ctx, carol)
	if err != nil || len(exp.Messages) != 1 || exp.Messages[0].Body != "carol's, edited" {
		f.Errorf("carol's export after the purge = %+v, %v; want her held message", exp.Messages, err)
	}
	holds, err := f.s.Holds(f.ctx, carol)
	if err != nil || len(holds) != 1 || holds[0].Kind != chat.HoldUser || holds[0].By != alice {
		f.Errorf("Holds(carol) = %+v, %v", holds, err)
	}
	for _, h := range []struct {
		kind    chat.HoldKind
		subject string
	}{{chat.HoldRoom, held.ID}, {chat.HoldUser, carol}} {
		if ok, err := f.s.ReleaseHold(f.ctx, h.kind, h.subject); err != nil || !ok {
			f.Errorf("ReleaseHold(%s %s) = %t, %v", h.kind, h.subject, ok, err)
		}
		if ok, err := f.s.ReleaseHold(f.ctx, h.kind, h.subject); err != nil || ok {
			f.Errorf("second ReleaseHold(%s %s) = %t, %v; want false", h.kind, h.subject, ok, err)
		}
	}
	f.purgeAll(0, time.Now())
	if got := seqs(f.eventsAfter(held.ID, 0, 10)); len(got) != 0 {
		f.Errorf("room released from its hold after the purge: %v, want nothing", got)
	}
}

func (f *fixture) setHold(kind chat.HoldKind, subject string) chat.Hold {
	f.Helper()
	h, err := f.s.SetHold(f.ctx, chat.Hold{Kind: kind, Subject: subject, Reason: "litigation 42", By: f.id("alice")})
	if err != nil || h.Kind != kind || h.Subject != subject || h.At.IsZero() {
		f.Fatalf("SetHold(%s %s) = %+v, %v", kind, subject, h, err)
	}
	return h
}

// testHoldsRefused: holds of unknown kinds, without subject or author, or
// with text a column cannot hold are refused; setting one again keeps its
// author and time and updates the reason.
func testHoldsRefused(f *fixture) {
	u := f.id("u")
	for _, h := range []chat.Hold{
		{Kind: "team", Subject: u, By: u},
		{Kind: chat.HoldUser, By: u},
		{Kind: chat.HoldUser, Subject: u},
		{Kind: chat.HoldUser, Subject: "a\x00b", By: u},
		{Kind: chat.HoldUser, Subject: u, By: u, Reason: string(make([]byte, chat.MaxHoldReasonBytes+1))},
	} {
		if _, err := f.s.SetHold(f.ctx, h); chat.ErrorCode(err) != chat.CodeInvalidField {
			f.Errorf("SetHold(%+v) = %v; want invalid_field", h, err)
		}
	}
	first := f.setHold(chat.HoldUser, u)
	again, err := f.s.SetHold(f.ctx, chat.Hold{Kind: chat.HoldUser, Subject: u, Reason: "new reason", By: f.id("other")})
	if err != nil || again.Reason != "new reason" || again.By != first.By || !again.At.Equal(first.At) {
		f.Errorf("SetHold again = %+v, %v; want the first's author and time with the new reason", again, err)
	}
}

// testJobLease: one owner at a time; the holder renews; another takes a
// lapsed lease; a release lets anyone take it.
func testJobLease(f *fixture) {
	job, a, b := f.id("job"), f.id("node-a"), f.id("node-b")
	now := time.Now()
	lease := func(owner string, until time.Time, want bool) {
		f.Helper()
		if got, err := f.s.TryJobLease(f.ctx, job, owner, until); err != nil || got != want {
			f.Errorf("TryJobLease(%s) = %t, %v; want %t", owner, got, err, want)
		}
	}
	lease(a, now.Add(time.Minute), true)
	lease(b, now.Add(time.Minute), false)
	lease(a, now.Add(2*time.Minute), true)
	if err := f.s.ReleaseJobLease(f.ctx, job, b); err != nil { // not b's: nothing happens
		f.Fatal(err)
	}
	lease(b, now.Add(time.Minute), false)
	if err := f.s.ReleaseJobLease(f.ctx, job, a); err != nil {
		f.Fatal(err)
	}
	lease(b, now.Add(-time.Second), true) // b holds a lease that has lapsed
	lease(a, now.Add(time.Minute), true)
}
