package chat

import "time"

// Block is one user's block of another, as its blocker lists it
// (docs/moderation.md#one-on-one-chats-and-blocking).
type Block struct {
	User  string    `json:"user"`
	Name  string    `json:"name"`
	Since time.Time `json:"since"`
	// Role is the blocked user's global role as last seen (it decides
	// whether the block closes their DMs); not sent to clients.
	Role string `json:"-"`
}

// ErrBlocked is the refusal of a DM opened, or a send or an edit in a DM,
// between two people one of whom blocks the other. It says no more,
// whichever side asks: a blocked person is not told who blocked whom.
var ErrBlocked = &Error{Code: CodeBlocked, Message: "you can't message this person"}

// ErrDMNotAllowed is the refusal of a DM the one-on-one policy does not
// allow.
var ErrDMNotAllowed = &Error{Code: CodeDMNotAllowed, Message: "this person can't be messaged here"}
