package storetest

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/store/sealer"
	"github.com/kindred-health/kindred/chat/store/sqlstore"
)

// SealedStore is a store that seals text at rest (both stores, through
// package sqlstore).
type SealedStore interface {
	chat.Store
	Escalations() *sqlstore.EscalationStore
	KeyCounts(ctx context.Context) ([]sqlstore.KeyCount, error)
	CheckKeys(ctx context.Context) error
	ResealAll(ctx context.Context, batch int, pause time.Duration, progress func(int64)) (int64, error)
}

// SealedDB is one empty database for RunSealed.
type SealedDB struct {
	// Open opens another Store on the database with keys (nil: none);
	// the test's cleanup closes it.
	Open func(keys *sealer.Ring) SealedStore
	// Query runs q (no parameters) on the database directly and returns
	// the first column of every row as text: what is stored, byte for
	// byte, whatever the stores make of it.
	Query func(q string) []string
	// Exec runs statement q (no parameters) on the database directly.
	Exec func(q string)
}

// Keys returns a ring of the named test keys, the first active. A key's
// bytes follow from its name, so two rings agree on a name's key; a name
// ending in "!" gives other bytes under the id without it (a wrong key).
func Keys(t testing.TB, ids ...string) *sealer.Ring {
	t.Helper()
	var lines []string
	for _, id := range ids {
		seed := id
		id = strings.TrimSuffix(id, "!")
		k := []byte(strings.Repeat(seed, sealer.KeySize))[:sealer.KeySize]
		lines = append(lines, id+":"+base64.StdEncoding.EncodeToString(k))
	}
	r, err := sealer.Parse(strings.Join(lines, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// RunSealed runs the conformance tests of encryption at rest, each on a
// database of its own from fresh.
func RunSealed(t *testing.T, fresh func(t *testing.T) SealedDB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db SealedDB)
	}{
		{"RoundTrip", testSealedRoundTrip},
		{"Moved", testSealedMoved},
		{"Escalation", testSealedEscalation},
		{"Rotate", testSealedRotate},
		{"TurnOn", testSealedTurnOn},
		{"RotateWhileAppending", testSealedRotateWhileAppending},
		{"RotateTwoNodes", testSealedRotateTwoNodes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, fresh(t)) })
	}
}

// secret is text that must never be found stored in clear.
const secret = "zebra-sapphire"

// sealedRoom makes a room with one member on s and returns the fixture.
func sealedRoom(t *testing.T, s chat.Store) (*fixture, chat.Conversation, string) {
	f := newFixture(t, s)
	alice := f.user("alice")
	return f, f.room("sealed", alice), alice
}

// stored fails unless no stored body holds secret and every non-empty
// one is sealed with key keyID ("" : none).
func stored(t *testing.T, db SealedDB, keyID string) {
	t.Helper()
	for _, b := range db.Query(`SELECT body FROM events`) {
		if strings.Contains(b, secret) {
			t.Errorf("a stored body holds the text in clear: %q", b)
		}
	}
	for _, k := range db.Query(`SELECT key_id FROM events WHERE body <> ''`) {
		if k != keyID {
			t.Errorf("a stored body has key %q, want %q", k, keyID)
		}
	}
}

