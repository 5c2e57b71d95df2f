package storetest

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kindred-health/kindred/chat"
)

func testAppendSeq(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	r := f.room("Room", alice, bob, carol)
	other := f.room("Other", alice)

	if err := f.s.Append(f.ctx, nil); err != nil {
		f.Errorf("Append(empty batch): %v", err)
	}

	var got []int64
	for i := range 5 {
		e := f.send(msg(r.ID, alice, f.id(fmt.Sprint("single", i)), "hello"))
		if e.Time.IsZero() || !near(e.Time) {
			f.Errorf("Append filled Time = %v", e.Time)
		}
		got = append(got, e.Seq)
	}
	batch := f.append(
		msg(r.ID, bob, f.id("b1"), "one"),
		msg(r.ID, carol, f.id("b2"), "two"),
		msg(other.ID, alice, f.id("b3"), "elsewhere"),
		msg(r.ID, alice, f.id("b4"), "three"),
		msg(other.ID, alice, f.id("b5"), "elsewhere too"),
	)
	for _, it := range batch {
		if it.Err != nil || it.Duplicate {
			f.Fatalf("batch item refused: %+v", it)
		}
		if it.Event.Conv == r.ID {
			got = append(got, it.Event.Seq)
		}
	}
	if want := span(1, 8); !slices.Equal(got, want) {
		f.Errorf("Seqs = %v, want %v", got, want)
	}
	if s := batch[2].Event.Seq; s != 1 {
		f.Errorf("first message of another conversation got Seq %d, want 1", s)
	}
	if s := batch[4].Event.Seq; s != 2 {
		f.Errorf("second message of another conversation got Seq %d, want 2", s)
	}
	if n := f.lastSeq(r.ID); n != 8 {
		f.Errorf("LastSeq = %d, want 8", n)
	}
	if n := f.lastSeq(other.ID); n != 2 {
		f.Errorf("other LastSeq = %d, want 2", n)
	}
	if evs := f.eventsAfter(r.ID, 0, 100); !slices.Equal(seqs(evs), span(1, 8)) {
		f.Errorf("EventsAfter seqs = %v", seqs(evs))
	}
}

func testAppendTime(f *fixture) {
	alice := f.user("alice")
	r := f.room("Room", alice)
	// Millisecond precision so that any store can keep it exactly.
	at := time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.FixedZone("X", 3600))
	e := f.send(chat.AppendItem{Event: chat.Event{Conv: r.ID, Kind: chat.EventMessage, Sender: alice,
		ClientID: f.id("c"), Body: "dated", Time: at}})
	if !e.Time.Equal(at) {
		f.Errorf("given Time became %v, want %v", e.Time, at)
	}
	auto := f.send(msg(r.ID, alice, f.id("d"), "now"))
	h := f.history(r.ID, 0, 0, 10)
	if len(h) != 2 {
		f.Fatalf("History has %d messages, want 2", len(h))
	}
	if !h[0].Time.Equal(at) {
		f.Errorf("History Time = %v, want %v", h[0].Time, at)
	}
	if !h[1].Time.Equal(auto.Time) {
		f.Errorf("History Time = %v, Append reported %v", h[1].Time, auto.Time)
	}
}

