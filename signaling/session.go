package signaling

import (
	"sort"
	"time"
)

// DefaultMaxParticipants is the participant limit of a new Session,
// counting the host (--video-max-participants).
const DefaultMaxParticipants = 12

// Error is a refusal by a Session. Code is the wire error code that
// chat/server sends back in an `error` frame (docs/decisions/0002, "Wire
// frames").
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// The refusals a Session returns. Compare with ==; every method returns
// one of these or nil.
var (
	// ErrNotHost: the request needs a host and the sender is a
	// participant without the host role.
	ErrNotHost = &Error{"video_not_allowed", "only a host may do this"}
	// ErrFull: the session already has MaxParticipants participants.
	ErrFull = &Error{"video_full", "the session is full"}
	// ErrNotWaiting: the user named is not in the waiting list.
	ErrNotWaiting = &Error{"video_not_admitted", "that person is not waiting"}
	// ErrNotParticipant: the sender (or the user named) is not a
	// participant.
	ErrNotParticipant = &Error{"video_not_member", "not a participant of this session"}
	// ErrEnded: the session has ended; nothing more is allowed.
	ErrEnded = &Error{"video_no_session", "the session has ended"}
	// ErrAlreadyIn: the user is already a participant.
	ErrAlreadyIn = &Error{"video_not_allowed", "already in the session"}
)

// Participant is one person in the session.
type Participant struct {
	User         string
	Name         string
	Host         bool // may admit, deny, mute, stop cameras, remove, end
	AudioOff     bool // turned off by the person
	VideoOff     bool
	AudioMuted   bool // held off by a host: the person cannot turn it on
	VideoStopped bool
	Joined       time.Time
}

// Waiting is one person in the waiting room.
type Waiting struct {
	User  string
	Name  string
	Since time.Time
}

// Session is one video session's membership state: who hosts, who is in,
// who waits, and what each may ask for.
//
// A Session is not safe for concurrent use: its owner (the SFU's session
// goroutine) serialises every call. Methods check the session's state
// first (ErrEnded after End), then the sender's role, then the target.
//
// The host leaving does not end the session: the others stay, and another
// host (anyone joining with the host role) can take over controls. Ending
// is End's job, or the owner's when the session empties or the node shuts
// down.
type Session struct {
	ID              string
	Conversation    string
	Host            string // the user who started the session
	MaxParticipants int    // counting hosts; DefaultMaxParticipants unless set
	WaitingRoom     bool   // when on, people without the host role wait to be admitted

	// Now gives the time for Joined and Since; time.Now if nil.
	Now func() time.Time

	participants map[string]*Participant
	waiting      []Waiting // in arrival order
	// admitted are those a host let in: coming back after a lost
	// connection (a phone that dropped, a reload) they go straight in,
	// until a host removes them.
	admitted map[string]bool
	ended    bool
}

// NewSession returns a live session with no participants yet; the starter
// (host) joins with Join like everyone else.
func NewSession(id, conversation, host string, waitingRoom bool) *Session {
	return &Session{
		ID:              id,
		Conversation:    conversation,
		Host:            host,
		MaxParticipants: DefaultMaxParticipants,
		WaitingRoom:     waitingRoom,
		participants:    make(map[string]*Participant),
	}
}

func (s *Session) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Session) full() bool {
	return len(s.participants) >= s.MaxParticipants
}

// Ended reports whether End was called.
func (s *Session) Ended() bool { return s.ended }

