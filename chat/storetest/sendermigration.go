package storetest

import (
	"context"
	"slices"
	"testing"
	"time"
)

// RunSenderMigration checks migration 0024 of each store (event_senders in
// place of the index on events by sender) on a database at schema version
// 23, which legacy returns: the export and the erasure of a user find the
// messages written before the migration, in every room, and those written
// after it in a room they had not written in (the trigger's pair), and
// leave other users' messages alone.
func RunSenderMigration(t *testing.T, legacy func(t *testing.T) Legacy) {
	db := legacy(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	db.seed(ctx, t, 23, []string{
		`INSERT INTO users (id, name, role, updated_at) VALUES ('sm_alice', 'Alice', 'peer', 1), ('sm_bob', 'Bob', 'peer', 1)`,
		`INSERT INTO conversations (id, kind, name, topic, created_by, created_at, last_seq) VALUES
			('sm_a', 'room', 'A', '', 'sm_alice', 1, 3), ('sm_b', 'room', 'B', '', 'sm_alice', 1, 1)`,
		`INSERT INTO members (conv_id, user_id, joined_at, role) VALUES
			('sm_a', 'sm_alice', 1, 'owner'), ('sm_a', 'sm_bob', 2, 'member'), ('sm_b', 'sm_alice', 1, 'owner')`,
		`INSERT INTO events (conv_id, seq, kind, sender_id, client_id, body, target_seq, created_at, edited_at) VALUES
			('sm_a', 1, 'message', 'sm_bob', 'c1', 'bob before, edited', NULL, 10, 12),
			('sm_a', 2, 'message', 'sm_alice', 'c2', 'alice in a', NULL, 11, NULL),
			('sm_a', 3, 'edit', 'sm_bob', NULL, 'bob before, edited', 1, 12, NULL),
			('sm_b', 1, 'message', 'sm_alice', 'c3', 'alice in b', NULL, 13, NULL)`,
	}...)
	f := newFixture(t, db.Open(t))
	c := f.room("C", "sm_alice")
	f.send(msg(c.ID, "sm_alice", "c4", "alice after"))
	x, err := f.s.ExportUser(f.ctx, "sm_alice")
	if err != nil {
		f.Fatalf("ExportUser: %v", err)
	}
	var bodies []string
	for _, e := range x.Messages {
		bodies = append(bodies, e.Body)
	}
	slices.Sort(bodies)
	if want := []string{"alice after", "alice in a", "alice in b"}; !slices.Equal(bodies, want) {
		f.Errorf("exported messages after migrating = %q, want %q", bodies, want)
	}
	er, err := f.s.EraseUser(f.ctx, "sm_bob")
	if err != nil {
		f.Fatalf("EraseUser: %v", err)
	}
	if er.Erased["messages"] != 1 || er.Erased["edits"] != 1 {
		f.Errorf("erasure after migrating = %+v, want 1 message and 1 edit", er.Erased)
	}
	evs := f.eventsAfter("sm_a", 0, 10)
	if len(evs) != 3 || evs[0].Body != "" || !evs[0].Deleted || evs[1].Body != "alice in a" {
		f.Errorf("room A after erasing bob = %+v", evs)
	}
}