func testAppendIdempotent(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Room", alice, bob)
	other := f.room("Other", alice)

	first := f.send(msg(r.ID, alice, f.id("c1"), "original"))
	again := f.append(msg(r.ID, alice, f.id("c1"), "resent with other text"))[0]
	if again.Err != nil || !again.Duplicate {
		f.Fatalf("resend = %+v, want Duplicate", again)
	}
	if again.Event.Seq != first.Seq || again.Event.Body != "original" || !again.Event.Time.Equal(first.Time) {
		f.Errorf("duplicate Event = %+v, want the original %+v", again.Event, first)
	}
	if n := f.lastSeq(r.ID); n != 1 {
		f.Errorf("LastSeq = %d after a duplicate, want 1", n)
	}

	// Within one batch: the second copy is the duplicate of the first.
	b := f.append(
		msg(r.ID, alice, f.id("c2"), "two"),
		msg(r.ID, alice, f.id("c2"), "two again"),
		msg(r.ID, alice, f.id("c3"), "three"),
		msg(r.ID, alice, f.id("c1"), "one again"),
	)
	if b[0].Duplicate || b[0].Event.Seq != 2 {
		f.Errorf("batch[0] = %+v, want new Seq 2", b[0])
	}
	if !b[1].Duplicate || b[1].Event.Seq != 2 || b[1].Event.Body != "two" {
		f.Errorf("batch[1] = %+v, want Duplicate of Seq 2", b[1])
	}
	if b[2].Duplicate || b[2].Event.Seq != 3 {
		f.Errorf("batch[2] = %+v, want new Seq 3 (no gap after a duplicate)", b[2])
	}
	if !b[3].Duplicate || b[3].Event.Seq != 1 {
		f.Errorf("batch[3] = %+v, want Duplicate of Seq 1", b[3])
	}
	if n := f.lastSeq(r.ID); n != 3 {
		f.Errorf("LastSeq = %d, want 3", n)
	}
	h := f.history(r.ID, 0, 0, 100)
	if !slices.Equal(seqs(h), []int64{1, 2, 3}) {
		f.Errorf("History seqs = %v, want [1 2 3]", seqs(h))
	}

	// The key is (conversation, sender, client id): the same client id
	// from someone else, or in another conversation, is a new message.
	if e := f.send(msg(r.ID, bob, f.id("c1"), "bob's own")); e.Seq != 4 {
		f.Errorf("same client id, other sender: Seq %d, want 4", e.Seq)
	}
	if e := f.send(msg(other.ID, alice, f.id("c1"), "other room")); e.Seq != 1 {
		f.Errorf("same client id, other conversation: Seq %d, want 1", e.Seq)
	}

	// A duplicate reports the message's current state after an edit.
	f.send(edit(r.ID, alice, 1, "edited"))
	d := f.append(msg(r.ID, alice, f.id("c1"), "x"))[0]
	if !d.Duplicate || d.Event.Seq != 1 {
		f.Errorf("resend after edit = %+v, want Duplicate of Seq 1", d)
	}
}

func testAppendNotMember(f *fixture) {
	alice, bob, mallory := f.user("alice"), f.user("bob"), f.user("mallory")
	r := f.room("Room", alice, bob)
	b := f.append(
		msg(r.ID, alice, f.id("1"), "one"),
		msg(r.ID, mallory, f.id("2"), "let me in"),
		msg(r.ID, bob, f.id("3"), "two"),
		msg(f.id("no-such-room"), alice, f.id("4"), "nowhere"),
		msg(r.ID, alice, f.id("5"), "three"),
	)
	if !errors.Is(b[1].Err, chat.ErrNotMember) {
		f.Errorf("non-member item Err = %v, want ErrNotMember", b[1].Err)
	}
	if chat.ErrorCode(b[1].Err) != chat.CodeNotMember {
		f.Errorf("ErrorCode = %s", chat.ErrorCode(b[1].Err))
	}
	if err := b[3].Err; !errors.Is(err, chat.ErrNotMember) && !errors.Is(err, chat.ErrNotFound) {
		f.Errorf("unknown conversation item Err = %v, want ErrNotMember or ErrNotFound", err)
	}
	var got []int64
	for _, i := range []int{0, 2, 4} {
		if b[i].Err != nil {
			f.Errorf("item %d refused: %v", i, b[i].Err)
		}
		got = append(got, b[i].Event.Seq)
	}
	if !slices.Equal(got, []int64{1, 2, 3}) {
		f.Errorf("committed items got Seqs %v, want [1 2 3] (refusals use no number)", got)
	}
	if b[1].Event.Seq != 0 || b[3].Event.Seq != 0 {
		f.Error("refused items got a Seq")
	}
	evs := f.eventsAfter(r.ID, 0, 100)
	if len(evs) != 3 {
		f.Fatalf("stored %d events, want 3", len(evs))
	}
	for _, e := range evs {
		if e.Sender == mallory {
			f.Error("a non-member's message was stored")
		}
	}
	// Members may also be refused in DMs they are not part of.
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatal(err)
	}
	f.refused(msg(dm.ID, mallory, f.id("6"), "psst"), chat.ErrNotMember)
}

