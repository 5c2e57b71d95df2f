package storetest

import (
	"time"

	"github.com/kindred-health/kindred/chat"
)

// testBans: Bans lists the bans in force, newest first, with the banned
// user's name, who banned them and when; a ban that is over, a lifted
// ban and another room's bans are not listed.
func testBans(f *fixture) {
	alice, bob, carol, dan := f.user("alice"), f.user("bob"), f.user("carol"), f.user("dan")
	r := f.room("Room", alice, bob, carol)
	other := f.room("Other", alice, dan)
	if bs := f.bans(r.ID); len(bs) != 0 {
		f.Errorf("bans of a room without any = %+v", bs)
	}
	before := time.Now().Add(-time.Second)
	until := time.Now().Add(time.Hour).UnixNano()
	f.mustBan(r.ID, bob, alice, chat.MutedForever)
	time.Sleep(2 * time.Millisecond) // banned_at orders the list
	f.mustBan(r.ID, carol, alice, until)
	f.mustBan(r.ID, dan, alice, time.Now().Add(-time.Second).UnixNano()) // over
	f.mustBan(other.ID, dan, alice, chat.MutedForever)
	bs := f.bans(r.ID)
	if len(bs) != 2 || bs[0].User != carol || bs[1].User != bob {
		f.Fatalf("bans = %+v, want carol then bob", bs)
	}
	c, b := bs[0], bs[1]
	if c.Until == nil || c.Until.UnixNano() != until || c.By != alice || c.Name != displayName("carol") || c.At.Before(before) {
		f.Errorf("timed ban = %+v (until %v), want until %d by %s named carol", c, c.Until, until, alice)
	}
	if b.Until != nil || b.By != alice || b.Name != displayName("bob") {
		f.Errorf("ban for good = %+v, want no end", b)
	}
	if err := f.s.Unban(f.ctx, r.ID, carol); err != nil {
		f.Fatal(err)
	}
	if bs := f.bans(r.ID); len(bs) != 1 || bs[0].User != bob {
		f.Errorf("bans after lifting carol's = %+v, want bob's", bs)
	}
	if bs := f.bans(f.id("no-such-room")); len(bs) != 0 {
		f.Errorf("bans of an unknown room = %+v", bs)
	}
}

// testMembersMuted: Members carries each member's mute in force, and 0
// for one that is over.
func testMembersMuted(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	r := f.room("Room", alice, bob, carol)
	until := time.Now().Add(time.Hour).UnixNano()
	if err := f.s.SetMute(f.ctx, r.ID, bob, until); err != nil {
		f.Fatal(err)
	}
	if err := f.s.SetMute(f.ctx, r.ID, carol, time.Now().Add(-time.Second).UnixNano()); err != nil {
		f.Fatal(err)
	}
	ms, err := f.s.Members(f.ctx, r.ID)
	if err != nil {
		f.Fatal(err)
	}
	got := map[string]int64{}
	for _, m := range ms {
		got[m.ID] = m.MutedUntil
	}
	if len(got) != 3 || got[alice] != 0 || got[bob] != until || got[carol] != 0 {
		f.Errorf("members' mutes = %v, want only bob's (%d)", got, until)
	}
}

func (f *fixture) mustBan(conv, user, by string, until int64) {
	f.Helper()
	if err := f.s.Ban(f.ctx, conv, user, by, until); err != nil {
		f.Fatalf("Ban: %v", err)
	}
}

func (f *fixture) bans(conv string) []chat.Ban {
	f.Helper()
	bs, err := f.s.Bans(f.ctx, conv)
	if err != nil {
		f.Fatalf("Bans: %v", err)
	}
	return bs
}
