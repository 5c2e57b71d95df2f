package storetest

import (
	"errors"
	"slices"

	"github.com/kindred-health/kindred/chat"
)

func testJoin(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Room", alice)

	if err := f.s.Join(f.ctx, r.ID, bob, 0); err != nil {
		f.Fatalf("Join: %v", err)
	}
	if !f.isMember(r.ID, bob) {
		f.Fatal("bob is not a member after Join")
	}
	// Joining twice is not an error and adds no second membership.
	if err := f.s.Join(f.ctx, r.ID, bob, 0); err != nil {
		f.Fatalf("second Join: %v", err)
	}
	if c := f.conversation(r.ID); c.Members != 2 {
		f.Errorf("Members = %d after a double Join, want 2", c.Members)
	}

	err := f.s.Join(f.ctx, f.id("no-such-room"), bob, 0)
	if !errors.Is(err, chat.ErrNotFound) {
		f.Errorf("Join(unknown room) = %v, want ErrNotFound", err)
	}

	// DMs are not joinable, not even by their own members.
	carol := f.user("carol")
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatalf("OpenDM: %v", err)
	}
	if err := f.s.Join(f.ctx, dm.ID, carol, 0); !errors.Is(err, chat.ErrNotFound) {
		f.Errorf("Join(dm) = %v, want ErrNotFound", err)
	}
	if f.isMember(dm.ID, carol) {
		f.Error("carol joined a DM")
	}
	if c := f.conversation(dm.ID); c.Members != 2 {
		f.Errorf("DM has %d members, want 2", c.Members)
	}
}

func testJoinRoomLimit(f *fixture) {
	owner, u := f.user("owner"), f.user("u")
	r1, r2, r3, r4 := f.room("1", owner), f.room("2", owner), f.room("3", owner), f.room("4", owner)
	// A DM does not count towards the limit.
	if _, err := f.s.OpenDM(f.ctx, u, owner); err != nil {
		f.Fatalf("OpenDM: %v", err)
	}

	for _, r := range []chat.Conversation{r1, r2} {
		if err := f.s.Join(f.ctx, r.ID, u, 2); err != nil {
			f.Fatalf("Join(%s) under the limit: %v", r.Name, err)
		}
	}
	err := f.s.Join(f.ctx, r3.ID, u, 2)
	wantCode(f, "Join over the limit", err, chat.CodeRoomLimit)
	if chat.ErrorCode(err) != chat.CodeRoomLimit {
		f.Errorf("ErrorCode = %s, want %s", chat.ErrorCode(err), chat.CodeRoomLimit)
	}
	if f.isMember(r3.ID, u) {
		f.Error("a refused Join made u a member")
	}
	// Re-joining a room one is in is fine even at the limit.
	if err := f.s.Join(f.ctx, r1.ID, u, 2); err != nil {
		f.Errorf("re-Join at the limit: %v", err)
	}
	// maxRooms <= 0 means no limit.
	if err := f.s.Join(f.ctx, r3.ID, u, 0); err != nil {
		f.Errorf("Join with maxRooms 0: %v", err)
	}
	if err := f.s.Join(f.ctx, r4.ID, u, -1); err != nil {
		f.Errorf("Join with maxRooms -1: %v", err)
	}
	// Leaving frees a place.
	if err := f.s.Join(f.ctx, f.room("5", owner).ID, u, 4); chat.ErrorCode(err) != chat.CodeRoomLimit {
		f.Errorf("Join a 5th room with limit 4 = %v, want room_limit", err)
	}
	if err := f.s.Leave(f.ctx, r4.ID, u); err != nil {
		f.Fatalf("Leave: %v", err)
	}
	if err := f.s.Join(f.ctx, f.room("6", owner).ID, u, 4); err != nil {
		f.Errorf("Join after Leave freed a place: %v", err)
	}
}

