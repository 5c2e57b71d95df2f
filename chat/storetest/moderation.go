package storetest

import (
	"time"

	"github.com/kindred-health/kindred/chat"
)

// testSetMemberRole: members become moderators and back; the owner's role
// never changes; non-members, DMs and other roles are refused.
func testSetMemberRole(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	r := f.room("Room", alice, bob)
	if err := f.s.SetMemberRole(f.ctx, r.ID, bob, chat.RoomModerator); err != nil {
		f.Fatalf("SetMemberRole(moderator): %v", err)
	}
	if got := f.role(r.ID, bob); got != chat.RoomModerator {
		f.Errorf("role after SetMemberRole = %q, want moderator", got)
	}
	if err := f.s.SetMemberRole(f.ctx, r.ID, bob, chat.RoomMember); err != nil || f.role(r.ID, bob) != chat.RoomMember {
		f.Errorf("SetMemberRole(member): %v, role %q", err, f.role(r.ID, bob))
	}
	if err := f.s.SetMemberRole(f.ctx, r.ID, bob, chat.RoomOwner); chat.ErrorCode(err) != chat.CodeInvalidField {
		f.Errorf("SetMemberRole(owner) = %v, want invalid_field", err)
	}
	if err := f.s.SetMemberRole(f.ctx, r.ID, alice, chat.RoomMember); chat.ErrorCode(err) != chat.CodeForbidden {
		f.Errorf("demoting the owner = %v, want forbidden", err)
	}
	if err := f.s.SetMemberRole(f.ctx, r.ID, carol, chat.RoomModerator); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("SetMemberRole of a non-member = %v, want not_found", err)
	}
	dm, err := f.s.OpenDM(f.ctx, bob, carol)
	if err != nil {
		f.Fatal(err)
	}
	if err := f.s.SetMemberRole(f.ctx, dm.ID, bob, chat.RoomModerator); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("SetMemberRole in a DM = %v, want not_found", err)
	}
}

func (f *fixture) mutedIn(conv, user string) (fromGet, fromList int64) {
	f.Helper()
	fromGet, err := f.s.MutedUntil(f.ctx, conv, user)
	if err != nil {
		f.Fatalf("MutedUntil: %v", err)
	}
	cs, err := f.s.UserConversations(f.ctx, user)
	if err != nil {
		f.Fatalf("UserConversations: %v", err)
	}
	for _, c := range cs {
		if c.ID == conv {
			fromList = c.MutedUntil
		}
	}
	return fromGet, fromList
}

