package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// Counter runs a query returning one count on a store's database, for
// checks the Store interface cannot make (what is left in its tables).
type Counter func(ctx context.Context, query string) (int64, error)

// RunHideErasesText checks, in s's own tables through count, that a hidden
// message's text is gone: from its row and from the edits of it, with
// nothing else touched.
func RunHideErasesText(t *testing.T, s chat.Store, count Counter) {
	f := newFixture(t, s)
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Room", alice, bob)
	m := f.send(msg(r.ID, bob, f.id("1"), "hidden secret v1"))
	f.send(edit(r.ID, bob, m.Seq, "hidden secret v2"))
	f.send(msg(r.ID, bob, f.id("2"), "kept text"))
	f.send(hide(r.ID, alice, m.Seq))
	for q, want := range map[string]int64{
		`SELECT count(*) FROM events WHERE body LIKE '%hidden secret%'`:                                              0,
		`SELECT count(*) FROM events WHERE body = 'kept text'`:                                                       1,
		`SELECT count(*) FROM events WHERE conv_id = '` + r.ID + `' AND kind = 'hide' AND sender_id = ''`:            1,
		`SELECT count(*) FROM events WHERE conv_id = '` + r.ID + `' AND kind = 'message' AND hidden > 0 AND deleted`: 1,
	} {
		n, err := count(f.ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n != want {
			t.Errorf("%s = %d, want %d", q, n, want)
		}
	}
}

// RunHideMigration checks migration 0011 of each store (hides and pins) on
// a database at schema version 10, which legacy returns: the events stored
// before are all there, sends stay idempotent, and hides work.
func RunHideMigration(t *testing.T, legacy func(t *testing.T) Legacy) {
	db := legacy(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	db.seed(ctx, t, 10, []string{
		`INSERT INTO users (id, name, role, updated_at) VALUES ('hm_alice', 'Alice', 'peer', 1), ('hm_bob', 'Bob', 'peer', 1)`,
		`INSERT INTO conversations (id, kind, name, topic, created_by, created_at, last_seq) VALUES
			('hm_room', 'room', 'Room', '', 'hm_alice', 1, 4)`,
		`INSERT INTO members (conv_id, user_id, joined_at, role) VALUES
			('hm_room', 'hm_alice', 1, 'owner'), ('hm_room', 'hm_bob', 2, 'member')`,
		`INSERT INTO events (conv_id, seq, kind, sender_id, client_id, body, target_seq, created_at, edited_at) VALUES
			('hm_room', 1, 'message', 'hm_bob', 'c1', 'first, edited', NULL, 10, 12),
			('hm_room', 2, 'message', 'hm_bob', 'c2', 'second', NULL, 11, NULL),
			('hm_room', 3, 'edit', 'hm_bob', NULL, 'first, edited', 1, 12, NULL)`,
		`INSERT INTO events (conv_id, seq, kind, sender_id, client_id, body, target_seq, created_at, deleted) VALUES
			('hm_room', 4, 'delete', 'hm_bob', NULL, '', 2, 13, false)`,
		`UPDATE events SET body = '', deleted = true WHERE conv_id = 'hm_room' AND seq = 2`,
	}...)
	f := newFixture(t, db.Open(t))
	evs := f.eventsAfter("hm_room", 0, 10)
	if len(evs) != 4 || evs[0].Body != "first, edited" || evs[0].EditedAt == nil || evs[0].ClientID != "c1" ||
		!evs[1].Deleted || evs[2].Target != 1 || evs[3].Kind != chat.EventDelete || evs[0].Hidden {
		f.Fatalf("events after migrating = %+v", evs)
	}
	again := f.append(msg("hm_room", "hm_bob", "c1", "first"))[0]
	if again.Err != nil || !again.Duplicate || again.Event.Seq != 1 {
		f.Errorf("a send repeated after migrating = %+v, want a duplicate of seq 1", again)
	}
	h := f.send(hide("hm_room", "hm_alice", 1))
	if h.Seq != 5 {
		f.Errorf("hide after migrating got seq %d, want 5", h.Seq)
	}
	if hist := f.history("hm_room", 0, 0, 10); len(hist) != 2 || !hist[0].Hidden || hist[0].Body != "" {
		f.Errorf("history after a hide = %+v", hist)
	}
}