func testLeave(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	r := f.room("Room", alice, bob)

	if err := f.s.Leave(f.ctx, r.ID, bob); err != nil {
		f.Fatalf("Leave: %v", err)
	}
	if f.isMember(r.ID, bob) {
		f.Error("bob is still a member after Leave")
	}
	if c := f.conversation(r.ID); c.Members != 1 {
		f.Errorf("Members = %d after Leave, want 1", c.Members)
	}
	// Leaving again, or a room one never joined, is not an error.
	if err := f.s.Leave(f.ctx, r.ID, bob); err != nil {
		f.Errorf("second Leave: %v", err)
	}
	if err := f.s.Leave(f.ctx, r.ID, carol); err != nil {
		f.Errorf("Leave by a non-member: %v", err)
	}

	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatalf("OpenDM: %v", err)
	}
	wantCode(f, "Leave(dm)", f.s.Leave(f.ctx, dm.ID, alice), chat.CodeForbidden)
	if !f.isMember(dm.ID, alice) {
		f.Error("a refused Leave removed alice from the DM")
	}
	// Messages from a former member are refused.
	f.refused(msg(r.ID, bob, f.id("late"), "still here?"), chat.ErrNotMember)
}

func testMembers(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	ghost := f.id("ghost") // never upserted
	r := f.room("Room", alice, bob, carol, ghost)

	ms, err := f.s.Members(f.ctx, r.ID)
	if err != nil {
		f.Fatalf("Members: %v", err)
	}
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
		if m.Online {
			f.Errorf("member %s is Online; the store leaves presence false", m.ID)
		}
		if m.JoinedAt.IsZero() || !near(m.JoinedAt) {
			f.Errorf("member %s JoinedAt = %v", m.ID, m.JoinedAt)
		}
	}
	if want := []string{alice, bob, carol, ghost}; !slices.Equal(ids, want) {
		f.Fatalf("Members = %v, want %v (oldest membership first)", ids, want)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].JoinedAt.Before(ms[i-1].JoinedAt) {
			f.Errorf("JoinedAt goes backwards: %v then %v", ms[i-1].JoinedAt, ms[i].JoinedAt)
		}
	}
	if ms[1].Name != displayName("bob") || ms[1].Role != "peer" {
		f.Errorf("member bob = %+v, want name and role filled from the user", ms[1].User)
	}

	// Leaving and joining again moves one to the end.
	if err := f.s.Leave(f.ctx, r.ID, bob); err != nil {
		f.Fatal(err)
	}
	if err := f.s.Join(f.ctx, r.ID, bob, 0); err != nil {
		f.Fatal(err)
	}
	ms, err = f.s.Members(f.ctx, r.ID)
	if err != nil {
		f.Fatal(err)
	}
	if len(ms) != 4 || ms[3].ID != bob {
		f.Errorf("after re-joining, bob is not the newest member: %+v", ms)
	}

	if ms, err := f.s.Members(f.ctx, f.id("nope")); err != nil || len(ms) != 0 {
		f.Errorf("Members(unknown) = %v, %v; want none", ms, err)
	}
	if f.isMember(f.id("nope"), alice) {
		f.Error("IsMember(unknown conversation) = true")
	}
}

func (f *fixture) role(conv, user string) chat.RoomRole {
	f.Helper()
	r, err := f.s.MemberRole(f.ctx, conv, user)
	if err != nil {
		f.Fatalf("MemberRole(%s, %s): %v", conv, user, err)
	}
	return r
}

