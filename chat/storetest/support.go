package storetest

import (
	"strings"
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// testSupportNotes: a note is added once per message, keeps its state
// through a second add, moves between states (a seen note stays seen),
// is listed to its owner only until dismissed, and only its owner can
// dismiss it.
func testSupportNotes(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	conv := f.id("r_support")
	start := time.Now().Add(-time.Second)
	n, added, err := f.s.AddSupportNote(f.ctx, chat.SupportNote{User: alice, Conv: conv, Seq: 4, State: chat.SupportPending})
	if err != nil || !added {
		f.Fatalf("AddSupportNote = %+v, %t, %v; want a new note", n, added, err)
	}
	if !strings.HasPrefix(n.ID, "sn_") || n.User != alice || n.Conv != conv || n.Seq != 4 || n.State != chat.SupportPending || n.Dismissed {
		f.Errorf("added note = %+v", n)
	}
	if n.Created.Before(start) || n.Created.After(time.Now().Add(time.Second)) {
		f.Errorf("note created %v, want about now", n.Created)
	}
	again, added, err := f.s.AddSupportNote(f.ctx, chat.SupportNote{User: alice, Conv: conv, Seq: 4, State: chat.SupportUnreached})
	if err != nil || added || again.ID != n.ID || again.State != chat.SupportPending {
		f.Errorf("second AddSupportNote = %+v, %t, %v; want the first, unchanged", again, added, err)
	}
	steps := []struct {
		state   chat.SupportState
		want    chat.SupportState
		changed bool
	}{
		{chat.SupportTold, chat.SupportTold, true},
		{chat.SupportTold, chat.SupportTold, false},
		{chat.SupportUnreached, chat.SupportUnreached, true},
		{chat.SupportUnanswered, chat.SupportUnanswered, true},
		{chat.SupportSeen, chat.SupportSeen, true},
		{chat.SupportUnreached, chat.SupportSeen, false}, // seen is final
	}
	for _, st := range steps {
		got, changed, err := f.s.SetSupportState(f.ctx, alice, conv, 4, st.state)
		if err != nil || got.ID != n.ID || got.State != st.want || changed != st.changed {
			f.Errorf("SetSupportState(%s) = %s (%s), %t, %v; want %s, %t", st.state, got.State, got.ID, changed, err, st.want, st.changed)
		}
	}
	// A move restricted to some states happens only from them.
	third, _, err := f.s.AddSupportNote(f.ctx, chat.SupportNote{User: alice, Conv: conv, Seq: 7, State: chat.SupportUnreached})
	if err != nil {
		f.Fatal(err)
	}
	for _, st := range []struct {
		to      chat.SupportState
		from    []chat.SupportState
		want    chat.SupportState
		changed bool
	}{
		{chat.SupportUnanswered, []chat.SupportState{chat.SupportTold}, chat.SupportUnreached, false},
		{chat.SupportTold, []chat.SupportState{chat.SupportPending, chat.SupportUnreached}, chat.SupportTold, true},
		{chat.SupportUnanswered, []chat.SupportState{chat.SupportTold}, chat.SupportUnanswered, true},
		{chat.SupportTold, []chat.SupportState{chat.SupportPending, chat.SupportUnreached}, chat.SupportUnanswered, false},
		{chat.SupportTold, []chat.SupportState{chat.SupportSeen, chat.SupportUnanswered}, chat.SupportTold, true},
	} {
		got, changed, err := f.s.SetSupportState(f.ctx, alice, conv, 7, st.to, st.from...)
		if err != nil || got.ID != third.ID || got.State != st.want || changed != st.changed {
			f.Errorf("SetSupportState(%s from %v) = %s, %t, %v; want %s, %t", st.to, st.from, got.State, changed, err, st.want, st.changed)
		}
	}
	if _, _, err := f.s.SetSupportState(f.ctx, alice, conv, 7, chat.SupportTold, "maybe"); chat.ErrorCode(err) != chat.CodeInvalidField {
		f.Errorf("SetSupportState(from an unknown state) = %v, want invalid_field", err)
	}
	if _, _, err := f.s.DismissSupportNote(f.ctx, alice, third.ID); err != nil {
		f.Fatal(err)
	}
	// The escalation may page before the note is added: the state comes
	// first, and the add then finds it.
	early, changed, err := f.s.SetSupportState(f.ctx, alice, conv, 0, chat.SupportUnreached)
	if err != nil || !changed || early.State != chat.SupportUnreached || early.ID == n.ID {
		f.Errorf("SetSupportState(no note yet) = %+v, %t, %v", early, changed, err)
	}
	if got, added, err := f.s.AddSupportNote(f.ctx, chat.SupportNote{User: alice, Conv: conv, State: chat.SupportPending}); err != nil || added || got.State != chat.SupportUnreached {
		f.Errorf("AddSupportNote after its state = %+v, %t, %v; want the unreached note", got, added, err)
	}
	list, err := f.s.SupportNotes(f.ctx, alice)
	if err != nil || len(list) != 2 || list[0].ID != n.ID || list[1].ID != early.ID {
		f.Fatalf("SupportNotes(alice) = %+v, %v; want both, oldest first", list, err)
	}
	if list, err := f.s.SupportNotes(f.ctx, bob); err != nil || list == nil || len(list) != 0 {
		f.Errorf("SupportNotes(bob) = %#v, %v; want an empty list", list, err)
	}
	if _, _, err := f.s.DismissSupportNote(f.ctx, bob, n.ID); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("DismissSupportNote(someone else's) = %v, want not_found", err)
	}
	if _, _, err := f.s.DismissSupportNote(f.ctx, alice, f.id("sn_nothing")); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("DismissSupportNote(unknown) = %v, want not_found", err)
	}
	for i, want := range []bool{true, false} {
		got, changed, err := f.s.DismissSupportNote(f.ctx, alice, n.ID)
		if err != nil || changed != want || !got.Dismissed || got.ID != n.ID {
			f.Errorf("DismissSupportNote #%d = %+v, %t, %v; want dismissed, changed %t", i+1, got, changed, err, want)
		}
	}
	if list, err := f.s.SupportNotes(f.ctx, alice); err != nil || len(list) != 1 || list[0].ID != early.ID {
		f.Errorf("SupportNotes after dismissal = %+v, %v; want the other note only", list, err)
	}
	// A dismissed note is not shown again by a resend of its message.
	if got, added, err := f.s.AddSupportNote(f.ctx, chat.SupportNote{User: alice, Conv: conv, Seq: 4, State: chat.SupportPending}); err != nil || added || !got.Dismissed {
		f.Errorf("AddSupportNote after dismissal = %+v, %t, %v; want the dismissed note", got, added, err)
	}
}