func testSealedRoundTrip(t *testing.T, db SealedDB) {
	s := db.Open(Keys(t, "k1"))
	f, room, alice := sealedRoom(t, s)
	f.send(msg(room.ID, alice, "c1", secret+" one"))
	f.send(edit(room.ID, alice, 1, secret+" one, edited"))
	f.send(msg(room.ID, alice, "c2", secret+" two"))
	f.send(msg(room.ID, alice, "c3", "gone "+secret))
	f.send(del(room.ID, alice, 4))
	stored(t, db, "k1")

	h, err := s.History(f.ctx, room.ID, 0, 0, 10)
	if err != nil || len(h) != 3 || h[0].Body != secret+" one, edited" || h[1].Body != secret+" two" || h[2].Body != "" {
		t.Fatalf("History = %+v, %v", h, err)
	}
	evs, err := s.EventsAfter(f.ctx, room.ID, 0, 10)
	if err != nil || len(evs) != 5 || evs[1].Body != secret+" one, edited" || evs[1].Kind != chat.EventEdit {
		t.Fatalf("EventsAfter = %+v, %v", evs, err)
	}
	// A repeated client id returns the stored message, opened.
	dup := f.append(msg(room.ID, alice, "c1", "again"))[0]
	if !dup.Duplicate || dup.Event.Body != secret+" one, edited" {
		t.Errorf("duplicate = %+v, want the stored text", dup)
	}
	// An edit and a delete in one batch with the message they change.
	f.append(msg(room.ID, alice, "c5", secret+" five"), edit(room.ID, alice, 6, secret+" five!"),
		msg(room.ID, alice, "c6", secret+" six"), del(room.ID, alice, 8))
	stored(t, db, "k1")
	h, err = s.History(f.ctx, room.ID, 0, 5, 10)
	if err != nil || len(h) != 2 || h[0].Body != secret+" five!" || h[1].Body != "" || !h[1].Deleted {
		t.Fatalf("History of the batch = %+v, %v", h, err)
	}
	if err := s.CheckKeys(f.ctx); err != nil {
		t.Errorf("CheckKeys: %v", err)
	}
}

// testSealedMoved: a value copied into another row does not open there,
// and the error names neither the text nor the value.
func testSealedMoved(t *testing.T, db SealedDB) {
	s := db.Open(Keys(t, "k1"))
	f, room, alice := sealedRoom(t, s)
	f.send(msg(room.ID, alice, "c1", secret+" one"))
	f.send(msg(room.ID, alice, "c2", "two"))
	db.Exec(fmt.Sprintf(`UPDATE events SET body = (SELECT body FROM events WHERE conv_id = '%[1]s' AND seq = 1)
		WHERE conv_id = '%[1]s' AND seq = 2`, room.ID))
	_, err := s.History(f.ctx, room.ID, 0, 0, 10)
	if err == nil {
		t.Fatal("History opened a value moved to another row")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error shows the text: %v", err)
	}
}

