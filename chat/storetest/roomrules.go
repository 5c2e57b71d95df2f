package storetest

import (
	"strings"

	"github.com/kindred-health/kindred/chat"
)

func ptr[T any](v T) *T { return &v }

func (f *fixture) convOf(id string) chat.Conversation {
	f.Helper()
	c, err := f.s.Conversation(f.ctx, id)
	if err != nil {
		f.Fatalf("Conversation: %v", err)
	}
	return c
}

// accepted is the guidelines version user accepted in conv, as
// UserConversations has it.
func (f *fixture) accepted(conv, user string) int64 {
	f.Helper()
	cs, err := f.s.UserConversations(f.ctx, user)
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cs {
		if c.ID == conv {
			return c.GuidelinesAccepted
		}
	}
	return -1
}

// testRoomRules: locked, read_only, slow mode and the member limit are
// stored and read back, each change leaving the others as they were; out
// of range values are refused.
func testRoomRules(f *fixture) {
	alice := f.user("alice")
	r := f.room("Rules", alice)
	if c := f.convOf(r.ID); c.Locked || c.ReadOnly || c.SlowModeSeconds != 0 || c.MaxMembers != 0 || c.Guidelines != "" {
		f.Errorf("a new room's settings: %+v", c)
	}
	set := chat.RoomSettings{Locked: ptr(true), ReadOnly: ptr(true), SlowModeSeconds: ptr(30), MaxMembers: ptr(12)}
	if err := f.s.SetRoomSettings(f.ctx, r.ID, set); err != nil {
		f.Fatal(err)
	}
	if err := f.s.SetRoomSettings(f.ctx, r.ID, chat.RoomSettings{ReadOnly: ptr(false)}); err != nil {
		f.Fatal(err)
	}
	c := f.convOf(r.ID)
	if !c.Locked || c.ReadOnly || c.SlowModeSeconds != 30 || c.MaxMembers != 12 || c.Visibility != chat.VisibilityPublic {
		f.Errorf("settings read back %+v", c)
	}
	for _, bad := range []chat.RoomSettings{{SlowModeSeconds: ptr(-1)}, {SlowModeSeconds: ptr(chat.MaxSlowModeSeconds + 1)},
		{MaxMembers: ptr(-1)}, {Guidelines: ptr(strings.Repeat("x", chat.MaxGuidelinesBytes+1))}} {
		if err := f.s.SetRoomSettings(f.ctx, r.ID, bad); chat.ErrorCode(err) != chat.CodeInvalidField {
			f.Errorf("SetRoomSettings(%+v) = %v, want invalid_field", bad, err)
		}
	}
}

// testGuidelines: every change of the text raises the version; members
// accept the current one; a stale version is a conflict; non-members
// cannot accept.
func testGuidelines(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	r := f.room("Guided", alice, bob)
	if err := f.s.SetRoomSettings(f.ctx, r.ID, chat.RoomSettings{Guidelines: ptr("Be kind.")}); err != nil {
		f.Fatal(err)
	}
	c := f.convOf(r.ID)
	if c.Guidelines != "Be kind." || c.GuidelinesVersion != 1 || !c.NeedsGuidelines(f.accepted(r.ID, bob)) {
		f.Fatalf("after setting guidelines: %+v, bob accepted %d", c, f.accepted(r.ID, bob))
	}
	if v, err := f.s.AcceptGuidelines(f.ctx, r.ID, bob, 0); err != nil || v != 1 || f.accepted(r.ID, bob) != 1 {
		f.Errorf("AcceptGuidelines = %d, %v; accepted %d", v, err, f.accepted(r.ID, bob))
	}
	// The same text again changes nothing; a new text needs a new accept.
	_ = f.s.SetRoomSettings(f.ctx, r.ID, chat.RoomSettings{Guidelines: ptr("Be kind.")})
	_ = f.s.SetRoomSettings(f.ctx, r.ID, chat.RoomSettings{Guidelines: ptr("Be kind. No advice on medication.")})
	c = f.convOf(r.ID)
	if c.GuidelinesVersion != 2 || !c.NeedsGuidelines(f.accepted(r.ID, bob)) {
		f.Errorf("after a change: version %d, bob accepted %d", c.GuidelinesVersion, f.accepted(r.ID, bob))
	}
	if _, err := f.s.AcceptGuidelines(f.ctx, r.ID, bob, 1); chat.ErrorCode(err) != chat.CodeConflict {
		f.Errorf("accepting a stale version = %v, want conflict", err)
	}
	if v, err := f.s.AcceptGuidelines(f.ctx, r.ID, bob, 2); err != nil || v != 2 {
		f.Errorf("accepting the current version = %d, %v", v, err)
	}
	if _, err := f.s.AcceptGuidelines(f.ctx, r.ID, carol, 0); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("a non-member accepting = %v, want not_found", err)
	}
}
