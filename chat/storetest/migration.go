package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// Legacy is a database as an older version of a store's schema left it,
// for testing the migrations that follow. The statements Exec runs are
// plain SQL both stores accept, without parameters.
type Legacy struct {
	// Exec runs one statement on the database.
	Exec func(ctx context.Context, query string) error
	// Open opens the store on the database, which applies the
	// migrations it has not seen yet.
	Open func(t *testing.T) chat.Store
}

// seed runs qs on the database at schema version, in order, and fails
// the test on the first that does not run.
func (db Legacy) seed(ctx context.Context, t *testing.T, version int, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if err := db.Exec(ctx, q); err != nil {
			t.Fatalf("seeding the version %d database: %v\n%s", version, err, q)
		}
	}
}

// RunRoleMigration checks the migration that gave memberships a role
// (chat.RoomRole, migration 0004 of each store) on a database at schema
// version 3, which legacy returns: a room's creator who is still a member
// becomes its owner, everybody else a member, and a creator who left stays
// out.
func RunRoleMigration(t *testing.T, legacy func(t *testing.T) Legacy) {
	db := legacy(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	db.seed(ctx, t, 3, []string{
		`INSERT INTO users (id, name, role, updated_at) VALUES
			('mig_alice', 'Alice', 'peer', 1), ('mig_bob', 'Bob', 'peer', 1), ('mig_carol', 'Carol', 'peer', 1)`,
		`INSERT INTO conversations (id, kind, name, topic, created_by, created_at) VALUES
			('mig_kept', 'room', 'Kept', '', 'mig_alice', 1),
			('mig_left', 'room', 'Left', '', 'mig_alice', 2),
			('mig_seeded', 'room', 'Seeded', '', '', 3)`,
		`INSERT INTO conversations (id, kind, created_by, created_at, dm_key) VALUES
			('mig_dm', 'dm', 'mig_alice', 4, 'legacy dm key')`,
		`INSERT INTO members (conv_id, user_id, joined_at) VALUES
			('mig_kept', 'mig_alice', 1), ('mig_kept', 'mig_bob', 2),
			('mig_left', 'mig_bob', 2), ('mig_seeded', 'mig_carol', 3),
			('mig_dm', 'mig_alice', 4), ('mig_dm', 'mig_bob', 4)`,
	}...)

	f := newFixture(t, db.Open(t))
	for _, c := range []struct {
		conv, user string
		want       chat.RoomRole
	}{
		{"mig_kept", "mig_alice", chat.RoomOwner},
		{"mig_kept", "mig_bob", chat.RoomMember},
		{"mig_left", "mig_alice", chat.RoomNone}, // the creator who left
		{"mig_left", "mig_bob", chat.RoomMember},
		{"mig_seeded", "mig_carol", chat.RoomMember},
		{"mig_dm", "mig_alice", chat.RoomMember}, // a DM has no owner
		{"mig_dm", "mig_bob", chat.RoomMember},
	} {
		if got := f.role(c.conv, c.user); got != c.want {
			f.Errorf("after migrating, %s's role in %s = %q, want %q", c.user, c.conv, got, c.want)
		}
	}
	convs, err := f.s.UserConversations(f.ctx, "mig_alice")
	if err != nil {
		f.Fatal(err)
	}
	roles := map[string]chat.RoomRole{}
	for _, c := range convs {
		roles[c.ID] = c.Role
	}
	if len(roles) != 2 || roles["mig_kept"] != chat.RoomOwner || roles["mig_dm"] != chat.RoomMember {
		f.Errorf("after migrating, alice's conversations have roles %v", roles)
	}
	// The creator who left comes back as a member; new rooms have owners.
	if err := f.s.Join(f.ctx, "mig_left", "mig_alice", 0); err != nil {
		f.Fatal(err)
	}
	if got := f.role("mig_left", "mig_alice"); got != chat.RoomMember {
		f.Errorf("the creator who left joined again as %q, want %q", got, chat.RoomMember)
	}
	if r := f.room("New", "mig_carol"); f.role(r.ID, "mig_carol") != chat.RoomOwner {
		f.Error("a room created after the migration has no owner")
	}
}
