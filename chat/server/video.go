package server

import (
	"errors"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/signaling"
)

// Video sessions (docs/protocol.md, "Video sessions"): the frame table
// checks each video frame like any other, against the role in the
// session's conversation; these handlers relay it to the node's SFU and
// answer video_ok or an error. The SFU's own events reach the connection
// through its Sender (video_conn.go).

// MaxVideoFrameBytes is the largest video_offer or video_answer frame: an
// SDP as large as the SFU takes (a browser's renegotiation offer in a
// full session reaches 145 KB), with the JSON escaping of its line ends
// and room to spare. Other frames keep MaxFrameBytes.
const MaxVideoFrameBytes = signaling.MaxSDPBytes + 32<<10

// The video error codes chat/server adds to the SFU's (signaling.Error
// codes pass through as they are).
const (
	codeVideoUnavailable chat.Code = "video_unavailable"
	codeVideoNotMember   chat.Code = "video_not_member"
	codeVideoNoSession   chat.Code = "video_no_session"
	codeVideoNotAdmitted chat.Code = "video_not_admitted"
)

var (
	errVideoUnavailable = &chat.Error{Code: codeVideoUnavailable, Message: "this server has no video"}
	errVideoNotMember   = &chat.Error{Code: codeVideoNotMember, Message: "you are not a member of this conversation"}
	errVideoNoSession   = &chat.Error{Code: codeVideoNoSession, Message: "no such video session"}
	errVideoNotJoined   = &chat.Error{Code: codeVideoNotAdmitted, Message: "this connection has not joined the session"}
	// A DM a block closes has no video either, whoever blocked whom.
	errVideoBlocked = &chat.Error{Code: chat.CodeBlocked, Message: "you can't call this person"}
)

// videoError words an SFU error for the wire.
func videoError(err error) *chat.Error {
	var se *signaling.Error
	if errors.As(err, &se) {
		return &chat.Error{Code: chat.Code(se.Code), Message: se.Message}
	}
	return chat.AsError(err)
}

// bigFrame reports whether a frame of this type may pass MaxFrameBytes
// (up to MaxVideoFrameBytes): only those carrying an SDP.
func bigFrame(typ string) bool {
	return typ == protocol.TypeVideoOffer || typ == protocol.TypeVideoAnswer
}

// videoFrameBytes is welcome's max_video_frame_bytes: 0 without video.
func (s *Server) videoFrameBytes() int {
	if s.video == nil {
		return 0
	}
	return max(s.cfg.MaxFrameBytes, MaxVideoFrameBytes)
}

// frameLimit is the most a client frame may hold before it is decoded.
func (s *Server) frameLimit() int {
	if s.video != nil {
		return max(s.cfg.MaxFrameBytes, MaxVideoFrameBytes)
	}
	return s.cfg.MaxFrameBytes
}

// checkVideoStart: the node has video and the frame names a conversation.
func checkVideoStart(c *conn, f *protocol.ClientFrame) *chat.Error {
	if c.srv.video == nil {
		return errVideoUnavailable
	}
	return needConv(c, f)
}

// checkVideoSession: the node has video and the frame names a live
// session, here or on another node (the store's record); the frame's
// conversation becomes the session's, so that the permission is checked
// against the caller's role there. A connection's own place answers
// without a lookup; otherwise where the session lives is kept for the
// handler (conn.lookup).
func checkVideoSession(c *conn, f *protocol.ClientFrame) *chat.Error {
	if c.srv.video == nil {
		return errVideoUnavailable
	}
	if f.Session == "" {
		return missing("session")
	}
	if p := c.place(f.Session); p != nil {
		f.Conv = p.conv
		return nil
	}
	ops, conv, remote, err := c.srv.videoHost(c.quiet, c, f.Session)
	if err != nil {
		return err
	}
	c.lookup = videoLookup{session: f.Session, ops: ops, remote: remote}
	f.Conv = conv
	return nil
}

// videoCheck is checkVideoSession followed by the frame's own fields.
func videoCheck(fields func(f *protocol.ClientFrame) *chat.Error) func(*conn, *protocol.ClientFrame) *chat.Error {
	return func(c *conn, f *protocol.ClientFrame) *chat.Error {
		if err := checkVideoSession(c, f); err != nil {
			return err
		}
		return fields(f)
	}
}

func needSDP(f *protocol.ClientFrame) *chat.Error {
	if f.SDP == "" {
		return missing("sdp")
	}
	for _, l := range f.Labels {
		if l != signaling.LabelAudio && l != signaling.LabelCamera && l != signaling.LabelScreen {
			return chat.Errorf(chat.CodeInvalidField, "a label is audio, camera or screen")
		}
	}
	return nil
}

func needVideoUser(f *protocol.ClientFrame) *chat.Error {
	if f.User == "" {
		return missing("user")
	}
	return nil
}

func needAdmitted(f *protocol.ClientFrame) *chat.Error {
	if f.User == "" && !f.All {
		return missing("user")
	}
	return nil
}

func needControl(f *protocol.ClientFrame) *chat.Error {
	if f.User == "" {
		return missing("user")
	}
	switch f.Action {
	case "":
		return missing("action")
	case signaling.ActionMute, signaling.ActionUnmute, signaling.ActionStopCamera,
		signaling.ActionStartCamera, signaling.ActionRemove:
		return nil
	}
	return chat.Errorf(chat.CodeInvalidField, "action is mute, unmute, stop_camera, start_camera or remove")
}

func noFields(*protocol.ClientFrame) *chat.Error { return nil }