// testMute: a mute is kept per membership, read back by MutedUntil and
// UserConversations, lifted by 0, reads 0 once over, and outlives a leave
// or a ban: the next membership takes it back.
func testMute(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	r := f.room("Room", alice, bob)
	until := time.Now().Add(time.Hour).UnixNano()
	if err := f.s.SetMute(f.ctx, r.ID, bob, until); err != nil {
		f.Fatalf("SetMute: %v", err)
	}
	if g, l := f.mutedIn(r.ID, bob); g != until || l != until {
		f.Errorf("muted until = %d, %d; want %d", g, l, until)
	}
	if g, _ := f.mutedIn(r.ID, alice); g != 0 {
		f.Errorf("someone else's mute = %d, want 0", g)
	}
	if err := f.s.SetMute(f.ctx, r.ID, bob, chat.MutedForever); err != nil {
		f.Fatal(err)
	}
	if g, l := f.mutedIn(r.ID, bob); g != chat.MutedForever || l != chat.MutedForever {
		f.Errorf("muted until lifted = %d, %d", g, l)
	}
	if err := f.s.SetMute(f.ctx, r.ID, bob, 0); err != nil {
		f.Fatal(err)
	}
	if g, l := f.mutedIn(r.ID, bob); g != 0 || l != 0 {
		f.Errorf("after lifting: %d, %d; want 0", g, l)
	}
	if err := f.s.SetMute(f.ctx, r.ID, bob, time.Now().Add(-time.Minute).UnixNano()); err != nil {
		f.Fatal(err)
	}
	if g, l := f.mutedIn(r.ID, bob); g != 0 || l != 0 {
		f.Errorf("a mute that is over reads %d, %d; want 0", g, l)
	}
	if err := f.s.SetMute(f.ctx, r.ID, carol, until); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("muting a non-member = %v, want not_found", err)
	}
	if err := f.s.SetMute(f.ctx, r.ID, bob, until); err != nil {
		f.Fatal(err)
	}
	if err := f.s.Leave(f.ctx, r.ID, bob); err != nil {
		f.Fatal(err)
	}
	if err := f.s.Join(f.ctx, r.ID, bob, 0); err != nil {
		f.Fatal(err)
	}
	if g, l := f.mutedIn(r.ID, bob); g != until || l != until {
		f.Errorf("leaving and joining again: muted until %d, %d; want %d", g, l, until)
	}
	// A lifted mute stays lifted across a leave; a ban keeps the mute.
	if err := f.s.SetMute(f.ctx, r.ID, bob, 0); err != nil {
		f.Fatal(err)
	}
	f.leaveJoin(r.ID, bob)
	if g, _ := f.mutedIn(r.ID, bob); g != 0 {
		f.Errorf("a lifted mute came back after a rejoin: %d", g)
	}
	if err := f.s.SetMute(f.ctx, r.ID, bob, chat.MutedForever); err != nil {
		f.Fatal(err)
	}
	if err := f.s.Ban(f.ctx, r.ID, bob, alice, chat.MutedForever); err != nil {
		f.Fatal(err)
	}
	if err := f.s.Unban(f.ctx, r.ID, bob); err != nil {
		f.Fatal(err)
	}
	if err := f.s.Join(f.ctx, r.ID, bob, 0); err != nil {
		f.Fatal(err)
	}
	if g, _ := f.mutedIn(r.ID, bob); g != chat.MutedForever {
		f.Errorf("a mute lifted by a ban: %d", g)
	}
}

func (f *fixture) leaveJoin(conv, user string) {
	f.Helper()
	if err := f.s.Leave(f.ctx, conv, user); err != nil {
		f.Fatal(err)
	}
	if err := f.s.Join(f.ctx, conv, user, 0); err != nil {
		f.Fatal(err)
	}
}

// testBan: a ban removes the member and refuses their joins with banned
// until it ends or is lifted; a ban that is over does not refuse.
func testBan(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	r := f.room("Room", alice, bob)
	if err := f.s.Ban(f.ctx, r.ID, bob, alice, chat.MutedForever); err != nil {
		f.Fatalf("Ban: %v", err)
	}
	if f.role(r.ID, bob) != chat.RoomNone {
		f.Errorf("a banned user is still a member")
	}
	if err := f.s.Join(f.ctx, r.ID, bob, 0); chat.ErrorCode(err) != chat.CodeBanned {
		f.Errorf("Join while banned = %v, want banned", err)
	}
	if err := f.s.Unban(f.ctx, r.ID, bob); err != nil {
		f.Fatalf("Unban: %v", err)
	}
	if err := f.s.Unban(f.ctx, r.ID, bob); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("Unban without a ban = %v, want not_found", err)
	}
	if err := f.s.Join(f.ctx, r.ID, bob, 0); err != nil {
		f.Errorf("Join after Unban: %v", err)
	}
	// A non-member can be banned; a ban that is over refuses nothing.
	if err := f.s.Ban(f.ctx, r.ID, carol, alice, time.Now().Add(time.Hour).UnixNano()); err != nil {
		f.Fatal(err)
	}
	if err := f.s.Join(f.ctx, r.ID, carol, 0); chat.ErrorCode(err) != chat.CodeBanned {
		f.Errorf("Join during a timed ban = %v, want banned", err)
	}
	if err := f.s.Ban(f.ctx, r.ID, carol, alice, time.Now().Add(-time.Second).UnixNano()); err != nil {
		f.Fatal(err)
	}
	if err := f.s.Join(f.ctx, r.ID, carol, 0); err != nil {
		f.Errorf("Join after the ban ended: %v", err)
	}
	if err := f.s.Ban(f.ctx, f.id("no-such-room"), carol, alice, chat.MutedForever); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("Ban in an unknown room = %v, want not_found", err)
	}
}
