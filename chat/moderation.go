package chat

import "time"

// ErrMuted is the refusal of a send or an edit by a member muted in the
// room until until (unix nanoseconds; MutedForever until lifted).
func ErrMuted(until int64) *Error {
	return &Error{Code: CodeMuted, Message: "you are muted in this room " + untilText(until)}
}

// ErrBanned is the refusal of a join of, or an add of, a user banned from
// the room until until (unix nanoseconds; MutedForever for good).
func ErrBanned(until int64) *Error {
	if until == MutedForever {
		return &Error{Code: CodeBanned, Message: "you are banned from this room until a moderator lifts the ban"}
	}
	return &Error{Code: CodeBanned, Message: "you are banned from this room until " + stamp(until)}
}

func untilText(until int64) string {
	if until == MutedForever {
		return "until a moderator lifts it"
	}
	return "until " + stamp(until)
}

func stamp(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339) }

// Pin is a message pinned in a room (docs/moderation.md#pinned-messages):
// its seq, who pinned it and when.
type Pin struct {
	Seq int64     `json:"seq"`
	By  string    `json:"by"`
	At  time.Time `json:"at"`
}

// MaxPins is how many messages a room may have pinned at once.
const MaxPins = 50

// Invite is a link into a room (docs/moderation.md#invite-links): its
// Code is a random token the store looks up; it lets MaxUses people in
// until ExpiresAt, unless revoked.
type Invite struct {
	ID        string    `json:"id"`
	Code      string    `json:"code"`
	Conv      string    `json:"conv"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	MaxUses   int       `json:"max_uses"`
	Uses      int       `json:"uses"`
	Revoked   bool      `json:"revoked,omitempty"`
}

// ErrInviteInvalid is the refusal of an invite that expired, was revoked
// or was used up; why says which.
func ErrInviteInvalid(why string) *Error {
	return &Error{Code: CodeInviteInvalid, Message: "this invite link " + why + "; ask for a new one"}
}
