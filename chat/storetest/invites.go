package storetest

import (
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
)

func (f *fixture) invite(conv, by string, uses int, ttl time.Duration) chat.Invite {
	f.Helper()
	inv, err := f.s.CreateInvite(f.ctx, chat.Invite{Conv: conv, CreatedBy: by, MaxUses: uses, ExpiresAt: time.Now().Add(ttl)})
	if err != nil {
		f.Fatalf("CreateInvite: %v", err)
	}
	return inv
}

// testInvites: invites are created with a code, listed, counted once per
// new member, refused when revoked, expired or used up, and given back.
func testInvites(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	r := f.room("Room", alice)
	for _, bad := range []chat.Invite{{Conv: r.ID, CreatedBy: alice, MaxUses: 0, ExpiresAt: time.Now().Add(time.Hour)},
		{Conv: r.ID, CreatedBy: alice, MaxUses: 1, ExpiresAt: time.Now().Add(-time.Second)}} {
		if _, err := f.s.CreateInvite(f.ctx, bad); chat.ErrorCode(err) != chat.CodeInvalidField {
			f.Errorf("CreateInvite(%+v) = %v, want invalid_field", bad, err)
		}
	}
	dm, _ := f.s.OpenDM(f.ctx, alice, bob)
	if _, err := f.s.CreateInvite(f.ctx, chat.Invite{Conv: dm.ID, CreatedBy: alice, MaxUses: 1, ExpiresAt: time.Now().Add(time.Hour)}); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("CreateInvite in a DM = %v, want not_found", err)
	}
	inv := f.invite(r.ID, alice, 1, time.Hour)
	if inv.ID == "" || len(inv.Code) < 20 || inv.Uses != 0 {
		f.Fatalf("CreateInvite = %+v", inv)
	}
	got, used, err := f.s.UseInvite(f.ctx, inv.Code, alice)
	if err != nil || used || got.Conv != r.ID {
		f.Errorf("UseInvite by a member = %+v, %t, %v; want the invite, unused", got, used, err)
	}
	if got, used, err = f.s.UseInvite(f.ctx, inv.Code, bob); err != nil || !used || got.Uses != 1 || got.Conv != r.ID {
		f.Errorf("UseInvite = %+v, %t, %v; want one use", got, used, err)
	}
	if _, _, err := f.s.UseInvite(f.ctx, inv.Code, carol); chat.ErrorCode(err) != chat.CodeInviteInvalid {
		f.Errorf("UseInvite used up = %v, want invite_invalid", err)
	}
	if err := f.s.ReleaseInvite(f.ctx, inv.Code); err != nil {
		f.Fatal(err)
	}
	if _, used, err := f.s.UseInvite(f.ctx, inv.Code, carol); err != nil || !used {
		f.Errorf("UseInvite after a release = %t, %v", used, err)
	}
	if _, _, err := f.s.UseInvite(f.ctx, "nosuchcode", carol); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("UseInvite(unknown) = %v, want not_found", err)
	}
	testInviteEnds(f, r.ID, alice, carol)
}

// testInviteEnds: revoked and expired invites are refused; listing shows
// them, newest first.
func testInviteEnds(f *fixture, room, owner, user string) {
	rev := f.invite(room, owner, 5, time.Hour)
	if err := f.s.RevokeInvite(f.ctx, room, rev.ID); err != nil {
		f.Fatal(err)
	}
	if err := f.s.RevokeInvite(f.ctx, room, rev.ID); err != nil {
		f.Errorf("revoking again = %v", err)
	}
	if err := f.s.RevokeInvite(f.ctx, room, "i_nosuch"); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("RevokeInvite(unknown) = %v, want not_found", err)
	}
	other := f.user("other")
	if _, _, err := f.s.UseInvite(f.ctx, rev.Code, other); chat.ErrorCode(err) != chat.CodeInviteInvalid {
		f.Errorf("UseInvite revoked = %v, want invite_invalid", err)
	}
	short := f.invite(room, owner, 5, 50*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	if _, _, err := f.s.UseInvite(f.ctx, short.Code, other); chat.ErrorCode(err) != chat.CodeInviteInvalid {
		f.Errorf("UseInvite expired = %v, want invite_invalid", err)
	}
	list, err := f.s.Invites(f.ctx, room)
	if err != nil || len(list) != 3 || list[0].ID != short.ID || !list[1].Revoked || list[2].Uses != 1 {
		f.Errorf("Invites = %+v, %v; want 3, newest first, the revoked one marked", list, err)
	}
}

// testInviteConcurrent: many users using one invite at once never count
// more than its uses.
func testInviteConcurrent(f *fixture) {
	alice := f.user("alice")
	r := f.room("Room", alice)
	inv := f.invite(r.ID, alice, 3, time.Hour)
	users := make([]string, 12)
	for i := range users {
		users[i] = f.user(string(rune('a'+i)) + "user")
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for _, u := range users {
		wg.Go(func() {
			_, used, err := f.s.UseInvite(f.ctx, inv.Code, u)
			if err != nil && chat.ErrorCode(err) != chat.CodeInviteInvalid {
				f.Errorf("UseInvite: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if used {
				ok++
			}
		})
	}
	wg.Wait()
	list, err := f.s.Invites(f.ctx, r.ID)
	if ok != 3 || err != nil || len(list) != 1 || list[0].Uses != 3 {
		f.Errorf("%d uses counted, stored %+v (%v); want 3", ok, list, err)
	}
}
