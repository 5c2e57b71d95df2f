// Package signaling is Kindred's video selective forwarding unit (issue 12,
// docs/decisions/0002-video-sfu.md). It knows WebRTC and nothing of
// WebSockets or JSON framing: chat/server decodes and validates the wire
// frames (video_start, video_join, video_admit, video_control, ...),
// relays them here, and delivers the answers through its outbox.
//
// This is step 2 of the decision's order of work, taken first because it
// needs no media: a session's membership state (host, waiting room,
// participants, host controls, the participant limit and the error codes).
// The SFU, peers, forwarding and packet cache will come next, and the
// session goroutine that owns each Session will be the only caller of its
// methods.
package signaling