// testSupportRefused: what a note cannot be.
func testSupportRefused(f *fixture) {
	alice, conv := f.user("alice"), f.id("r_support")
	for _, n := range []chat.SupportNote{
		{Conv: conv, State: chat.SupportPending},
		{User: alice, State: chat.SupportPending},
		{User: alice, Conv: conv, Seq: -1, State: chat.SupportPending},
		{User: alice, Conv: conv, State: "maybe"},
	} {
		if _, _, err := f.s.AddSupportNote(f.ctx, n); chat.ErrorCode(err) != chat.CodeInvalidField {
			f.Errorf("AddSupportNote(%+v) = %v, want invalid_field", n, err)
		}
		if _, _, err := f.s.SetSupportState(f.ctx, n.User, n.Conv, n.Seq, n.State); chat.ErrorCode(err) != chat.CodeInvalidField {
			f.Errorf("SetSupportState(%+v) = %v, want invalid_field", n, err)
		}
	}
}

// testSupportConcurrent: nodes racing to add the same message's note
// (the crisis worker) and to set its state (the escalation's page) end
// with one note.
func testSupportConcurrent(f *fixture) {
	alice, conv := f.user("alice"), f.id("r_support")
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Go(func() {
			var n chat.SupportNote
			var err error
			if i%2 == 0 {
				n, _, err = f.s.AddSupportNote(f.ctx, chat.SupportNote{User: alice, Conv: conv, Seq: 9, State: chat.SupportPending})
			} else {
				n, _, err = f.s.SetSupportState(f.ctx, alice, conv, 9, chat.SupportTold)
			}
			if err != nil {
				f.Errorf("racer %d: %v", i, err)
			}
			ids[i] = n.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			f.Fatalf("racing notes for one message got ids %v, want one", ids)
		}
	}
	if list, err := f.s.SupportNotes(f.ctx, alice); err != nil || len(list) != 1 {
		f.Errorf("SupportNotes = %+v, %v; want one note", list, err)
	}
}