// Join is user asking to join under name. Whoever the caller marks
// isHostRole (the permission table's host_video now: the starter has it
// unless they lost it since) goes straight in as a host, and so does
// someone a host admitted before (coming back after a lost connection)
// unless a host removed them since; others wait when
// WaitingRoom is on (admitted false; asking again while waiting keeps
// their place), else go straight in. The limit counts everyone, hosts
// included: ErrFull when going in would pass it. ErrAlreadyIn for a
// participant.
func (s *Session) Join(user, name string, isHostRole bool) (admitted bool, err error) {
	if s.ended {
		return false, ErrEnded
	}
	if _, ok := s.participants[user]; ok {
		return false, ErrAlreadyIn
	}
	host := isHostRole
	if !host && s.WaitingRoom && !s.admitted[user] {
		if s.waitIndex(user) < 0 {
			s.waiting = append(s.waiting, Waiting{User: user, Name: name, Since: s.now()})
		}
		return false, nil
	}
	if s.full() {
		return false, ErrFull
	}
	if i := s.waitIndex(user); i >= 0 {
		s.dropWaiting(i)
	}
	s.participants[user] = &Participant{User: user, Name: name, Host: host, Joined: s.now()}
	return true, nil
}

// checkHost returns nil when the session is live and by is a participant
// with the host role.
func (s *Session) checkHost(by string) error {
	if s.ended {
		return ErrEnded
	}
	p, ok := s.participants[by]
	if !ok {
		return ErrNotParticipant
	}
	if !p.Host {
		return ErrNotHost
	}
	return nil
}

func (s *Session) waitIndex(user string) int {
	for i, w := range s.waiting {
		if w.User == user {
			return i
		}
	}
	return -1
}

func (s *Session) dropWaiting(i int) {
	s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
}

// admit moves waiting entry i into the participants, without the host role.
func (s *Session) admit(i int) {
	w := s.waiting[i]
	s.dropWaiting(i)
	s.participants[w.User] = &Participant{User: w.User, Name: w.Name, Joined: s.now()}
	if s.admitted == nil {
		s.admitted = make(map[string]bool)
	}
	s.admitted[w.User] = true
}

// Admit lets a waiting user in; by must be a host. ErrNotWaiting if user
// is not waiting, ErrFull (user keeps waiting) at the limit.
func (s *Session) Admit(by, user string) error {
	if err := s.checkHost(by); err != nil {
		return err
	}
	i := s.waitIndex(user)
	if i < 0 {
		return ErrNotWaiting
	}
	if s.full() {
		return ErrFull
	}
	s.admit(i)
	return nil
}

// AdmitAll lets the waiting in, in arrival order, until the limit; by must
// be a host. It returns who was admitted, in order, and ErrFull if anyone
// is still waiting because the limit was reached (the admitted list is
// valid then too).
func (s *Session) AdmitAll(by string) ([]string, error) {
	if err := s.checkHost(by); err != nil {
		return nil, err
	}
	var admitted []string
	for len(s.waiting) > 0 && !s.full() {
		admitted = append(admitted, s.waiting[0].User)
		s.admit(0)
	}
	if len(s.waiting) > 0 {
		return admitted, ErrFull
	}
	return admitted, nil
}

// Deny turns a waiting user away, removing them from the waiting list;
// by must be a host. They may ask again with Join.
func (s *Session) Deny(by, user string) error {
	if err := s.checkHost(by); err != nil {
		return err
	}
	i := s.waitIndex(user)
	if i < 0 {
		return ErrNotWaiting
	}
	s.dropWaiting(i)
	return nil
}

// Leave takes user out: a participant leaves, a waiting user stops
// waiting. A host leaving, even the starter, does not end the session.
// ErrNotParticipant if user is neither.
func (s *Session) Leave(user string) error {
	if s.ended {
		return ErrEnded
	}
	if _, ok := s.participants[user]; ok {
		delete(s.participants, user)
		return nil
	}
	if i := s.waitIndex(user); i >= 0 {
		s.dropWaiting(i)
		return nil
	}
	return ErrNotParticipant
}

// Remove puts participant user out of the session; by must be a host. The
// removed user may ask again with Join, and waits if the waiting room is
// on and they have no host role.
func (s *Session) Remove(by, user string) error {
	if err := s.checkHost(by); err != nil {
		return err
	}
	if _, ok := s.participants[user]; !ok {
		return ErrNotParticipant
	}
	delete(s.participants, user)
	delete(s.admitted, user) // removed: back through the waiting room
	return nil
}

