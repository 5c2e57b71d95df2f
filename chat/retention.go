package chat

import "time"

// MaxRetainDays bounds a room's retain_days setting (about a century).
const MaxRetainDays = 36500

// Horizon is the time before which conversation entries go, for a room
// that keeps messages roomDays days (0: as the deployment) under a
// deployment retention of global (0: forever); ok is false when nothing
// goes. A room may keep less than the deployment, never more.
func Horizon(now time.Time, global time.Duration, roomDays int) (time.Time, bool) {
	keep := global
	if room := time.Duration(roomDays) * 24 * time.Hour; roomDays > 0 && (global <= 0 || room < global) {
		keep = room
	}
	if keep <= 0 {
		return time.Time{}, false
	}
	return now.Add(-keep), true
}

// HoldKind says what a legal hold keeps: everything of one user, or
// everything of one room.
type HoldKind string

// Hold kinds.
const (
	HoldUser HoldKind = "user"
	HoldRoom HoldKind = "room"
)

// Hold is a legal hold set by an admin (docs/security.md#retention-and-erasure):
// while it stands, neither the purge nor an erasure removes what it keeps.
// A user hold keeps the messages the user sent (everywhere) and their
// personal data; a room hold keeps the room's whole log.
type Hold struct {
	Kind    HoldKind  `json:"kind"`
	Subject string    `json:"subject"`
	Reason  string    `json:"reason,omitempty"`
	By      string    `json:"set_by"`
	At      time.Time `json:"set_at"`
}

// MaxHoldReasonBytes bounds a hold's reason.
const MaxHoldReasonBytes = 2000

// PurgeRequest is one bounded round of Store.PurgeMessages.
type PurgeRequest struct {
	// Global is the deployment's retention of messages: those older are
	// removed (0: kept forever, unless a room says less).
	Global time.Duration
	// Now is the time the horizons are counted from.
	Now time.Time
	// Limit caps how many log entries the round removes (at least 1).
	Limit int
	// After is where the round starts: the conversations with a greater
	// ID (the previous round's Next; "" for the first).
	After string
}

// PurgeResult counts what a purge round removed. It never names content.
type PurgeResult struct {
	Convs    []string // conversations (rooms and DMs) something was removed from
	Events   int      // log entries removed: messages and the edits, deletes and hides of them
	Messages int      // of which messages
	// More is true when conversations remain to be visited, from Next.
	More bool
	Next string
}

// UserExport is everything the store keeps about one user
// (GET /api/users/{id}/export). Escalations are added by the server.
type UserExport struct {
	User        *User          `json:"user"` // nil: never signed in
	Memberships []Membership   `json:"memberships"`
	Messages    []Event        `json:"messages"` // messages they sent, rooms and DMs, current state
	Reports     []Report       `json:"reports"`  // filed by them or about them
	Blocks      []Block        `json:"blocks"`   // whom they block
	BlockedBy   []string       `json:"blocked_by"`
	Push        []PushMetadata `json:"push_subscriptions"`
	Support     []SupportNote  `json:"support_notes"`
	Audit       []AuditEntry   `json:"audit"` // entries where they are the actor or the target
	Holds       []Hold         `json:"holds"`
	Revocation  Revocation     `json:"revocation"`
}

// Membership is one of a user's conversations, as an export shows it.
type Membership struct {
	Conv     string           `json:"conv"`
	Kind     ConversationKind `json:"kind"`
	Name     string           `json:"name,omitempty"`
	Role     RoomRole         `json:"role"`
	JoinedAt time.Time        `json:"joined_at"`
}

// PushMetadata is what an export shows of a browser's push subscription:
// where and when, not its keys.
type PushMetadata struct {
	Endpoint string    `json:"endpoint"`
	Created  time.Time `json:"created_at"`
}

// Erasure is what Store.EraseUser did and what it kept, and why
// (POST /api/users/{id}/erase).
type Erasure struct {
	User string `json:"user"`
	// Erased counts what went: messages made tombstones (no body, as a
	// delete leaves them), their edits blanked, held (pre-moderation)
	// messages, room memberships, blocks either way, push
	// subscriptions, support notes, closed escalations about the user,
	// reports they filed (their words blanked), and the profile.
	Erased map[string]int `json:"erased"`
	// Kept lists what stayed, with why.
	Kept []Kept `json:"kept"`
}

// Kept is one kind of record an erasure kept, how many, and why.
type Kept struct {
	What   string `json:"what"`
	Count  int    `json:"count"`
	Reason string `json:"reason"`
}
