package chat

import "time"

// SupportState is how far the crisis path got for the person a support
// note is for: what the note may honestly tell them.
type SupportState string

// The states of a support note. A note starts pending (its escalation is
// being recorded), becomes told when a page reached a supervisor's session,
// unreached when nobody could be reached (none on call or online), or
// unanswered when supervisors were told but the escalation went through
// every tier without anyone acknowledging it; and seen once a supervisor
// acknowledged it. Seen is final.
const (
	SupportPending    SupportState = "pending"
	SupportTold       SupportState = "told"
	SupportUnreached  SupportState = "unreached"
	SupportUnanswered SupportState = "unanswered"
	SupportSeen       SupportState = "seen"
)

// Valid reports whether s is one of the states above.
func (s SupportState) Valid() bool {
	switch s {
	case SupportPending, SupportTold, SupportUnreached, SupportUnanswered, SupportSeen:
		return true
	}
	return false
}

// SupportNote is the private note kept for a person whose message (User,
// Conv, Seq) signalled a crisis: shown on every session of theirs until
// they dismiss it. It never holds the message's text. Seq is 0 for a
// message held back from the room (by its policy or pre-moderation).
type SupportNote struct {
	ID        string
	User      string
	Conv      string
	Seq       int64
	State     SupportState
	Created   time.Time
	Updated   time.Time
	Dismissed bool
}
