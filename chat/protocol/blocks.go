package protocol

import "time"

// TypeBlocks is the server frame telling every session of a user that
// they blocked or unblocked someone (docs/protocol.md#blocks).
const TypeBlocks = "blocks"

// BlockEvent is a TypeBlocks frame: User is the person blocked (Blocked
// true, with Name and Since) or unblocked (Blocked false). It goes to the
// blocker's sessions only; the person blocked is never told.
type BlockEvent struct {
	Type    string     `json:"type"`
	User    string     `json:"user"`
	Name    string     `json:"name,omitempty"`
	Blocked bool       `json:"blocked"`
	Since   *time.Time `json:"since,omitempty"`
	// Role is the blocked user's global role as the server last saw it
	// (whether the block closes their DMs depends on it).
	Role string `json:"role,omitempty"`
}
