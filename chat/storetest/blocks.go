package storetest

import (
	"slices"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// testBlocks: a block is recorded once with its time, listed to its
// blocker with the blocked user's name and role, seen from the other side
// by BlockedBy and Blocking, and lifted by Unblock.
func testBlocks(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	if err := f.s.UpsertUser(f.ctx, chat.User{ID: carol, Name: displayName("carol"), Role: "specialist"}); err != nil {
		f.Fatal(err)
	}
	if err := f.s.Block(f.ctx, alice, alice); chat.ErrorCode(err) != chat.CodeInvalidField {
		f.Errorf("Block(self) = %v, want invalid_field", err)
	}
	if err := f.s.Block(f.ctx, alice, f.id("nobody")); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("Block(unknown user) = %v, want not_found", err)
	}
	start := time.Now().Add(-time.Second)
	for _, b := range []string{bob, carol, bob} { // blocking again changes nothing
		if err := f.s.Block(f.ctx, alice, b); err != nil {
			f.Fatalf("Block(%s): %v", b, err)
		}
	}
	if err := f.s.Block(f.ctx, carol, alice); err != nil {
		f.Fatal(err)
	}
	list, err := f.s.Blocks(f.ctx, alice)
	if err != nil {
		f.Fatal(err)
	}
	if len(list) != 2 || list[0].User != bob || list[1].User != carol {
		f.Fatalf("Blocks(alice) = %+v, want bob then carol", list)
	}
	if list[0].Name != displayName("bob") || list[0].Role != "peer" || list[1].Role != "specialist" {
		f.Errorf("Blocks(alice) names and roles = %+v", list)
	}
	for _, b := range list {
		if b.Since.Before(start) || b.Since.After(time.Now().Add(time.Second)) {
			f.Errorf("block of %s since %v, want about now", b.User, b.Since)
		}
	}
	if by, err := f.s.BlockedBy(f.ctx, alice); err != nil || !slices.Equal(by, []string{carol}) {
		f.Errorf("BlockedBy(alice) = %v, %v; want carol", by, err)
	}
	if by, err := f.s.BlockedBy(f.ctx, bob); err != nil || !slices.Equal(by, []string{alice}) {
		f.Errorf("BlockedBy(bob) = %v, %v; want alice", by, err)
	}
	for _, c := range []struct {
		a, b   string
		ab, ba bool
	}{{alice, bob, true, false}, {bob, alice, false, true}, {alice, carol, true, true}, {bob, carol, false, false}} {
		ab, ba, err := f.s.Blocking(f.ctx, c.a, c.b)
		if err != nil || ab != c.ab || ba != c.ba {
			f.Errorf("Blocking(%s, %s) = %t, %t, %v; want %t, %t", c.a, c.b, ab, ba, err, c.ab, c.ba)
		}
	}
	if removed, err := f.s.Unblock(f.ctx, alice, bob); err != nil || !removed {
		f.Errorf("Unblock = %t, %v; want removed", removed, err)
	}
	if removed, err := f.s.Unblock(f.ctx, alice, bob); err != nil || removed {
		f.Errorf("Unblock again = %t, %v; want nothing removed", removed, err)
	}
	if ab, _, err := f.s.Blocking(f.ctx, alice, bob); err != nil || ab {
		f.Errorf("Blocking after Unblock = %t, %v", ab, err)
	}
	if by, err := f.s.BlockedBy(f.ctx, bob); err != nil || len(by) != 0 {
		f.Errorf("BlockedBy(bob) after Unblock = %v, %v", by, err)
	}
	if list, err := f.s.Blocks(f.ctx, bob); err != nil || list == nil || len(list) != 0 {
		f.Errorf("Blocks(nobody blocked) = %#v, %v; want empty", list, err)
	}
}

// testShareRoom: two users share a room when both are members of one; a
// DM does not count, nor a room one of them left.
func testShareRoom(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	if _, err := f.s.OpenDM(f.ctx, alice, bob); err != nil {
		f.Fatal(err)
	}
	r := f.room("Room", alice, carol)
	f.room("Other", bob)
	check := func(a, b string, want bool) {
		f.Helper()
		if got, err := f.s.ShareRoom(f.ctx, a, b); err != nil || got != want {
			f.Errorf("ShareRoom(%s, %s) = %t, %v; want %t", a, b, got, err, want)
		}
	}
	check(alice, bob, false) // a DM only
	check(alice, carol, true)
	check(carol, alice, true)
	check(bob, carol, false)
	if err := f.s.Leave(f.ctx, r.ID, carol); err != nil {
		f.Fatal(err)
	}
	check(alice, carol, false)
	check(alice, f.id("nobody"), false)
}
