package storetest

import (
	"errors"
	"time"

	"github.com/kindred-health/kindred/chat"
)

func testUsers(f *fixture) {
	id := f.id("alice")
	_, err := f.s.User(f.ctx, id)
	if !errors.Is(err, chat.ErrNotFound) {
		f.Fatalf("User(unknown) = %v, want ErrNotFound", err)
	}
	if chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("ErrorCode(User(unknown)) = %s", chat.ErrorCode(err))
	}

	want := chat.User{ID: id, Name: "Alice", Role: "peer"}
	if err := f.s.UpsertUser(f.ctx, want); err != nil {
		f.Fatalf("UpsertUser: %v", err)
	}
	got, err := f.s.User(f.ctx, id)
	if err != nil || got != want {
		f.Fatalf("User = %+v, %v; want %+v", got, err, want)
	}

	// Upserting again with the same values is fine; new values replace
	// the old ones.
	if err := f.s.UpsertUser(f.ctx, want); err != nil {
		f.Fatalf("UpsertUser again: %v", err)
	}
	want = chat.User{ID: id, Name: "Alice B.", Role: "moderator"}
	if err := f.s.UpsertUser(f.ctx, want); err != nil {
		f.Fatalf("UpsertUser (update): %v", err)
	}
	if got, err := f.s.User(f.ctx, id); err != nil || got != want {
		f.Fatalf("User after update = %+v, %v; want %+v", got, err, want)
	}

	// Roles unique to this run, since the database may be shared.
	on, off := f.id("oncall"), f.id("offcall")
	for _, u := range []chat.User{{ID: f.id("zed"), Name: "Zed", Role: on}, {ID: f.id("amy"), Name: "Amy", Role: on}, {ID: f.id("bo"), Name: "Bo", Role: off}} {
		if err := f.s.UpsertUser(f.ctx, u); err != nil {
			f.Fatalf("UpsertUser: %v", err)
		}
	}
	byRole, err := f.s.UsersByRole(f.ctx, on)
	if err != nil || len(byRole) != 2 || byRole[0].ID != f.id("amy") || byRole[1].ID != f.id("zed") || byRole[0].Role != on {
		f.Fatalf("UsersByRole(%s) = %+v, %v", on, byRole, err)
	}
	if both, err := f.s.UsersByRole(f.ctx, on, off); err != nil || len(both) != 3 {
		f.Fatalf("UsersByRole(two roles) = %+v, %v", both, err)
	}
	if none, err := f.s.UsersByRole(f.ctx, f.id("nobody")); err != nil || len(none) != 0 {
		f.Fatalf("UsersByRole(unused role) = %+v, %v", none, err)
	}
}

func testCreateRoom(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	start := time.Now()
	c, err := f.s.CreateRoom(f.ctx, chat.Conversation{Name: "Coping", Topic: "Daily check-in", CreatedBy: alice})
	if err != nil {
		f.Fatalf("CreateRoom: %v", err)
	}
	if c.ID == "" {
		f.Fatal("CreateRoom did not assign an ID")
	}
	if c.Kind != chat.KindRoom || c.Name != "Coping" || c.Topic != "Daily check-in" || c.CreatedBy != alice {
		f.Errorf("CreateRoom = %+v", c)
	}
	if !near(c.CreatedAt) || c.CreatedAt.Before(start.Add(-5*time.Second)) {
		f.Errorf("CreatedAt = %v, want about %v", c.CreatedAt, start)
	}
	if c.LastSeq != 0 {
		f.Errorf("new room LastSeq = %d", c.LastSeq)
	}

	got := f.conversation(c.ID)
	if got.ID != c.ID || got.Kind != chat.KindRoom || got.Name != c.Name || got.Topic != c.Topic ||
		got.CreatedBy != alice || !got.CreatedAt.Equal(c.CreatedAt) || got.LastSeq != 0 || got.Members != 1 {
		f.Errorf("Conversation = %+v, want %+v with 1 member", got, c)
	}
	if !f.isMember(c.ID, alice) {
		f.Error("the creator is not a member")
	}
	if f.isMember(c.ID, bob) {
		f.Error("bob is a member of a room he never joined")
	}

	c2 := f.room("Other", alice)
	if c2.ID == c.ID {
		f.Errorf("two rooms share ID %s", c.ID)
	}

	// A caller-chosen ID is kept, and a second room cannot take it.
	explicit := f.id("room")
	c3, err := f.s.CreateRoom(f.ctx, chat.Conversation{ID: explicit, Name: "Explicit", CreatedBy: bob})
	if err != nil || c3.ID != explicit {
		f.Fatalf("CreateRoom with ID = %+v, %v", c3, err)
	}
	if _, err := f.s.CreateRoom(f.ctx, chat.Conversation{ID: explicit, Name: "Clash", CreatedBy: alice}); err == nil {
		f.Error("CreateRoom with a taken ID succeeded")
	}
	if got := f.conversation(explicit); got.Name != "Explicit" || got.CreatedBy != bob {
		f.Errorf("after a clashing CreateRoom, Conversation = %+v", got)
	}

	_, err = f.s.Conversation(f.ctx, f.id("nope"))
	if !errors.Is(err, chat.ErrNotFound) {
		f.Errorf("Conversation(unknown) = %v, want ErrNotFound", err)
	}
}