func testSealedEscalation(t *testing.T, db SealedDB) {
	s := db.Open(Keys(t, "k1"))
	f, room, alice := sealedRoom(t, s)
	in := &escalation.Escalation{
		ID: f.id("esc"), Conv: room.ID, ConvKind: chat.KindRoom, Subject: alice, Source: escalation.SourceDetector,
		Severity: crisis.High, Status: escalation.StatusOpen, CreatedAt: time.Now(),
		Evidence: []crisis.Span{{Start: 0, End: 5, Text: secret + " evidence", Rule: "r"}},
		Message:  chat.Event{Conv: room.ID, Seq: 2, Kind: chat.EventMessage, Sender: alice, Body: secret + " message"},
		Context:  []chat.Event{{Conv: room.ID, Seq: 1, Kind: chat.EventMessage, Sender: alice, Body: secret + " context"}},
	}
	es := s.Escalations()
	if _, _, err := es.Create(f.ctx, in); err != nil {
		t.Fatal(err)
	}
	checkEsc := func(s SealedStore, keyID string) {
		t.Helper()
		for _, v := range db.Query(`SELECT evidence || message || context || key_id FROM escalations`) {
			if strings.Contains(v, secret) || !strings.HasSuffix(v, keyID) {
				t.Errorf("stored escalation %q: text in clear, or not sealed with %q", v, keyID)
			}
		}
		got, err := s.Escalations().Get(f.ctx, in.ID)
		if err != nil || got.Message.Body != in.Message.Body || got.Context[0].Body != in.Context[0].Body ||
			got.Evidence[0].Text != in.Evidence[0].Text {
			t.Fatalf("Get = %+v, %v", got, err)
		}
	}
	checkEsc(s, "k1")
	// An update writes the snapshot again, with the active key.
	s2 := db.Open(Keys(t, "k2", "k1"))
	if _, err := s2.Escalations().Update(f.ctx, in.ID, func(e *escalation.Escalation) error {
		e.Evidence[0].Text = secret + " evidence"
		e.Reason = "updated"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	checkEsc(s2, "k2")
	if err := s.CheckKeys(f.ctx); err == nil || !strings.Contains(err.Error(), `"k2"`) {
		t.Errorf("CheckKeys without k2 = %v, want an error naming k2", err)
	}
}

func testSealedRotate(t *testing.T, db SealedDB) {
	s1 := db.Open(Keys(t, "k1"))
	f, room, alice := sealedRoom(t, s1)
	for i := range 5 {
		f.send(msg(room.ID, alice, fmt.Sprint("a", i), fmt.Sprintf("%s %d", secret, i)))
	}
	// Rotation: k2 first. Old rows still read; new ones are sealed with k2.
	s2 := db.Open(Keys(t, "k2", "k1"))
	f2 := newFixture(t, s2)
	f2.send(msg(room.ID, alice, "b0", secret+" new"))
	if err := s2.CheckKeys(f.ctx); err != nil {
		t.Fatalf("CheckKeys during rotation: %v", err)
	}
	assertBodies(t, s2, room.ID, 6)
	n, err := s2.ResealAll(f.ctx, 2, 0, nil)
	if err != nil || n != 5 {
		t.Fatalf("ResealAll = %d, %v; want the 5 rows under k1", n, err)
	}
	stored(t, db, "k2")
	counts, err := s2.KeyCounts(f.ctx)
	if err != nil || len(counts) != 1 || counts[0] != (sqlstore.KeyCount{Table: "events", KeyID: "k2", Rows: 6}) {
		t.Errorf("KeyCounts = %+v, %v", counts, err)
	}
	// k1 can go now.
	assertBodies(t, db.Open(Keys(t, "k2")), room.ID, 6)
	// A store without k2, or with other bytes under its id, refuses.
	for _, keys := range [][]string{{"k1"}, {"k2!"}} {
		s := db.Open(Keys(t, keys...))
		if err := s.CheckKeys(f.ctx); err == nil || !strings.Contains(err.Error(), `"k2"`) {
			t.Errorf("CheckKeys with %v = %v, want an error naming k2", keys, err)
		}
		_, err := s.History(f.ctx, room.ID, 0, 0, 10)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("History with %v = %v, want an error without the text", keys, err)
		}
	}
}

// assertBodies checks that conv holds n messages whose text is secret and
// a suffix.
func assertBodies(t *testing.T, s chat.Store, conv string, n int) {
	t.Helper()
	h, err := s.History(context.Background(), conv, 0, 0, n+10)
	if err != nil || len(h) != n {
		t.Fatalf("History = %d events, %v; want %d", len(h), err, n)
	}
	for _, e := range h {
		if !strings.HasPrefix(e.Body, secret+" ") {
			t.Fatalf("event %d reads %q", e.Seq, e.Body)
		}
	}
}

// testSealedTurnOn: rows stored in clear read with keys too, and the job
// seals them.
func testSealedTurnOn(t *testing.T, db SealedDB) {
	s0 := db.Open(nil)
	f, room, alice := sealedRoom(t, s0)
	for i := range 3 {
		f.send(msg(room.ID, alice, fmt.Sprint("a", i), fmt.Sprintf("%s %d", secret, i)))
	}
	if got := db.Query(`SELECT body FROM events WHERE body <> ''`); len(got) != 3 || !strings.Contains(got[0], secret) {
		t.Fatalf("without keys the bodies are stored as %q, want them in clear", got)
	}
	s1 := db.Open(Keys(t, "k1"))
	assertBodies(t, s1, room.ID, 3)
	if n, err := s1.ResealAll(f.ctx, 100, time.Millisecond, nil); err != nil || n != 3 {
		t.Fatalf("ResealAll = %d, %v", n, err)
	}
	stored(t, db, "k1")
	assertBodies(t, s1, room.ID, 3)
	// Without keys again, sealed rows are an error naming the key.
	if _, err := s0.History(f.ctx, room.ID, 0, 0, 10); err == nil || !strings.Contains(err.Error(), `"k1"`) {
		t.Errorf("History without keys = %v, want an error naming k1", err)
	}
}

// testSealedRotateWhileAppending: the job runs while messages and edits
// keep arriving; nothing is lost and every row reads after.
func testSealedRotateWhileAppending(t *testing.T, db SealedDB) {
	s1 := db.Open(Keys(t, "k1"))
	f, room, alice := sealedRoom(t, s1)
	const before, during = 120, 120
	for i := 0; i < before; i += 10 {
		var items []chat.AppendItem
		for j := i; j < i+10; j++ {
			items = append(items, msg(room.ID, alice, fmt.Sprint("a", j), fmt.Sprintf("%s %d", secret, j)))
		}
		f.append(items...)
	}
	s2 := db.Open(Keys(t, "k2", "k1"))
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range during {
			items := []chat.AppendItem{msg(room.ID, alice, fmt.Sprint("b", i), fmt.Sprintf("%s b%d", secret, i))}
			if i%3 == 0 { // and edits of old messages, under the job's feet
				items = append(items, edit(room.ID, alice, int64(i+1), fmt.Sprintf("%s edited %d", secret, i)))
			}
			if err := s2.Append(f.ctx, items); err != nil {
				t.Errorf("Append: %v", err)
				return
			}
		}
	})
	_, err := s2.ResealAll(f.ctx, 7, 0, nil)
	wg.Wait()
	if err != nil {
		t.Fatalf("ResealAll: %v", err)
	}
	if _, err := s2.ResealAll(f.ctx, 7, 0, nil); err != nil { // what arrived sealed with k1 meanwhile (none expected)
		t.Fatal(err)
	}
	stored(t, db, "k2")
	assertBodies(t, db.Open(Keys(t, "k2")), room.ID, before+during)
	h, err := s2.History(f.ctx, room.ID, 0, chat.HistoryFromStart, 1)
	if err != nil || len(h) != 1 || h[0].Body != secret+" edited 0" {
		t.Errorf("first message = %+v, %v; want its edit", h, err)
	}
}