func testEditDelete(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Room", alice, bob)
	m1 := f.send(msg(r.ID, alice, f.id("1"), "hello"))
	m2 := f.send(msg(r.ID, bob, f.id("2"), "hi"))

	ed := f.send(edit(r.ID, alice, m1.Seq, "hello, all"))
	if ed.Seq != 3 || ed.Kind != chat.EventEdit || ed.Target != m1.Seq {
		f.Errorf("edit = %+v, want Seq 3 targeting %d", ed, m1.Seq)
	}
	h := f.history(r.ID, 0, 0, 10)
	if !slices.Equal(seqs(h), []int64{m1.Seq, m2.Seq}) {
		f.Fatalf("History seqs = %v, want only the messages", seqs(h))
	}
	if h[0].Body != "hello, all" || h[0].EditedAt == nil || h[0].Deleted {
		f.Errorf("edited message in History = %+v", h[0])
	} else if !near(*h[0].EditedAt) {
		f.Errorf("EditedAt = %v", *h[0].EditedAt)
	}
	if h[1].Body != "hi" || h[1].EditedAt != nil {
		f.Errorf("untouched message in History = %+v", h[1])
	}
	evs := f.eventsAfter(r.ID, m2.Seq, 10)
	if len(evs) != 1 || evs[0].Kind != chat.EventEdit || evs[0].Target != m1.Seq ||
		evs[0].Body != "hello, all" || evs[0].Sender != alice {
		f.Errorf("EventsAfter the messages = %+v, want the edit", evs)
	}

	dl := f.send(del(r.ID, alice, m1.Seq))
	if dl.Seq != 4 || dl.Kind != chat.EventDelete || dl.Target != m1.Seq {
		f.Errorf("delete = %+v, want Seq 4 targeting %d", dl, m1.Seq)
	}
	h = f.history(r.ID, 0, 0, 10)
	if len(h) != 2 || !h[0].Deleted || h[0].Body != "" || h[0].Seq != m1.Seq {
		f.Errorf("History after delete = %+v, want a tombstone with empty Body", h)
	}

	evs = f.eventsAfter(r.ID, 0, 10)
	if len(evs) != 4 {
		f.Fatalf("EventsAfter = %d events, want 4", len(evs))
	}
	kinds := []chat.EventKind{chat.EventMessage, chat.EventMessage, chat.EventEdit, chat.EventDelete}
	for i, e := range evs {
		if e.Seq != int64(i+1) || e.Kind != kinds[i] || e.Conv != r.ID {
			f.Errorf("EventsAfter[%d] = %+v, want Seq %d kind %s", i, e, i+1, kinds[i])
		}
	}
	if evs[3].Target != m1.Seq || evs[3].Body != "" || evs[3].Sender != alice {
		f.Errorf("delete event = %+v", evs[3])
	}
	if evs[0].ClientID != f.id("1") {
		f.Errorf("message ClientID = %q, want %q", evs[0].ClientID, f.id("1"))
	}
	if n := f.lastSeq(r.ID); n != 4 {
		f.Errorf("LastSeq = %d, want 4", n)
	}
}

