package chat

import "time"

// AuditEntry is one line of the audit log: who (Actor) did what (Action) to
// whom or what (Target) in which room (Room), why (Reason), when (At) and
// from which address (Source, when it came through the network). The log
// is append-only: nothing changes or deletes an entry. It holds
// identifiers, settings and reasons given by staff, never message text or
// crisis content.
//
// The store chains entries (see AuditHash): Position is the entry's place
// in the chain, 1, 2, 3, ... without gaps, and Hash covers it and the
// entry before it. Both are the store's to set.
type AuditEntry struct {
	ID       int64     `json:"id"`
	Position int64     `json:"position"`
	Hash     string    `json:"hash"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	Room     string    `json:"room,omitempty"`
	Target   string    `json:"target,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	Source   string    `json:"source,omitempty"`
}

// AuditFilter selects audit entries: those matching every field set, newest
// first, with ID below Before when it is set (the next page), at most
// Limit.
type AuditFilter struct {
	Room, Actor, Action, Target, Source string
	Since, Until                        time.Time // At >= Since, At < Until
	Before                              int64
	Limit                               int
}
