package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/storetestenv"
)

// TestNodesAppendConcurrently: two Stores with pools of their own (two
// nodes) append to the same room from several goroutines each, in batches
// of varying sizes. Every batch also carries a message for a second room,
// first on node A and last on node B, so batches lock the same two rows
// having named them in opposite orders: a lock order taken from the batch
// would deadlock.
func TestNodesAppendConcurrently(t *testing.T) {
	url := storetestenv.PostgresURL(t)
	schema := storetestenv.FreshSchema(t, url)
	nodes := []*Store{openTest(t, url, schema), openTest(t, url, schema)}
	ctx := t.Context()

	const perNode, perWriter = 4, 100
	writers := len(nodes) * perNode
	users := make([]string, writers)
	for i := range users {
		users[i] = fmt.Sprint("u", i)
		if err := nodes[i%2].UpsertUser(ctx, chat.User{ID: users[i], Name: users[i]}); err != nil {
			t.Fatal(err)
		}
	}
	// Room IDs chosen so that "busy" sorts before "other": node A names
	// them in lock order, node B in the reverse.
	busy, err := nodes[0].CreateRoom(ctx, chat.Conversation{ID: "r_busy", Name: "Busy", CreatedBy: users[0]})
	if err != nil {
		t.Fatal(err)
	}
	other, err := nodes[1].CreateRoom(ctx, chat.Conversation{ID: "r_other", Name: "Other", CreatedBy: users[0]})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users[1:] {
		for _, r := range []string{busy.ID, other.ID} {
			if err := nodes[1].Join(ctx, r, u, 0); err != nil {
				t.Fatal(err)
			}
		}
	}

	type result struct {
		seqs    []int64 // in busy, in the order the writer got them
		batches int
		err     error
	}
	results := make([]result, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		node := w % 2
		wg.Go(func() {
			<-start
			res := &results[w]
			for sent, k := 0, 0; sent < perWriter; k++ {
				n := min(1+(w+k)%9, perWriter-sent) // 1 to 9 messages
				items := make([]chat.AppendItem, 0, n+1)
				for i := range n {
					items = append(items, msgItem(busy.ID, users[w], fmt.Sprintf("w%d_%d", w, sent+i), "hello"))
				}
				extra := msgItem(other.ID, users[w], fmt.Sprintf("w%d_b%d", w, k), "elsewhere")
				if node == 0 {
					items = append([]chat.AppendItem{extra}, items...)
				} else {
					items = append(items, extra)
				}
				if err := nodes[node].Append(ctx, items); err != nil {
					res.err = err
					return
				}
				for _, it := range items {
					if it.Err != nil || it.Duplicate {
						res.err = fmt.Errorf("item %+v refused or duplicate", it)
						return
					}
					if it.Event.Conv == busy.ID {
						res.seqs = append(res.seqs, it.Event.Seq)
					}
				}
				res.batches++
				sent += n
			}
		})
	}
	close(start)
	wg.Wait()

	var all []int64
	batches := 0
	for w, res := range results {
		if res.err != nil {
			t.Fatalf("writer %d: %v", w, res.err)
		}
		if !slices.IsSorted(res.seqs) {
			t.Errorf("writer %d got decreasing seqs: %v", w, res.seqs)
		}
		all = append(all, res.seqs...)
		batches += res.batches
	}
	total := int64(writers * perWriter)
	slices.Sort(all)
	if !slices.Equal(all, span(1, total)) {
		t.Fatalf("busy room seqs are not exactly 1..%d (%d values)", total, len(all))
	}

	// Read back through the other node: every client id exactly once, the
	// log gap-free, and times never going backwards as seqs go up (both
	// nodes take them from PostgreSQL's clock under the lock).
	check := func(conv string, want int64) {
		t.Helper()
		evs, err := nodes[1].EventsAfter(ctx, conv, 0, int(want)+10)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		var seqs []int64
		for i, e := range evs {
			if seen[e.ClientID] {
				t.Errorf("%s: client id %s stored twice", conv, e.ClientID)
			}
			seen[e.ClientID] = true
			seqs = append(seqs, e.Seq)
			if i > 0 && e.Time.Before(evs[i-1].Time) {
				t.Errorf("%s: seq %d has time %v, before seq %d's %v", conv, e.Seq, e.Time, evs[i-1].Seq, evs[i-1].Time)
			}
		}
		if !slices.Equal(seqs, span(1, want)) {
			t.Errorf("%s: EventsAfter seqs are not 1..%d (%d events)", conv, want, len(evs))
		}
		c, err := nodes[0].Conversation(ctx, conv)
		if err != nil || c.LastSeq != want {
			t.Errorf("%s: Conversation = %+v, %v; want LastSeq %d", conv, c, err, want)
		}
	}
	check(busy.ID, total)
	check(other.ID, int64(batches))
	t.Logf("%d messages in %d batches from %d writers on 2 nodes", total+int64(batches), batches, writers)
}

