// Package signaling is Kindred's video selective forwarding unit (issue 12,
// docs/decisions/0002-video-sfu.md). It knows WebRTC and nothing of
// WebSockets or JSON framing: chat/server decodes and validates the wire
// frames (video_start, video_join, video_admit, video_control, ...),
// relays them here, and delivers the answers through its outbox.
//
// An SFU (signaling.go) holds the live sessions of a node. Each live
// session is a call (call.go, members.go): its membership state (Session,
// session.go), a peer per participant (peer.go) whose owner goroutine
// alone touches its PeerConnection, and a forwarder per published track
// (forward.go) whose reader goroutine writes each packet to every
// subscriber. api.go is what chat/server calls.
package signaling