func testRooms(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r1 := f.room("First", alice, bob)
	r2 := f.room("Second", bob)
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatalf("OpenDM: %v", err)
	}

	rooms, err := f.s.Rooms(f.ctx, alice)
	if err != nil {
		f.Fatalf("Rooms: %v", err)
	}
	i1, i2 := -1, -1
	for i, c := range rooms {
		switch c.ID {
		case r1.ID:
			i1 = i
			if c.Members != 2 || c.Name != "First" || c.Kind != chat.KindRoom {
				f.Errorf("Rooms entry %+v, want First with 2 members", c)
			}
		case r2.ID:
			i2 = i
			if c.Members != 1 {
				f.Errorf("Rooms entry %+v, want 1 member", c)
			}
		case dm.ID:
			f.Error("Rooms lists a DM")
		}
		if c.Kind != chat.KindRoom {
			f.Errorf("Rooms lists %s of kind %s", c.ID, c.Kind)
		}
	}
	if i1 < 0 || i2 < 0 {
		f.Fatalf("Rooms misses a room (positions %d, %d)", i1, i2)
	}
	if i1 > i2 {
		f.Error("Rooms is not oldest first")
	}
}

func testOpenDM(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	ab, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatalf("OpenDM: %v", err)
	}
	if ab.ID == "" || ab.Kind != chat.KindDM {
		f.Fatalf("OpenDM = %+v", ab)
	}
	ba, err := f.s.OpenDM(f.ctx, bob, alice)
	if err != nil || ba.ID != ab.ID {
		f.Fatalf("OpenDM(b, a) = %+v, %v; want conversation %s", ba, err, ab.ID)
	}
	again, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil || again.ID != ab.ID {
		f.Fatalf("OpenDM(a, b) again = %+v, %v; want %s", again, err, ab.ID)
	}
	c := f.conversation(ab.ID)
	if c.Kind != chat.KindDM || c.Members != 2 || c.LastSeq != 0 {
		f.Errorf("Conversation(dm) = %+v, want a DM with 2 members", c)
	}
	if !f.isMember(ab.ID, alice) || !f.isMember(ab.ID, bob) || f.isMember(ab.ID, carol) {
		f.Error("DM membership is not exactly {alice, bob}")
	}
	ac, err := f.s.OpenDM(f.ctx, alice, carol)
	if err != nil || ac.ID == ab.ID {
		f.Fatalf("OpenDM(alice, carol) = %+v, %v; want a new conversation", ac, err)
	}

	// Users who never connected can still be messaged.
	ghost := f.id("ghost")
	ag, err := f.s.OpenDM(f.ctx, alice, ghost)
	if err != nil || !f.isMember(ag.ID, ghost) {
		f.Errorf("OpenDM with an unknown user = %+v, %v", ag, err)
	}

	// A DM is messaged like a room.
	if e := f.send(msg(ab.ID, bob, f.id("c1"), "hi")); e.Seq != 1 {
		f.Errorf("first DM message Seq = %d", e.Seq)
	}
}

func testOpenDMConcurrent(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	const n = 16
	ids := make([]string, n)
	errs := make([]error, n)
	done := make(chan struct{})
	start := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			<-start
			a, b := alice, bob
			if i%2 == 1 {
				a, b = b, a
			}
			c, err := f.s.OpenDM(f.ctx, a, b)
			ids[i], errs[i] = c.ID, err
		}()
	}
	close(start)
	for range n {
		<-done
	}
	for i := range n {
		if errs[i] != nil {
			f.Fatalf("OpenDM #%d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			f.Fatalf("concurrent OpenDM returned %s and %s", ids[0], ids[i])
		}
	}
	if c := f.conversation(ids[0]); c.Members != 2 {
		f.Errorf("DM has %d members, want 2", c.Members)
	}
	convs, err := f.s.UserConversations(f.ctx, alice)
	if err != nil {
		f.Fatalf("UserConversations: %v", err)
	}
	if len(convs) != 1 {
		f.Errorf("alice has %d conversations after concurrent OpenDM, want 1", len(convs))
	}
}

func testRoomPolicy(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	room := f.room("policy", alice)
	if p, err := f.s.RoomPolicy(f.ctx, room.ID); err != nil || p.HoldImminent {
		f.Fatalf("RoomPolicy of a new room = %+v, %v; want the zero policy", p, err)
	}
	if err := f.s.SetRoomPolicy(f.ctx, room.ID, chat.RoomPolicy{HoldImminent: true}); err != nil {
		f.Fatalf("SetRoomPolicy: %v", err)
	}
	if p, err := f.s.RoomPolicy(f.ctx, room.ID); err != nil || !p.HoldImminent {
		f.Fatalf("RoomPolicy after set = %+v, %v", p, err)
	}
	if err := f.s.SetRoomPolicy(f.ctx, room.ID, chat.RoomPolicy{}); err != nil {
		f.Fatalf("SetRoomPolicy (clear): %v", err)
	}
	if p, _ := f.s.RoomPolicy(f.ctx, room.ID); p.HoldImminent {
		f.Fatalf("RoomPolicy after clearing = %+v", p)
	}
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatal(err)
	}
	wantCode(f.T, "RoomPolicy(DM)", func() error { _, err := f.s.RoomPolicy(f.ctx, dm.ID); return err }(), chat.CodeNotFound)
	wantCode(f.T, "SetRoomPolicy(unknown)", f.s.SetRoomPolicy(f.ctx, f.id("nope"), chat.RoomPolicy{HoldImminent: true}), chat.CodeNotFound)
}