func span(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// TestDeleteErasesText: a deleted message's text must not remain anywhere
// in the events table, including in the edits that preceded the deletion,
// whether they were stored earlier or in the same batch.
func TestDeleteErasesText(t *testing.T) {
	ctx := t.Context()
	s := freshStore(t)
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "Room", CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	edit := func(target int64, body string) chat.AppendItem {
		return chat.AppendItem{Event: chat.Event{Conv: room.ID, Kind: chat.EventEdit, Sender: "alice", Target: target, Body: body}}
	}
	del := func(target int64) chat.AppendItem {
		return chat.AppendItem{Event: chat.Event{Conv: room.ID, Kind: chat.EventDelete, Sender: "alice", Target: target, Body: "ignored"}}
	}
	batches := [][]chat.AppendItem{
		{msgItem(room.ID, "alice", "c1", "secret v1"), edit(1, "secret v2"), msgItem(room.ID, "alice", "c2", "kept")},
		{edit(1, "secret v3"), del(1)}, // seqs 4, 5
		{msgItem(room.ID, "alice", "c3", "secret w1"), edit(6, "secret w2"), del(6)}, // 6, 7, 8: all in one batch
	}
	for _, b := range batches {
		if err := s.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
		for _, it := range b {
			if it.Err != nil {
				t.Fatalf("refused: %v", it.Err)
			}
		}
	}
	if batches[1][1].Event.Body != "" {
		t.Errorf("delete item kept Body %q", batches[1][1].Event.Body)
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE body LIKE '%secret%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d event rows still hold deleted text", n)
	}
	evs, err := s.EventsAfter(ctx, room.ID, 0, 20)
	if err != nil || len(evs) != 8 {
		t.Fatalf("EventsAfter = %+v, %v", evs, err)
	}
	for _, i := range []int{0, 5} {
		if e := evs[i]; !e.Deleted || e.Body != "" || e.EditedAt == nil || e.Kind != chat.EventMessage {
			t.Errorf("message entry %d = %+v, want an edited tombstone", e.Seq, e)
		}
	}
	if evs[2].Body != "kept" || evs[2].Deleted {
		t.Errorf("unrelated message = %+v", evs[2])
	}
	for _, i := range []int{1, 3, 6} {
		if e := evs[i]; e.Kind != chat.EventEdit || e.Body != "" {
			t.Errorf("edit entry %d = %+v, want its text erased", e.Seq, e)
		}
	}
}

// TestDuplicateSeesBatchState: a duplicate reports its original as it is
// at that point of the batch, and an edit earlier in the batch counts.
func TestDuplicateSeesBatchState(t *testing.T) {
	ctx := t.Context()
	s := freshStore(t)
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "Room", CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, []chat.AppendItem{msgItem(room.ID, "alice", "c1", "v1")}); err != nil {
		t.Fatal(err)
	}
	b := []chat.AppendItem{
		msgItem(room.ID, "alice", "c1", "resent"),
		{Event: chat.Event{Conv: room.ID, Kind: chat.EventEdit, Sender: "alice", Target: 1, Body: "v2"}},
		msgItem(room.ID, "alice", "c1", "resent again"),
		msgItem(room.ID, "alice", "", "no client id"),
		msgItem(room.ID, "alice", "", "no client id"),
	}
	if err := s.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	if !b[0].Duplicate || b[0].Event.Body != "v1" || b[0].Event.EditedAt != nil {
		t.Errorf("first resend = %+v, want the original v1", b[0])
	}
	if !b[2].Duplicate || b[2].Event.Body != "v2" || b[2].Event.EditedAt == nil {
		t.Errorf("resend after the edit = %+v, want v2, edited", b[2])
	}
	if b[3].Duplicate || b[4].Duplicate || b[3].Event.Seq != 3 || b[4].Event.Seq != 4 {
		t.Errorf("messages without client id = %+v / %+v, want Seqs 3 and 4", b[3], b[4])
	}
	evs, err := s.EventsAfter(ctx, room.ID, 2, 10)
	if err != nil || len(evs) != 2 || evs[0].ClientID != "" {
		t.Errorf("EventsAfter = %+v, %v", evs, err)
	}
	var nulls int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE client_id IS NULL AND kind = 'message'`).Scan(&nulls); err != nil || nulls != 2 {
		t.Errorf("%d messages with a NULL client_id (%v), want 2", nulls, err)
	}
}

// TestUnstorableText: PostgreSQL cannot store NUL or invalid UTF-8. Such an
// item is refused on its own; the rest of its batch commits, and lookups
// find nothing instead of failing.
func TestUnstorableText(t *testing.T) {
	ctx := t.Context()
	s := freshStore(t)
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "Room", CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	b := []chat.AppendItem{
		msgItem(room.ID, "alice", "c1", "fine"),
		msgItem(room.ID, "alice", "c2", "nul \x00 inside"),
		msgItem(room.ID, "alice", "c3\x00", "nul in the id"),
		msgItem(room.ID, "alice", "c4", "bad utf-8 \xff"),
		msgItem(room.ID, "alice", "c5", "fine too"),
	}
	if err := s.Append(ctx, b); err != nil {
		t.Fatalf("Append: %v", err)
	}
	for i, it := range b {
		want := chat.Code("")
		if i >= 1 && i <= 3 {
			want = chat.CodeInvalidField
		}
		if got := codeOf(it.Err); got != want {
			t.Errorf("item %d: Err = %v, want code %q", i, it.Err, want)
		}
	}
	if b[0].Event.Seq != 1 || b[4].Event.Seq != 2 {
		t.Errorf("Seqs %d, %d; want 1, 2", b[0].Event.Seq, b[4].Event.Seq)
	}
	if err := s.UpsertUser(ctx, chat.User{ID: "bob", Name: "Bob\x00"}); chat.ErrorCode(err) != chat.CodeInvalidField {
		t.Errorf("UpsertUser with NUL = %v, want invalid_field", err)
	}
	if _, err := s.Conversation(ctx, "r_\x00"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("Conversation(NUL) = %v, want ErrNotFound", err)
	}
	if ok, err := s.IsMember(ctx, room.ID, "a\xff"); ok || err != nil {
		t.Errorf("IsMember(bad utf-8) = %v, %v", ok, err)
	}
	if _, err := s.OpenDM(ctx, "alice", "b\x00b"); chat.ErrorCode(err) != chat.CodeInvalidField {
		t.Errorf("OpenDM with NUL = %v, want invalid_field", err)
	}
}

func codeOf(err error) chat.Code {
	if err == nil {
		return ""
	}
	return chat.ErrorCode(err)
}

// TestUnavailable: when PostgreSQL cannot be reached, errors are plain (the
// server answers "unavailable, retry"), never a client-facing *chat.Error.
func TestUnavailable(t *testing.T) {
	// A port nothing listens on: Open fails fast, with a plain error.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := Open(ctx, "postgres://postgres@"+addr+"/test?sslmode=disable&connect_timeout=2"); err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	} else if _, ok := errors.AsType[*chat.Error](err); ok {
		t.Errorf("Open error %v is a *chat.Error", err)
	}

	// A store whose pool is gone behaves like one whose database is.
	s := freshStore(t)
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "Room", CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	items := []chat.AppendItem{msgItem(room.ID, "alice", "c1", "lost")}
	for name, err := range map[string]error{
		"Append":       s.Append(ctx, items),
		"Ping":         s.Ping(ctx),
		"IsMember":     func() error { _, err := s.IsMember(ctx, room.ID, "alice"); return err }(),
		"History":      func() error { _, err := s.History(ctx, room.ID, 0, 0, 10); return err }(),
		"Conversation": func() error { _, err := s.Conversation(ctx, room.ID); return err }(),
		"Join":         s.Join(ctx, room.ID, "bob", 3),
		"OpenDM":       func() error { _, err := s.OpenDM(ctx, "alice", "bob"); return err }(),
	} {
		if err == nil {
			t.Errorf("%s on a closed store succeeded", name)
		} else if chat.ErrorCode(err) != chat.CodeInternal {
			t.Errorf("%s error %v has code %s, want a plain error", name, err, chat.ErrorCode(err))
		}
	}
	if items[0].Event.Seq != 0 || items[0].Err != nil {
		t.Errorf("failed Append left item %+v", items[0])
	}
}

// TestAuditLogAppendOnly: the database itself refuses to change, delete or
// truncate audit entries, whoever asks.
func TestAuditLogAppendOnly(t *testing.T) {
	ctx := t.Context()
	s := freshStore(t)
	if err := s.AppendAudit(ctx, chat.AuditEntry{Actor: "ann", Action: "member.add"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit_log SET actor = 'eve'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := s.pool.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", q, err)
		}
	}
	if got, _ := s.Audit(ctx, chat.AuditFilter{}); len(got) != 1 || got[0].Actor != "ann" {
		t.Fatalf("audit log after the attempts: %+v", got)
	}
}
