package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// The room settings (chat.RoomSettings): visibility and history, and the
// join points that history visibility is built on (MemberSince).

func testRoomSettings(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	def := f.room("Default", alice)
	if def.Visibility != chat.VisibilityPublic || def.History != chat.HistoryJoined {
		f.Errorf("CreateRoom without settings = %q/%q, want public/joined", def.Visibility, def.History)
	}
	priv, err := f.s.CreateRoom(f.ctx, chat.Conversation{Name: "Private", CreatedBy: alice,
		Visibility: chat.VisibilityPrivate, History: chat.HistoryShared})
	if err != nil {
		f.Fatal(err)
	}
	f.wantSettings(priv.ID, chat.VisibilityPrivate, chat.HistoryShared)
	for _, bad := range []chat.Conversation{
		{Name: "Bad", CreatedBy: alice, Visibility: "secret"},
		{Name: "Bad", CreatedBy: alice, History: "all"},
	} {
		if _, err := f.s.CreateRoom(f.ctx, bad); chat.ErrorCode(err) != chat.CodeInvalidField {
			f.Errorf("CreateRoom(%q/%q) = %v, want invalid_field", bad.Visibility, bad.History, err)
		}
	}

	// A change of one setting keeps the other.
	if err := f.s.SetRoomSettings(f.ctx, def.ID, chat.RoomSettings{Visibility: chat.VisibilityPrivate}); err != nil {
		f.Fatal(err)
	}
	f.wantSettings(def.ID, chat.VisibilityPrivate, chat.HistoryJoined)
	if err := f.s.SetRoomSettings(f.ctx, def.ID, chat.RoomSettings{History: chat.HistoryShared}); err != nil {
		f.Fatal(err)
	}
	f.wantSettings(def.ID, chat.VisibilityPrivate, chat.HistoryShared)
	if err := f.s.SetRoomSettings(f.ctx, def.ID, chat.RoomSettings{History: "all"}); chat.ErrorCode(err) != chat.CodeInvalidField {
		f.Errorf("SetRoomSettings(history all) = %v, want invalid_field", err)
	}
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatal(err)
	}
	if dm.Visibility != "" || dm.History != "" {
		f.Errorf("a DM has settings %q/%q, want none", dm.Visibility, dm.History)
	}
	for _, id := range []string{dm.ID, f.id("nope")} {
		if err := f.s.SetRoomSettings(f.ctx, id, chat.RoomSettings{History: chat.HistoryShared}); chat.ErrorCode(err) != chat.CodeNotFound {
			f.Errorf("SetRoomSettings(%s) = %v, want not_found", id, err)
		}
	}
}

// wantSettings checks conv's settings as Conversation reads them.
func (f *fixture) wantSettings(conv string, v chat.Visibility, h chat.HistoryMode) {
	f.Helper()
	if c := f.conversation(conv); c.Visibility != v || c.History != h {
		f.Errorf("%s's settings = %q/%q, want %q/%q", conv, c.Visibility, c.History, v, h)
	}
}

func testRoomsVisibility(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	pub := f.room("Public", alice)
	priv, err := f.s.CreateRoom(f.ctx, chat.Conversation{Name: "Private", CreatedBy: alice, Visibility: chat.VisibilityPrivate})
	if err != nil {
		f.Fatal(err)
	}
	listed := func(viewer string) map[string]bool {
		f.Helper()
		rooms, err := f.s.Rooms(f.ctx, viewer)
		if err != nil {
			f.Fatalf("Rooms(%s): %v", viewer, err)
		}
		out := map[string]bool{}
		for _, c := range rooms {
			out[c.ID] = true
			if c.ID == priv.ID && c.Visibility != chat.VisibilityPrivate {
				f.Errorf("Rooms lists the private room as %q", c.Visibility)
			}
		}
		return out
	}
	for _, c := range []struct {
		viewer     string
		wantPublic bool
		wantPriv   bool
	}{{alice, true, true}, {bob, true, false}, {"", true, false}} {
		got := listed(c.viewer)
		if got[pub.ID] != c.wantPublic || got[priv.ID] != c.wantPriv {
			f.Errorf("Rooms(%q): public %v, private %v; want %v, %v", c.viewer, got[pub.ID], got[priv.ID], c.wantPublic, c.wantPriv)
		}
	}
	// Members (added by Join, which does not look at visibility) see it;
	// leaving hides it again.
	if err := f.s.Join(f.ctx, priv.ID, carol, 0); err != nil {
		f.Fatal(err)
	}
	if !listed(carol)[priv.ID] {
		f.Error("a member of a private room does not see it listed")
	}
	if err := f.s.Leave(f.ctx, priv.ID, carol); err != nil {
		f.Fatal(err)
	}
	if listed(carol)[priv.ID] {
		f.Error("a private room is still listed to someone who left it")
	}
}