// testSealedRotateTwoNodes: two stores on one database (two nodes, or a
// node and kindred keys rotate) re-encrypt at once while one of them
// edits; every row ends under the new key with its latest text.
func testSealedRotateTwoNodes(t *testing.T, db SealedDB) {
	s1 := db.Open(Keys(t, "k1"))
	f, room, alice := sealedRoom(t, s1)
	const n = 150
	for i := 0; i < n; i += 10 {
		var items []chat.AppendItem
		for j := i; j < i+10; j++ {
			items = append(items, msg(room.ID, alice, fmt.Sprint("a", j), fmt.Sprintf("%s %d", secret, j)))
		}
		f.append(items...)
	}
	a, b := db.Open(Keys(t, "k2", "k1")), db.Open(Keys(t, "k2", "k1"))
	var wg sync.WaitGroup
	for _, s := range []SealedStore{a, b} {
		wg.Go(func() {
			if _, err := s.ResealAll(f.ctx, 5, 0, nil); err != nil {
				t.Errorf("ResealAll: %v", err)
			}
		})
	}
	wg.Go(func() {
		for i := int64(1); i <= n; i += 7 {
			items := []chat.AppendItem{edit(room.ID, alice, i, fmt.Sprintf("%s edited %d", secret, i))}
			if err := a.Append(f.ctx, items); err != nil || items[0].Err != nil {
				t.Errorf("edit %d: %v %v", i, err, items[0].Err)
				return
			}
		}
	})
	wg.Wait()
	stored(t, db, "k2")
	h, err := db.Open(Keys(t, "k2")).History(f.ctx, room.ID, 0, chat.HistoryFromStart, n)
	if err != nil || len(h) != n {
		t.Fatalf("History = %d events, %v", len(h), err)
	}
	for _, e := range h {
		want := fmt.Sprintf("%s %d", secret, e.Seq-1)
		if (e.Seq-1)%7 == 0 {
			want = fmt.Sprintf("%s edited %d", secret, e.Seq)
		}
		if e.Body != want {
			t.Errorf("event %d reads %q, want %q", e.Seq, e.Body, want)
		}
	}
}
