package chat

import "time"

// Pre-moderation (docs/moderation.md#pre-moderation): a room's
// PremodMessages holds the first messages of each of its plain members
// until a moderator approves or rejects them.

// MaxPremodMessages bounds RoomSettings.PremodMessages.
const MaxPremodMessages = 100

// PendingState is where a message held by pre-moderation stands.
type PendingState string

// Pending states. A message waits (PendingWaiting) until a moderator
// decides. Approving claims it (PendingApproving) before it is appended
// to the room's log, so that nobody can reject it meanwhile, then settles
// it (PendingApproved); a rejection settles it at once (PendingRejected).
// A settled message keeps no text.
const (
	PendingWaiting   PendingState = "pending"
	PendingApproving PendingState = "approving"
	PendingApproved  PendingState = "approved"
	PendingRejected  PendingState = "rejected"
)

// PendingMessage is a message a member sent to a room whose
// pre-moderation holds it: stored, not in the room's log, seen only by
// the room's moderators until they approve it (it is then appended as
// the sender's message, with its ClientID) or reject it.
type PendingMessage struct {
	ID       string       `json:"id"`
	Conv     string       `json:"-"`
	Sender   string       `json:"sender"`
	Name     string       `json:"name"`
	ClientID string       `json:"-"`
	Body     string       `json:"body"`
	Time     time.Time    `json:"ts"`
	State    PendingState `json:"-"`
}

// Decided reports whether a moderator settled p (approved or rejected).
func (p *PendingMessage) Decided() bool {
	return p.State == PendingApproved || p.State == PendingRejected
}
