package chat

import "time"

// VideoSession is the record of a conversation's live video session
// (docs/decisions/0002-video-sfu.md, "Several nodes"): which node hosts
// it, so that every node can send participants there, and until when the
// hosting node's lease on it runs. A node that stops renewing (it died or
// lost the database) lets the lease lapse, and then another node may
// start a new session for the conversation.
//
// Times come from the nodes' clocks, not the database's: nodes keep them
// in step with NTP, well within a lease (seconds), as for escalation
// leases.
type VideoSession struct {
	ID   string
	Conv string
	// Node is the hosting node's ID; Host and HostName the user who
	// started the session and their display name.
	Node, Host, HostName string
	WaitingRoom          bool
	Started              time.Time
	// LeaseUntil is when the record lapses unless Node renews it: the
	// session is live while LeaseUntil is after the caller's now.
	LeaseUntil time.Time
}