// testMemberRole: the creator owns a room, those who join are members,
// both sides of a DM are members, and anyone else has no role, without an
// error, even in a conversation that does not exist.
func testMemberRole(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	r := f.room("Room", alice, bob)
	if got := f.role(r.ID, alice); got != chat.RoomOwner {
		f.Errorf("creator's role = %q, want %q", got, chat.RoomOwner)
	}
	if got := f.role(r.ID, bob); got != chat.RoomMember {
		f.Errorf("joiner's role = %q, want %q", got, chat.RoomMember)
	}
	if got := f.role(r.ID, carol); got != chat.RoomNone {
		f.Errorf("non-member's role = %q, want none", got)
	}
	if got := f.role(f.id("no-such-room"), alice); got != chat.RoomNone {
		f.Errorf("role in an unknown conversation = %q, want none", got)
	}
	// An operator-seeded room (no creator) has no owner until someone
	// is made one; joiners are members.
	seeded, err := f.s.CreateRoom(f.ctx, chat.Conversation{ID: f.id("seeded"), Name: "Seeded"})
	if err != nil {
		f.Fatalf("CreateRoom without a creator: %v", err)
	}
	if err := f.s.Join(f.ctx, seeded.ID, carol, 0); err != nil {
		f.Fatal(err)
	}
	if got := f.role(seeded.ID, carol); got != chat.RoomMember {
		f.Errorf("joiner of a seeded room = %q, want %q", got, chat.RoomMember)
	}

	dm, err := f.s.OpenDM(f.ctx, bob, carol)
	if err != nil {
		f.Fatalf("OpenDM: %v", err)
	}
	for _, u := range []string{bob, carol} {
		if got := f.role(dm.ID, u); got != chat.RoomMember {
			f.Errorf("DM role of %s = %q, want %q", u, got, chat.RoomMember)
		}
	}
	if got := f.role(dm.ID, alice); got != chat.RoomNone {
		f.Errorf("outsider's role in a DM = %q, want none", got)
	}

	// Leaving ends the role.
	if err := f.s.Leave(f.ctx, r.ID, bob); err != nil {
		f.Fatal(err)
	}
	if got := f.role(r.ID, bob); got != chat.RoomNone {
		f.Errorf("role after Leave = %q, want none", got)
	}
}

// testMemberRoleRejoin: joining a room one is in keeps one's role; the
// owner who joins again is still the owner.
func testMemberRoleRejoin(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Room", alice, bob)
	for _, limit := range []int{0, 1, 5} {
		if err := f.s.Join(f.ctx, r.ID, alice, limit); err != nil {
			f.Fatalf("owner re-Join (limit %d): %v", limit, err)
		}
		if err := f.s.Join(f.ctx, r.ID, bob, limit); err != nil {
			f.Fatalf("member re-Join (limit %d): %v", limit, err)
		}
	}
	if got := f.role(r.ID, alice); got != chat.RoomOwner {
		f.Errorf("owner's role after joining again = %q, want %q", got, chat.RoomOwner)
	}
	if got := f.role(r.ID, bob); got != chat.RoomMember {
		f.Errorf("member's role after joining again = %q, want %q", got, chat.RoomMember)
	}
	if c := f.conversation(r.ID); c.Members != 2 {
		f.Errorf("Members = %d after re-Joins, want 2", c.Members)
	}
	// A creator who left and comes back is an ordinary member: leaving
	// gave the room up.
	if err := f.s.Leave(f.ctx, r.ID, alice); err != nil {
		f.Fatal(err)
	}
	if err := f.s.Join(f.ctx, r.ID, alice, 0); err != nil {
		f.Fatal(err)
	}
	if got := f.role(r.ID, alice); got != chat.RoomMember {
		f.Errorf("returning creator's role = %q, want %q", got, chat.RoomMember)
	}
}