// control finds the target of a mute or stop-camera request: a host may
// act on any participant, a participant on themselves only.
func (s *Session) control(by, user string) (*Participant, error) {
	if s.ended {
		return nil, ErrEnded
	}
	sender, ok := s.participants[by]
	if !ok {
		return nil, ErrNotParticipant
	}
	if by != user && !sender.Host {
		return nil, ErrNotHost
	}
	target, ok := s.participants[user]
	if !ok {
		return nil, ErrNotParticipant
	}
	return target, nil
}

// The control actions (the wire's video_control `action`).
const (
	ActionMute        = "mute"
	ActionUnmute      = "unmute"
	ActionStopCamera  = "stop_camera"
	ActionStartCamera = "start_camera"
	ActionRemove      = "remove" // Remove; not a Control action
)

// ErrBadAction: an action Control does not know.
var ErrBadAction = &Error{"video_not_allowed", "unknown control action"}

// Control turns user's microphone or camera off or on. A participant acts
// on themselves: their own switch (AudioOff, VideoOff), which cannot lift
// a host's hold. A host acting on someone else sets or lifts the hold
// (AudioMuted, VideoStopped): "unmute" and "start_camera" from a host only
// allow the person to turn it back on. A host acting on themselves uses
// their own switch. Repeating an action is no error.
func (s *Session) Control(by, user, action string) error {
	p, err := s.control(by, user)
	if err != nil {
		return err
	}
	self := by == user
	switch action {
	case ActionMute, ActionUnmute:
		if self {
			p.AudioOff = action == ActionMute
		} else {
			p.AudioMuted = action == ActionMute
		}
	case ActionStopCamera, ActionStartCamera:
		if self {
			p.VideoOff = action == ActionStopCamera
		} else {
			p.VideoStopped = action == ActionStopCamera
		}
	default:
		return ErrBadAction
	}
	return nil
}

// SetHost gives or takes participant user's host role, when their
// permission changes mid-session (a moderator made a member again, a
// member made a moderator). changed reports whether it did.
func (s *Session) SetHost(user string, host bool) (changed bool, err error) {
	if s.ended {
		return false, ErrEnded
	}
	p, ok := s.participants[user]
	if !ok {
		return false, ErrNotParticipant
	}
	changed = p.Host != host
	p.Host = host
	return changed, nil
}

// Terminate ends the session without a host: the node shuts down or the
// session stayed empty. Idempotent.
func (s *Session) Terminate() {
	s.ended = true
	s.participants = make(map[string]*Participant)
	s.waiting = nil
}

// Participant returns a copy of user's entry.
func (s *Session) Participant(user string) (Participant, bool) {
	p, ok := s.participants[user]
	if !ok {
		return Participant{}, false
	}
	return *p, true
}

// Empty reports whether nobody is in or waiting.
func (s *Session) Empty() bool {
	return len(s.participants) == 0 && len(s.waiting) == 0
}

// End ends the session for everyone; by must be a host. Afterwards every
// method returns ErrEnded and the snapshots are empty.
func (s *Session) End(by string) error {
	if err := s.checkHost(by); err != nil {
		return err
	}
	s.Terminate()
	return nil
}

// Participants returns a copy of the participants, by Joined then User.
func (s *Session) Participants() []Participant {
	out := make([]Participant, 0, len(s.participants))
	for _, p := range s.participants {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Joined.Equal(out[j].Joined) {
			return out[i].Joined.Before(out[j].Joined)
		}
		return out[i].User < out[j].User
	})
	return out
}

// Waiting returns a copy of the waiting list in arrival order (first to
// be admitted by AdmitAll first).
func (s *Session) Waiting() []Waiting {
	return append([]Waiting(nil), s.waiting...)
}
