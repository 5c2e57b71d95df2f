package signaling

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// newFixture returns a session with waiting room on: host "h" (the
// starter) and participant "p" in, "w" then "w2" waiting; "x" is a
// stranger. The clock advances one second per reading.
func newFixture(t *testing.T) *Session {
	t.Helper()
	s := NewSession("s1", "c1", "h", true)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	mustJoin(t, s, "h", true)
	mustJoin(t, s, "p", false)
	if err := s.Admit("h", "p"); err != nil {
		t.Fatalf("Admit p: %v", err)
	}
	mustJoin(t, s, "w", false)
	mustJoin(t, s, "w2", false)
	return s
}

func mustJoin(t *testing.T, s *Session, user string, want bool) {
	t.Helper()
	got, err := s.Join(user, "Name "+user, user == s.Host) // the starter has host_video
	if err != nil || got != want {
		t.Fatalf("Join(%s) = %v, %v; want %v, nil", user, got, err, want)
	}
}

func users(s *Session) (in, waiting []string) {
	for _, p := range s.Participants() {
		in = append(in, p.User)
	}
	for _, w := range s.Waiting() {
		waiting = append(waiting, w.User)
	}
	return in, waiting
}

func TestSessionMethods(t *testing.T) {
	tests := []struct {
		name        string
		op          func(s *Session) error
		want        error
		in, waiting []string
	}{
		{"admit by host", func(s *Session) error { return s.Admit("h", "w") }, nil, []string{"h", "p", "w"}, []string{"w2"}},
		{"admit by participant", func(s *Session) error { return s.Admit("p", "w") }, ErrNotHost, []string{"h", "p"}, []string{"w", "w2"}},
		{"admit by waiting", func(s *Session) error { return s.Admit("w", "w2") }, ErrNotParticipant, []string{"h", "p"}, []string{"w", "w2"}},
		{"admit by stranger", func(s *Session) error { return s.Admit("x", "w") }, ErrNotParticipant, []string{"h", "p"}, []string{"w", "w2"}},
		{"admit not waiting", func(s *Session) error { return s.Admit("h", "x") }, ErrNotWaiting, []string{"h", "p"}, []string{"w", "w2"}},
		{"admit participant", func(s *Session) error { return s.Admit("h", "p") }, ErrNotWaiting, []string{"h", "p"}, []string{"w", "w2"}},
		{"deny by host", func(s *Session) error { return s.Deny("h", "w") }, nil, []string{"h", "p"}, []string{"w2"}},
		{"deny by participant", func(s *Session) error { return s.Deny("p", "w") }, ErrNotHost, []string{"h", "p"}, []string{"w", "w2"}},
		{"deny by stranger", func(s *Session) error { return s.Deny("x", "w") }, ErrNotParticipant, []string{"h", "p"}, []string{"w", "w2"}},
		{"deny not waiting", func(s *Session) error { return s.Deny("h", "p") }, ErrNotWaiting, []string{"h", "p"}, []string{"w", "w2"}},
		{"leave participant", func(s *Session) error { return s.Leave("p") }, nil, []string{"h"}, []string{"w", "w2"}},
		{"leave host keeps session", func(s *Session) error { return s.Leave("h") }, nil, []string{"p"}, []string{"w", "w2"}},
		{"leave waiting", func(s *Session) error { return s.Leave("w") }, nil, []string{"h", "p"}, []string{"w2"}},
		{"leave stranger", func(s *Session) error { return s.Leave("x") }, ErrNotParticipant, []string{"h", "p"}, []string{"w", "w2"}},
		{"remove by host", func(s *Session) error { return s.Remove("h", "p") }, nil, []string{"h"}, []string{"w", "w2"}},
		{"remove by participant", func(s *Session) error { return s.Remove("p", "h") }, ErrNotHost, []string{"h", "p"}, []string{"w", "w2"}},
		{"remove by waiting", func(s *Session) error { return s.Remove("w", "p") }, ErrNotParticipant, []string{"h", "p"}, []string{"w", "w2"}},
		{"remove waiting", func(s *Session) error { return s.Remove("h", "w") }, ErrNotParticipant, []string{"h", "p"}, []string{"w", "w2"}},
		{"remove stranger", func(s *Session) error { return s.Remove("h", "x") }, ErrNotParticipant, []string{"h", "p"}, []string{"w", "w2"}},
		{"end by participant", func(s *Session) error { return s.End("p") }, ErrNotHost, []string{"h", "p"}, []string{"w", "w2"}},
		{"end by waiting", func(s *Session) error { return s.End("w") }, ErrNotParticipant, []string{"h", "p"}, []string{"w", "w2"}},
		{"end by stranger", func(s *Session) error { return s.End("x") }, ErrNotParticipant, []string{"h", "p"}, []string{"w", "w2"}},
		{"end by host", func(s *Session) error { return s.End("h") }, nil, nil, nil},
		{"join participant again", func(s *Session) error { _, err := s.Join("p", "P", false); return err }, ErrAlreadyIn, []string{"h", "p"}, []string{"w", "w2"}},
		{"join waiting again keeps place", func(s *Session) error { _, err := s.Join("w", "W", false); return err }, nil, []string{"h", "p"}, []string{"w", "w2"}},
		{"join host-capable skips waiting", func(s *Session) error { _, err := s.Join("w2", "W2", true); return err }, nil, []string{"h", "p", "w2"}, []string{"w"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFixture(t)
			if err := tt.op(s); err != tt.want {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			in, waiting := users(s)
			if !reflect.DeepEqual(in, tt.in) || !reflect.DeepEqual(waiting, tt.waiting) {
				t.Fatalf("in %v waiting %v; want %v, %v", in, waiting, tt.in, tt.waiting)
			}
		})
	}
}

func TestControl(t *testing.T) {
	type flags struct{ audioOff, videoOff, audioMuted, videoStopped bool }
	tests := []struct {
		name, by, user, action string
		want                   error
		flags                  flags // the target's flags after the action
	}{
		{"host mutes participant", "h", "p", ActionMute, nil, flags{audioMuted: true}},
		{"host stops participant camera", "h", "p", ActionStopCamera, nil, flags{videoStopped: true}},
		{"participant mutes self", "p", "p", ActionMute, nil, flags{audioOff: true}},
		{"participant stops own camera", "p", "p", ActionStopCamera, nil, flags{videoOff: true}},
		{"host mutes self", "h", "h", ActionMute, nil, flags{audioOff: true}},
		{"participant mutes host", "p", "h", ActionMute, ErrNotHost, flags{}},
		{"participant stops host camera", "p", "h", ActionStopCamera, ErrNotHost, flags{}},
		{"waiting mutes self", "w", "w", ActionMute, ErrNotParticipant, flags{}},
		{"stranger mutes participant", "x", "p", ActionMute, ErrNotParticipant, flags{}},
		{"host mutes waiting", "h", "w", ActionMute, ErrNotParticipant, flags{}},
		{"host stops stranger camera", "h", "x", ActionStopCamera, ErrNotParticipant, flags{}},
		{"unknown action", "h", "p", "explode", ErrBadAction, flags{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFixture(t)
			if err := s.Control(tt.by, tt.user, tt.action); err != tt.want {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			for _, p := range s.Participants() {
				want := flags{}
				if p.User == tt.user {
					want = tt.flags
				}
				got := flags{p.AudioOff, p.VideoOff, p.AudioMuted, p.VideoStopped}
				if got != want {
					t.Fatalf("%s: flags %+v, want %+v", p.User, got, want)
				}
			}
		})
	}
}

// A host's hold is the host's to lift: the person's own "unmute" turns
// their switch on but the hold stays until a host lifts it.
func TestHostHoldOutlastsSelfUnmute(t *testing.T) {
	s := newFixture(t)
	mustNil(t, s.Control("h", "p", ActionMute))
	mustNil(t, s.Control("p", "p", ActionUnmute))
	if p, _ := s.Participant("p"); !p.AudioMuted || p.AudioOff {
		t.Fatalf("after self-unmute under a hold: %+v", p)
	}
	mustNil(t, s.Control("h", "p", ActionUnmute))
	if p, _ := s.Participant("p"); p.AudioMuted || p.AudioOff {
		t.Fatalf("after the host lifts the hold: %+v", p)
	}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestJoinWithoutWaitingRoom(t *testing.T) {
	s := NewSession("s1", "c1", "h", false)
	for i := 0; i < DefaultMaxParticipants; i++ {
		user := fmt.Sprintf("u%02d", i)
		if ok, err := s.Join(user, user, false); !ok || err != nil {
			t.Fatalf("Join(%s) = %v, %v; want true, nil", user, ok, err)
		}
	}
	if ok, err := s.Join("late", "Late", false); ok || err != ErrFull {
		t.Fatalf("13th Join = %v, %v; want false, ErrFull", ok, err)
	}
	if ok, err := s.Join("h", "Host", false); ok || err != ErrFull {
		t.Fatalf("host Join when full = %v, %v; want false, ErrFull", ok, err)
	}
	if n := len(s.Participants()); n != DefaultMaxParticipants {
		t.Fatalf("%d participants, want %d", n, DefaultMaxParticipants)
	}
}

func TestLimitCountsHost(t *testing.T) {
	s := NewSession("s1", "c1", "h", true)
	if ok, err := s.Join("h", "Host", true); !ok || err != nil {
		t.Fatalf("starter Join = %v, %v; want true, nil", ok, err)
	}
	var want []string
	for i := 0; i < 15; i++ {
		user := fmt.Sprintf("u%02d", i)
		if ok, err := s.Join(user, user, false); ok || err != nil {
			t.Fatalf("Join(%s) = %v, %v; want false, nil", user, ok, err)
		}
		if i < DefaultMaxParticipants-1 {
			want = append(want, user)
		}
	}
	admitted, err := s.AdmitAll("h")
	if err != ErrFull || !reflect.DeepEqual(admitted, want) {
		t.Fatalf("AdmitAll = %v, %v; want %v, ErrFull", admitted, err, want)
	}
	_, waiting := users(s)
	if !reflect.DeepEqual(waiting, []string{"u11", "u12", "u13", "u14"}) {
		t.Fatalf("still waiting %v", waiting)
	}
	if err := s.Admit("h", "u11"); err != ErrFull {
		t.Fatalf("Admit when full = %v, want ErrFull", err)
	}
	if ok, err := s.Join("co", "Co-host", true); ok || err != ErrFull {
		t.Fatalf("host-role Join when full = %v, %v; want false, ErrFull", ok, err)
	}
	if err := s.Leave("u00"); err != nil {
		t.Fatal(err)
	}
	if err := s.Admit("h", "u12"); err != nil {
		t.Fatalf("Admit after a leave = %v", err)
	}
	if n := len(s.Participants()); n != DefaultMaxParticipants {
		t.Fatalf("%d participants, want %d", n, DefaultMaxParticipants)
	}
}

func TestAdmitAllEmptiesWaitingList(t *testing.T) {
	s := newFixture(t)
	admitted, err := s.AdmitAll("h")
	if err != nil || !reflect.DeepEqual(admitted, []string{"w", "w2"}) {
		t.Fatalf("AdmitAll = %v, %v; want [w w2], nil", admitted, err)
	}
	if _, err := s.AdmitAll("p"); err != ErrNotHost {
		t.Fatalf("AdmitAll by participant = %v, want ErrNotHost", err)
	}
	in, waiting := users(s)
	if !reflect.DeepEqual(in, []string{"h", "p", "w", "w2"}) || waiting != nil {
		t.Fatalf("in %v waiting %v", in, waiting)
	}
	for _, p := range s.Participants() {
		if p.Host != (p.User == "h") {
			t.Fatalf("%s Host = %v", p.User, p.Host)
		}
	}
}

func TestRemovedUserWaitsAgain(t *testing.T) {
	s := newFixture(t)
	if err := s.Remove("h", "p"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Join("p", "Name p", false); ok || err != nil {
		t.Fatalf("Join after Remove = %v, %v; want false, nil", ok, err)
	}
	in, waiting := users(s)
	if !reflect.DeepEqual(in, []string{"h"}) || !reflect.DeepEqual(waiting, []string{"w", "w2", "p"}) {
		t.Fatalf("in %v waiting %v", in, waiting)
	}
}

func TestEverythingRefusesAfterEnd(t *testing.T) {
	s := newFixture(t)
	if err := s.End("h"); err != nil {
		t.Fatal(err)
	}
	if !s.Ended() {
		t.Fatal("Ended() = false after End")
	}
	calls := map[string]func() error{
		"Join host":   func() error { _, err := s.Join("h", "H", true); return err },
		"Join other":  func() error { _, err := s.Join("x", "X", false); return err },
		"Admit":       func() error { return s.Admit("h", "w") },
		"AdmitAll":    func() error { _, err := s.AdmitAll("h"); return err },
		"Deny":        func() error { return s.Deny("h", "w") },
		"Leave":       func() error { return s.Leave("p") },
		"Remove":      func() error { return s.Remove("h", "p") },
		"Control":     func() error { return s.Control("h", "p", ActionMute) },
		"Control own": func() error { return s.Control("p", "p", ActionStopCamera) },
		"End":         func() error { return s.End("h") },
	}
	for name, call := range calls {
		if err := call(); err != ErrEnded {
			t.Errorf("%s after End = %v, want ErrEnded", name, err)
		}
	}
	if len(s.Participants()) != 0 || len(s.Waiting()) != 0 {
		t.Fatalf("snapshots after End: %v %v", s.Participants(), s.Waiting())
	}
}

func TestSnapshotsAreCopiesInOrder(t *testing.T) {
	s := newFixture(t)
	ps := s.Participants()
	ps[0].Host = false
	if !s.Participants()[0].Host {
		t.Fatal("Participants() shares state with the session")
	}
	ws := s.Waiting()
	if ws[0].Name != "Name w" || !ws[0].Since.Before(ws[1].Since) {
		t.Fatalf("Waiting() = %+v", ws)
	}
	ws[0].User = "changed"
	if s.Waiting()[0].User != "w" {
		t.Fatal("Waiting() shares state with the session")
	}
	if ErrFull.Code != "video_full" || ErrEnded.Error() != "video_no_session: the session has ended" {
		t.Fatalf("codes: %q %q", ErrFull.Code, ErrEnded.Error())
	}
}

// A starter who lost the host permission joins as anyone; SetHost gives
// and takes the role mid-session.
func TestHostRoleFollowsPermission(t *testing.T) {
	s := NewSession("s1", "c1", "h", true)
	if ok, _ := s.Join("h", "Host", false); ok {
		t.Fatal("a starter without host_video went past the waiting room")
	}
	if ok, _ := s.Join("m", "Mod", true); !ok {
		t.Fatal("a host waited")
	}
	mustNil(t, s.Admit("m", "h"))
	if changed, err := s.SetHost("m", false); !changed || err != nil {
		t.Fatalf("SetHost(m, false) = %v, %v", changed, err)
	}
	if err := s.Deny("m", "h"); err != ErrNotHost {
		t.Fatalf("a former host denies: %v, want ErrNotHost", err)
	}
	if changed, _ := s.SetHost("h", true); !changed {
		t.Fatal("SetHost(h, true) changed nothing")
	}
	mustNil(t, s.Control("h", "m", ActionMute))
	if _, err := s.SetHost("nobody", true); err != ErrNotParticipant {
		t.Fatalf("SetHost(nobody) = %v", err)
	}
}

// Someone a host admitted comes back (a dropped phone, a reload) straight
// in; someone a host removed waits again.
func TestAdmittedComeBack(t *testing.T) {
	s := newFixture(t) // p admitted by h; w, w2 waiting
	mustNil(t, s.Leave("p"))
	if ok, err := s.Join("p", "P", false); !ok || err != nil {
		t.Fatalf("admitted p coming back: %v, %v; want straight in", ok, err)
	}
	mustNil(t, s.Remove("h", "p"))
	if ok, _ := s.Join("p", "P", false); ok {
		t.Fatal("p, removed by the host, went past the waiting room")
	}
}