func testEditDeleteRefused(f *fixture) {
	alice, bob, mallory := f.user("alice"), f.user("bob"), f.user("mallory")
	r := f.room("Room", alice, bob)
	other := f.room("Other", alice)
	for i := range 6 {
		f.send(msg(other.ID, alice, f.id(fmt.Sprint("o", i)), "filler"))
	}
	m1 := f.send(msg(r.ID, alice, f.id("1"), "mine"))
	ed := f.send(edit(r.ID, alice, m1.Seq, "mine, edited"))

	// Someone else's message.
	f.refused(edit(r.ID, bob, m1.Seq, "hijacked"), chat.ErrNotAuthor)
	f.refused(del(r.ID, bob, m1.Seq), chat.ErrNotAuthor)
	// Not a member at all.
	f.refused(edit(r.ID, mallory, m1.Seq, "x"), chat.ErrNotMember)
	// Targets that are not messages of this conversation.
	f.refused(edit(r.ID, alice, 999, "x"), chat.ErrNotFound)
	f.refused(del(r.ID, alice, 999), chat.ErrNotFound)
	f.refused(edit(r.ID, alice, 0, "x"), chat.ErrNotFound)
	f.refused(edit(r.ID, alice, ed.Seq, "editing an edit"), chat.ErrNotFound)
	f.refused(edit(r.ID, alice, 5, "seq 5 exists only in the other room"), chat.ErrNotFound)
	if got := f.history(r.ID, 0, 0, 10); len(got) != 1 || got[0].Body != "mine, edited" {
		f.Errorf("History after refusals = %+v", got)
	}

	f.send(del(r.ID, alice, m1.Seq))
	f.refused(edit(r.ID, alice, m1.Seq, "too late"), chat.ErrDeleted)
	f.refused(del(r.ID, alice, m1.Seq), chat.ErrDeleted)
	if chat.ErrorCode(chat.ErrDeleted) != chat.CodeConflict {
		f.Error("ErrDeleted lost its code")
	}

	// Refusals inside a batch leave the rest committed and gap-free.
	m2 := f.send(msg(r.ID, bob, f.id("2"), "bob's"))
	b := f.append(
		edit(r.ID, bob, m2.Seq, "bob's, edited"),
		edit(r.ID, alice, m2.Seq, "not yours"),
		del(r.ID, alice, m1.Seq),
		msg(r.ID, alice, f.id("3"), "after"),
	)
	if b[0].Err != nil || b[3].Err != nil || b[0].Event.Seq != m2.Seq+1 || b[3].Event.Seq != m2.Seq+2 {
		f.Errorf("committed items = %+v / %+v, want Seqs %d and %d", b[0], b[3], m2.Seq+1, m2.Seq+2)
	}
	if !errors.Is(b[1].Err, chat.ErrNotAuthor) || !errors.Is(b[2].Err, chat.ErrDeleted) {
		f.Errorf("refusals = %v, %v; want ErrNotAuthor, ErrDeleted", b[1].Err, b[2].Err)
	}
	if n := f.lastSeq(r.ID); n != m2.Seq+2 {
		f.Errorf("LastSeq = %d, want %d", n, m2.Seq+2)
	}
}

func testEditInSameBatch(f *fixture) {
	alice := f.user("alice")
	r := f.room("Room", alice)
	// The message gets Seq 1; the edit and delete in the same batch may
	// already target it.
	b := f.append(
		msg(r.ID, alice, f.id("1"), "draft"),
		edit(r.ID, alice, 1, "final"),
		msg(r.ID, alice, f.id("2"), "oops"),
		del(r.ID, alice, 3),
	)
	for i, it := range b {
		if it.Err != nil || it.Event.Seq != int64(i+1) {
			f.Errorf("item %d = %+v, want Seq %d", i, it, i+1)
		}
	}
	h := f.history(r.ID, 0, 0, 10)
	if len(h) != 2 || h[0].Body != "final" || h[0].EditedAt == nil || !h[1].Deleted {
		f.Errorf("History = %+v", h)
	}
}
