package storetest

import (
	"errors"
	"slices"

	"github.com/kindred-health/kindred/chat"
)

// pinSeqs returns the seqs of conv's pins, in the order the store lists
// them.
func (f *fixture) pinSeqs(conv string) []int64 {
	f.Helper()
	pins, err := f.s.Pins(f.ctx, conv)
	if err != nil {
		f.Fatalf("Pins(%s): %v", conv, err)
	}
	out := make([]int64, len(pins))
	for i, p := range pins {
		out[i] = p.Seq
	}
	return out
}

func (f *fixture) pin(conv string, seq int64, by string, limit int) bool {
	f.Helper()
	ok, err := f.s.Pin(f.ctx, conv, seq, by, limit)
	if err != nil {
		f.Fatalf("Pin(%s, %d): %v", conv, seq, err)
	}
	return ok
}

func (f *fixture) pinRefused(conv string, seq int64, limit int, want chat.Code) {
	f.Helper()
	if _, err := f.s.Pin(f.ctx, conv, seq, f.id("alice"), limit); chat.ErrorCode(err) != want {
		f.Errorf("Pin(%s, %d) = %v, want %s", conv, seq, err, want)
	}
}

// testPins: pinning, listing newest first, unpinning, the limit, and what
// cannot be pinned.
func testPins(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Room", alice, bob)
	m1 := f.send(msg(r.ID, bob, f.id("1"), "one"))
	m2 := f.send(msg(r.ID, bob, f.id("2"), "two"))
	m3 := f.send(msg(r.ID, alice, f.id("3"), "three"))
	ed := f.send(edit(r.ID, alice, m3.Seq, "three, edited"))

	if !f.pin(r.ID, m1.Seq, alice, 2) || f.pin(r.ID, m1.Seq, alice, 2) {
		f.Error("Pin reports no change the first time, or a change the second")
	}
	f.pin(r.ID, m2.Seq, bob, 2)
	pins, err := f.s.Pins(f.ctx, r.ID)
	if err != nil || len(pins) != 2 {
		f.Fatalf("Pins = %+v, %v", pins, err)
	}
	if pins[0].Seq != m2.Seq || pins[0].By != bob || !near(pins[0].At) || pins[1].Seq != m1.Seq || pins[1].By != alice {
		f.Errorf("Pins = %+v, want m2 by bob then m1 by alice", pins)
	}
	f.pinRefused(r.ID, m3.Seq, 2, chat.CodeConflict) // the limit
	f.pinRefused(r.ID, ed.Seq, 50, chat.CodeNotFound)
	f.pinRefused(r.ID, 999, 50, chat.CodeNotFound)
	f.pinRefused(f.id("no_such_room"), 1, 50, chat.CodeNotFound)
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatal(err)
	}
	d := f.send(msg(dm.ID, alice, f.id("d"), "private"))
	f.pinRefused(dm.ID, d.Seq, 50, chat.CodeNotFound)

	if ok, err := f.s.Unpin(f.ctx, r.ID, m3.Seq); ok || err != nil {
		f.Errorf("Unpin of a message not pinned = %t, %v", ok, err)
	}
	if ok, err := f.s.Unpin(f.ctx, r.ID, m2.Seq); !ok || err != nil {
		f.Errorf("Unpin = %t, %v", ok, err)
	}
	if got := f.pinSeqs(r.ID); !slices.Equal(got, []int64{m1.Seq}) {
		f.Errorf("pins after an unpin = %v", got)
	}
}

// testPinsErased: deleting or hiding a pinned message unpins it, says so
// in Unpinned, and neither can be pinned again.
func testPinsErased(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Room", alice, bob)
	m1 := f.send(msg(r.ID, bob, f.id("1"), "one"))
	m2 := f.send(msg(r.ID, bob, f.id("2"), "two"))
	m3 := f.send(msg(r.ID, bob, f.id("3"), "three"))
	for _, m := range []chat.Event{m1, m2, m3} {
		f.pin(r.ID, m.Seq, alice, 50)
	}
	b := f.append(del(r.ID, bob, m1.Seq), hide(r.ID, alice, m2.Seq), msg(r.ID, bob, f.id("4"), "four"))
	for i, it := range b {
		if it.Err != nil || it.Unpinned != (i < 2) {
			f.Errorf("item %d = %+v, want Unpinned %t", i, it, i < 2)
		}
	}
	if got := f.pinSeqs(r.ID); !slices.Equal(got, []int64{m3.Seq}) {
		f.Errorf("pins after a delete and a hide = %v, want only %d", got, m3.Seq)
	}
	f.pinRefused(r.ID, m1.Seq, 50, chat.CodeConflict)
	f.pinRefused(r.ID, m2.Seq, 50, chat.CodeConflict)
	// Erasing a message that is not pinned unpins nothing.
	m5 := f.send(msg(r.ID, bob, f.id("5"), "five"))
	it := f.append(hide(r.ID, alice, m5.Seq))[0]
	if it.Err != nil || it.Unpinned {
		f.Errorf("hide of a message not pinned = %+v", it)
	}
	if !errors.Is(f.append(del(r.ID, bob, m5.Seq))[0].Err, chat.ErrDeleted) {
		f.Error("deleting a hidden message was not refused")
	}
}
