package storetest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kindred-health/kindred/chat"
)

// historyFixture makes a room holding 30 messages, with an edit after every
// 10th, and returns it and the messages' Seqs in order.
func historyFixture(f *fixture) (chat.Conversation, []int64, string) {
	alice := f.user("alice")
	r := f.room("Room", alice)
	var msgs []int64
	for i := 1; i <= 30; i++ {
		e := f.send(msg(r.ID, alice, f.id(fmt.Sprint(i)), fmt.Sprint("message ", i)))
		msgs = append(msgs, e.Seq)
		if i%10 == 0 {
			f.send(edit(r.ID, alice, e.Seq, fmt.Sprint("message ", i, " (edited)")))
		}
	}
	return r, msgs, alice
}

func testHistory(f *fixture) {
	r, msgs, alice := historyFixture(f)

	check := func(name string, got []chat.Event, want []int64) {
		f.Helper()
		if !slices.Equal(seqs(got), want) {
			f.Errorf("%s: seqs %v, want %v", name, seqs(got), want)
		}
	}
	check("latest 10", f.history(r.ID, 0, 0, 10), msgs[20:])
	check("all", f.history(r.ID, 0, 0, 100), msgs)
	check("before msg 21, 5", f.history(r.ID, msgs[20], 0, 5), msgs[15:20])
	check("before msg 3, 10", f.history(r.ID, msgs[2], 0, 10), msgs[:2])
	check("before 1", f.history(r.ID, 1, 0, 10), nil)
	check("after msg 5, 5", f.history(r.ID, 0, msgs[4], 5), msgs[5:10])
	check("after msg 28, 10", f.history(r.ID, 0, msgs[27], 10), msgs[28:])
	check("from the start, 5", f.history(r.ID, 0, chat.HistoryFromStart, 5), msgs[:5])
	check("from the start, all", f.history(r.ID, 0, chat.HistoryFromStart, 100), msgs)
	check("after the end", f.history(r.ID, 0, msgs[29]+1, 10), nil)
	check("limit 1", f.history(r.ID, 0, 0, 1), msgs[29:])
	// An edit's Seq is a valid cursor too.
	check("before an edit", f.history(r.ID, msgs[9]+1, 0, 3), msgs[7:10])

	h := f.history(r.ID, 0, 0, 100)
	for i, e := range h {
		if e.Kind != chat.EventMessage || e.Conv != r.ID || e.Sender != alice || e.Time.IsZero() {
			f.Errorf("History[%d] = %+v", i, e)
		}
		if e.Name != displayName("alice") {
			f.Errorf("History[%d].Name = %q, want %q", i, e.Name, displayName("alice"))
		}
		if e.ClientID != f.id(fmt.Sprint(i+1)) {
			f.Errorf("History[%d].ClientID = %q", i, e.ClientID)
		}
		wantBody := fmt.Sprint("message ", i+1)
		if (i+1)%10 == 0 {
			wantBody += " (edited)"
			if e.EditedAt == nil {
				f.Errorf("History[%d] edited but EditedAt is nil", i)
			}
		} else if e.EditedAt != nil {
			f.Errorf("History[%d] not edited but EditedAt = %v", i, e.EditedAt)
		}
		if e.Body != wantBody {
			f.Errorf("History[%d].Body = %q, want %q", i, e.Body, wantBody)
		}
	}

	empty := f.room("Empty", alice)
	if h := f.history(empty.ID, 0, 0, 10); len(h) != 0 {
		f.Errorf("History of an empty room = %+v", h)
	}
	if h := f.history(f.id("nope"), 0, 0, 10); len(h) != 0 {
		f.Errorf("History of an unknown room = %+v", h)
	}
}

func testEventsAfter(f *fixture) {
	r, msgs, _ := historyFixture(f)
	const total = 33 // 30 messages and 3 edits

	all := f.eventsAfter(r.ID, 0, 100)
	if !slices.Equal(seqs(all), span(1, total)) {
		f.Fatalf("EventsAfter(0) seqs = %v, want 1..%d", seqs(all), total)
	}
	edits := 0
	for _, e := range all {
		if e.Kind == chat.EventEdit {
			edits++
			if e.Target != e.Seq-1 || !strings.HasSuffix(e.Body, "(edited)") {
				f.Errorf("edit event = %+v", e)
			}
		} else if e.Kind != chat.EventMessage {
			f.Errorf("unexpected event %+v", e)
		}
	}
	if edits != 3 {
		f.Errorf("EventsAfter holds %d edits, want 3", edits)
	}
	if got := f.eventsAfter(r.ID, 10, 5); !slices.Equal(seqs(got), span(11, 15)) {
		f.Errorf("EventsAfter(10, 5) = %v, want 11..15", seqs(got))
	}
	// The last message (Seq 32) was edited afterwards (Seq 33).
	if got := f.eventsAfter(r.ID, msgs[29], 10); !slices.Equal(seqs(got), []int64{total}) {
		f.Errorf("EventsAfter(last message) = %v, want only the edit that followed it", seqs(got))
	}
	if got := f.eventsAfter(r.ID, total-2, 100); !slices.Equal(seqs(got), span(total-1, total)) {
		f.Errorf("EventsAfter(%d) = %v", total-2, seqs(got))
	}
	if got := f.eventsAfter(r.ID, total, 10); len(got) != 0 {
		f.Errorf("EventsAfter(LastSeq) = %v, want none", seqs(got))
	}
	if got := f.eventsAfter(f.id("nope"), 0, 10); len(got) != 0 {
		f.Errorf("EventsAfter(unknown) = %v", seqs(got))
	}
}