// testUserConversationsRole: UserConversations says which role the user
// has in each conversation.
func testUserConversationsRole(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	own := f.room("Own", alice)
	joined := f.room("Joined", bob, alice)
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatalf("OpenDM: %v", err)
	}
	want := map[string]chat.RoomRole{own.ID: chat.RoomOwner, joined.ID: chat.RoomMember, dm.ID: chat.RoomMember}
	convs, err := f.s.UserConversations(f.ctx, alice)
	if err != nil {
		f.Fatalf("UserConversations: %v", err)
	}
	if len(convs) != len(want) {
		f.Fatalf("UserConversations = %+v, want %d conversations", convs, len(want))
	}
	for _, c := range convs {
		if c.Role != want[c.ID] {
			f.Errorf("UserConversations: role in %s (%s) = %q, want %q", c.Name, c.ID, c.Role, want[c.ID])
		}
	}
	bobs, err := f.s.UserConversations(f.ctx, bob)
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range bobs {
		if c.ID == joined.ID && c.Role != chat.RoomOwner {
			f.Errorf("bob's role in his own room = %q, want %q", c.Role, chat.RoomOwner)
		}
	}
	// Conversation and Rooms are not about one user: no role.
	if c := f.conversation(own.ID); c.Role != chat.RoomNone {
		f.Errorf("Conversation filled Role = %q", c.Role)
	}
}

func testUserConversations(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	own := f.room("Own", alice)
	joined := f.room("Joined", bob, alice)
	notMine := f.room("NotMine", carol)
	dm, err := f.s.OpenDM(f.ctx, bob, alice)
	if err != nil {
		f.Fatalf("OpenDM: %v", err)
	}
	f.append(msg(own.ID, alice, f.id("1"), "a"), msg(own.ID, alice, f.id("2"), "b"), msg(own.ID, alice, f.id("3"), "c"))
	f.send(msg(dm.ID, bob, f.id("4"), "hey"))

	convs, err := f.s.UserConversations(f.ctx, alice)
	if err != nil {
		f.Fatalf("UserConversations: %v", err)
	}
	byID := map[string]chat.Conversation{}
	for _, c := range convs {
		byID[c.ID] = c
	}
	if len(convs) != 3 || len(byID) != 3 {
		f.Fatalf("UserConversations = %+v, want exactly Own, Joined and the DM", convs)
	}
	if _, ok := byID[notMine.ID]; ok {
		f.Error("UserConversations lists a room alice is not in")
	}
	if c := byID[own.ID]; c.Kind != chat.KindRoom || c.Name != "Own" || c.LastSeq != 3 {
		f.Errorf("Own = %+v, want room named Own with LastSeq 3", c)
	}
	if c := byID[joined.ID]; c.Kind != chat.KindRoom || c.Name != "Joined" || c.LastSeq != 0 {
		f.Errorf("Joined = %+v", c)
	}
	if c := byID[dm.ID]; c.Kind != chat.KindDM || c.Name != displayName("bob") || c.LastSeq != 1 || c.Peer != bob {
		f.Errorf("DM for alice = %+v, want Name %q, Peer %q and LastSeq 1", c, displayName("bob"), bob)
	}
	if c := byID[own.ID]; c.Peer != "" {
		f.Errorf("a room has Peer %q", c.Peer)
	}
	// The other side sees the other name.
	bobs, err := f.s.UserConversations(f.ctx, bob)
	if err != nil {
		f.Fatal(err)
	}
	found := false
	for _, c := range bobs {
		if c.ID == dm.ID {
			found = true
			if c.Name != displayName("alice") || c.Peer != alice {
				f.Errorf("DM for bob is named %q with peer %q, want %q and %q", c.Name, c.Peer, displayName("alice"), alice)
			}
		}
	}
	if !found {
		f.Error("bob's conversations miss the DM")
	}

	if err := f.s.Leave(f.ctx, joined.ID, alice); err != nil {
		f.Fatal(err)
	}
	convs, err = f.s.UserConversations(f.ctx, alice)
	if err != nil {
		f.Fatal(err)
	}
	if len(convs) != 2 {
		f.Errorf("after Leave, UserConversations = %+v, want 2", convs)
	}
	if convs, err := f.s.UserConversations(f.ctx, f.id("nobody")); err != nil || len(convs) != 0 {
		f.Errorf("UserConversations(unknown) = %+v, %v; want none", convs, err)
	}
}