func testMemberSince(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Joined", alice)
	f.wantSince(r.ID, alice, 0)
	for _, id := range []string{"m1", "m2", "m3"} {
		f.send(msg(r.ID, alice, id, "before bob"))
	}
	f.wantSince(r.ID, bob, 0) // not a member
	if err := f.s.Join(f.ctx, r.ID, bob, 0); err != nil {
		f.Fatal(err)
	}
	f.wantSince(r.ID, bob, 3)
	f.send(msg(r.ID, alice, "m4", "after bob"))
	if err := f.s.Join(f.ctx, r.ID, bob, 0); err != nil { // again: the first point stays
		f.Fatal(err)
	}
	f.wantSince(r.ID, bob, 3)
	f.wantJoinedSeq(bob, r.ID, 3)

	// Leaving and joining again starts a new point.
	if err := f.s.Leave(f.ctx, r.ID, bob); err != nil {
		f.Fatal(err)
	}
	f.send(msg(r.ID, alice, "m5", "while bob was away"))
	if err := f.s.Join(f.ctx, r.ID, bob, 0); err != nil {
		f.Fatal(err)
	}
	f.wantSince(r.ID, bob, 5)

	// Shared history: nothing is hidden; the point is kept for a return
	// to joined history.
	if err := f.s.SetRoomSettings(f.ctx, r.ID, chat.RoomSettings{History: chat.HistoryShared}); err != nil {
		f.Fatal(err)
	}
	f.wantSince(r.ID, bob, 0)
	f.wantJoinedSeq(bob, r.ID, 0)
	if err := f.s.SetRoomSettings(f.ctx, r.ID, chat.RoomSettings{History: chat.HistoryJoined}); err != nil {
		f.Fatal(err)
	}
	f.wantSince(r.ID, bob, 5)

	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatal(err)
	}
	f.wantSince(dm.ID, bob, 0)
	f.wantSince(f.id("nope"), bob, 0)
}

func (f *fixture) wantSince(conv, user string, want int64) {
	f.Helper()
	got, err := f.s.MemberSince(f.ctx, conv, user)
	if err != nil || got != want {
		f.Errorf("MemberSince(%s, %s) = %d, %v; want %d", conv, user, got, err, want)
	}
}

// wantJoinedSeq checks the history floor UserConversations gives user in
// conv.
func (f *fixture) wantJoinedSeq(user, conv string, want int64) {
	f.Helper()
	convs, err := f.s.UserConversations(f.ctx, user)
	if err != nil {
		f.Fatal(err)
	}
	for i := range convs {
		if convs[i].ID == conv {
			if got := convs[i].HistoryFloor(); got != want {
				f.Errorf("UserConversations(%s): %s's history floor = %d (joined at %d, %s), want %d",
					user, conv, got, convs[i].JoinedSeq, convs[i].History, want)
			}
			return
		}
	}
	f.Errorf("UserConversations(%s) lacks %s", user, conv)
}

// RunSettingsMigration checks the migration that gave rooms their
// settings and memberships their join points (migration 0005 of each
// store) on a database at schema version 4, which legacy returns: rooms
// that existed become public with shared history, so nobody loses or gains
// sight of anything; DMs have no settings; new rooms get the defaults.
func RunSettingsMigration(t *testing.T, legacy func(t *testing.T) Legacy) {
	db := legacy(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	db.seed(ctx, t, 4, []string{
		`INSERT INTO users (id, name, role, updated_at) VALUES ('set_alice', 'Alice', 'peer', 1), ('set_bob', 'Bob', 'peer', 1)`,
		`INSERT INTO conversations (id, kind, name, topic, created_by, created_at, last_seq) VALUES
			('set_room', 'room', 'Old', '', 'set_alice', 1, 2)`,
		`INSERT INTO conversations (id, kind, created_by, created_at, dm_key) VALUES ('set_dm', 'dm', 'set_alice', 2, 'legacy key')`,
		`INSERT INTO members (conv_id, user_id, joined_at, role) VALUES
			('set_room', 'set_alice', 1, 'owner'), ('set_room', 'set_bob', 5, 'member'),
			('set_dm', 'set_alice', 2, 'member'), ('set_dm', 'set_bob', 2, 'member')`,
		`INSERT INTO events (conv_id, seq, kind, sender_id, client_id, body, created_at) VALUES
			('set_room', 1, 'message', 'set_alice', 'a', 'one', 3), ('set_room', 2, 'message', 'set_alice', 'b', 'two', 4)`,
	}...)

	f := newFixture(t, db.Open(t))
	f.wantSettings("set_room", chat.VisibilityPublic, chat.HistoryShared)
	if dm := f.conversation("set_dm"); dm.Visibility != "" || dm.History != "" {
		f.Errorf("after migrating, the DM has settings %q/%q", dm.Visibility, dm.History)
	}
	f.wantSince("set_room", "set_bob", 0)
	f.wantJoinedSeq("set_bob", "set_room", 0)
	carol := f.user("carol")
	if err := f.s.Join(f.ctx, "set_room", carol, 0); err != nil {
		f.Fatal(err)
	}
	f.wantSince("set_room", carol, 0) // shared history: a newcomer reads it all
	if rooms, err := f.s.Rooms(f.ctx, carol); err != nil || !containsRoom(rooms, "set_room") {
		f.Errorf("after migrating, Rooms = %v, %v; want the old room listed", rooms, err)
	}
	if r := f.room("New", carol); r.Visibility != chat.VisibilityPublic || r.History != chat.HistoryJoined {
		f.Errorf("a room created after the migration is %q/%q, want public/joined", r.Visibility, r.History)
	}
}

func containsRoom(rooms []chat.Conversation, id string) bool {
	for _, c := range rooms {
		if c.ID == id {
			return true
		}
	}
	return false
}
