package storetest

import (
	"errors"
	"slices"

	"github.com/kindred-health/kindred/chat"
)

func hide(conv, by string, target int64) chat.AppendItem {
	return chat.AppendItem{Event: chat.Event{Conv: conv, Kind: chat.EventHide, Sender: by, Target: target}}
}

// testHide: a moderator's hide erases the message (and its edits) like a
// delete, marks it hidden, carries no sender, and is one event in the log.
func testHide(f *fixture) {
	alice, bob, staff := f.user("alice"), f.user("bob"), f.user("staff")
	r := f.room("Room", alice, bob)
	m1 := f.send(msg(r.ID, bob, f.id("1"), "my secret"))
	ed := f.send(edit(r.ID, bob, m1.Seq, "my secret, edited"))
	m2 := f.send(msg(r.ID, alice, f.id("2"), "stays"))

	// staff is not a member: a hide is not checked against membership.
	h := f.send(hide(r.ID, staff, m1.Seq))
	if h.Seq != m2.Seq+1 || h.Kind != chat.EventHide || h.Target != m1.Seq || h.Sender != "" || h.Body != "" {
		f.Errorf("hide = %+v, want Seq %d targeting %d without sender or body", h, m2.Seq+1, m1.Seq)
	}
	hist := f.history(r.ID, 0, 0, 10)
	if !slices.Equal(seqs(hist), []int64{m1.Seq, m2.Seq}) {
		f.Fatalf("History seqs = %v", seqs(hist))
	}
	if got := hist[0]; !got.Deleted || !got.Hidden || got.Body != "" || got.Sender != bob {
		f.Errorf("hidden message in History = %+v, want a hidden tombstone by bob", got)
	}
	if hist[1].Hidden || hist[1].Body != "stays" {
		f.Errorf("other message in History = %+v", hist[1])
	}
	evs := f.eventsAfter(r.ID, 0, 10)
	if len(evs) != 4 {
		f.Fatalf("EventsAfter = %+v, want 4 events", evs)
	}
	if e := evs[0]; !e.Hidden || !e.Deleted || e.Body != "" {
		f.Errorf("message in EventsAfter = %+v, want hidden without body", e)
	}
	if e := evs[1]; e.Seq != ed.Seq || e.Body != "" {
		f.Errorf("edit in EventsAfter = %+v, want its text blanked", e)
	}
	if e := evs[3]; e.Kind != chat.EventHide || e.Target != m1.Seq || e.Sender != "" || e.Name != "" || e.Body != "" {
		f.Errorf("hide in EventsAfter = %+v", e)
	}

	// Again: nothing written, the first hide's seq reported.
	again := f.append(hide(r.ID, alice, m1.Seq))[0]
	if again.Err != nil || !again.Duplicate || again.Event.Seq != h.Seq {
		f.Errorf("second hide = %+v, want a duplicate of seq %d", again, h.Seq)
	}
	if n := f.lastSeq(r.ID); n != h.Seq {
		f.Errorf("LastSeq after a second hide = %d, want %d", n, h.Seq)
	}
	// The author can no longer change it.
	f.refused(edit(r.ID, bob, m1.Seq, "back"), chat.ErrDeleted)
	f.refused(del(r.ID, bob, m1.Seq), chat.ErrDeleted)
}

func testHideRefused(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Room", alice, bob)
	m1 := f.send(msg(r.ID, bob, f.id("1"), "deleted by bob"))
	ed := f.send(edit(r.ID, bob, m1.Seq, "edited"))
	f.send(del(r.ID, bob, m1.Seq))

	f.refused(hide(r.ID, alice, m1.Seq), chat.ErrDeleted)
	f.refused(hide(r.ID, alice, ed.Seq), chat.ErrNotFound)
	f.refused(hide(r.ID, alice, 999), chat.ErrNotFound)
	f.refused(hide(r.ID, alice, 0), chat.ErrNotFound)
	it := f.append(hide(f.id("no_such_room"), alice, 1))[0]
	if !errors.Is(it.Err, chat.ErrNotFound) {
		f.Errorf("hide in an unknown room: Err = %v, want ErrNotFound", it.Err)
	}
	if hist := f.history(r.ID, 0, 0, 10); len(hist) != 1 || hist[0].Hidden {
		f.Errorf("History after refused hides = %+v, want the deleted message, not hidden", hist)
	}
}

// testHideInSameBatch: a hide of a message sent earlier in the batch, then
// a second hide of it, which is a duplicate of the first.
func testHideInSameBatch(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Room", alice, bob)
	b := f.append(
		msg(r.ID, bob, f.id("1"), "gone at once"),
		edit(r.ID, bob, 1, "gone at once, edited"),
		hide(r.ID, alice, 1),
		hide(r.ID, alice, 1),
		msg(r.ID, bob, f.id("2"), "after"),
	)
	for i, want := range []int64{1, 2, 3, 3, 4} {
		if b[i].Err != nil || b[i].Event.Seq != want {
			f.Errorf("item %d = %+v, want Seq %d", i, b[i], want)
		}
	}
	if !b[3].Duplicate || b[2].Duplicate {
		f.Errorf("duplicates = %t, %t; want only the second hide", b[2].Duplicate, b[3].Duplicate)
	}
	evs := f.eventsAfter(r.ID, 0, 10)
	if len(evs) != 4 || !evs[0].Hidden || evs[0].Body != "" || evs[1].Body != "" || evs[2].Kind != chat.EventHide {
		f.Errorf("EventsAfter = %+v", evs)
	}
}
