package server

import (
	"context"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/signaling"
)

// videoPlace is a connection's place in one video session, joined or
// waiting. The SFU's events for it reach the client only while it is the
// connection's place in that session: joining again on the same
// connection replaces it, and the SFU's "replaced" for the old one is
// then news to nobody.
type videoPlace struct {
	session, conv string
}

func (c *conn) person() signaling.Person {
	return signaling.Person{User: c.ident.UserID, Name: c.ident.Name}
}

// videoSender is the SFU's way to p's client: it encodes the event and
// queues it without blocking (a full queue is the slow-consumer rule,
// like any frame). An event that ends the place (denied, removed, ended)
// forgets it, so that closing the connection does not leave on behalf of
// a newer place of the same user elsewhere.
func (c *conn) videoSender(p *videoPlace) signaling.Sender {
	return func(ev signaling.Event) {
		data, ok := videoEventFrame(ev)
		if !ok {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.videos[p.session] != p {
			return
		}
		switch ev.Type {
		case signaling.EvDenied, signaling.EvRemoved, signaling.EvEnded:
			delete(c.videos, p.session)
		}
		c.enqueueLocked(&chat.Publication{Data: data})
	}
}

// place is this connection's place in session, nil when it has none.
func (c *conn) place(session string) *videoPlace {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.videos[session]
}

func (c *conn) dropPlace(p *videoPlace) {
	c.mu.Lock()
	if c.videos[p.session] == p {
		delete(c.videos, p.session)
	}
	c.mu.Unlock()
}

// leaveVideos leaves every session this connection is in or waits in,
// those of conv only when conv is not empty: the connection closes, or
// the user no longer belongs to conv (left, removed, banned). The SFU is
// called without c.mu held: its Senders take it.
func (c *conn) leaveVideos(conv string) {
	c.mu.Lock()
	var gone []*videoPlace
	for id, p := range c.videos {
		if conv == "" || p.conv == conv {
			gone = append(gone, p)
			delete(c.videos, id)
		}
	}
	c.mu.Unlock()
	for _, p := range gone {
		_ = c.srv.video.Leave(p.session, c.ident.UserID)
	}
}

func (c *conn) videoOK(ref, session string) {
	c.sendDirect(protocol.Encode(protocol.VideoOK{Type: protocol.TypeVideoOK, Ref: ref, Session: session}))
}

// videoDone answers a video frame the SFU carried out, or refused.
func (c *conn) videoDone(f *protocol.ClientFrame, err error) {
	if err != nil {
		c.reject(f.Ref, "", "", videoError(err))
		return
	}
	c.videoOK(f.Ref, f.Session)
}

// joined is this connection's place in the frame's session; without one
// the frame is refused.
func (c *conn) joined(f *protocol.ClientFrame) bool {
	if c.place(f.Session) == nil {
		c.reject(f.Ref, "", "", errVideoNotJoined)
		return false
	}
	return true
}

func (c *conn) handleVideoStart(f *protocol.ClientFrame) {
	if !c.typingAllowed(f.Conv) { // not in a DM a block closes
		c.reject(f.Ref, "", f.Conv, errVideoBlocked)
		return
	}
	info, err := c.srv.video.Start(f.Conv, c.person(), f.WaitingRoom)
	if err != nil {
		c.reject(f.Ref, "", f.Conv, videoError(err))
		return
	}
	c.videoOK(f.Ref, info.ID)
	c.srv.pub.frame(c.ctx, info.Conversation, videoSessionFrame(info, protocol.VideoLive, ""))
}

// handleVideoJoin joins or waits; whether the SFU counts the user as a
// host is the table's host_video in the conversation now.
func (c *conn) handleVideoJoin(f *protocol.ClientFrame) {
	if !c.typingAllowed(f.Conv) { // not in a DM a block closes
		c.reject(f.Ref, "", "", errVideoBlocked)
		return
	}
	host := auth.Permit(c.ident, c.roomRole(f.Conv), auth.ActHostVideo) == nil
	p := &videoPlace{session: f.Session, conv: f.Conv}
	c.mu.Lock()
	if c.videos == nil {
		c.videos = make(map[string]*videoPlace)
	}
	c.videos[p.session] = p
	c.mu.Unlock()
	if _, err := c.srv.video.Join(p.session, c.person(), host, c.videoSender(p)); err != nil {
		c.dropPlace(p)
		c.reject(f.Ref, "", "", videoError(err))
		return
	}
	c.videoOK(f.Ref, p.session)
}

func (c *conn) handleVideoLeave(f *protocol.ClientFrame) {
	p := c.place(f.Session)
	if p == nil {
		c.reject(f.Ref, "", "", errVideoNotJoined)
		return
	}
	c.dropPlace(p)
	c.videoDone(f, c.srv.video.Leave(f.Session, c.ident.UserID))
}

func (c *conn) handleVideoOffer(f *protocol.ClientFrame) {
	if c.joined(f) {
		c.videoDone(f, c.srv.video.Offer(f.Session, c.ident.UserID, f.SDP, f.Labels))
	}
}

func (c *conn) handleVideoAnswer(f *protocol.ClientFrame) {
	if c.joined(f) {
		c.videoDone(f, c.srv.video.Answer(f.Session, c.ident.UserID, f.SDP))
	}
}

// handleVideoCandidate answers only a refusal: a browser trickles many.
func (c *conn) handleVideoCandidate(f *protocol.ClientFrame) {
	if !c.joined(f) {
		return
	}
	cand := signaling.Candidate{Candidate: f.Candidate, SDPMid: f.SDPMid, SDPMLineIndex: f.SDPMLineIndex}
	if err := c.srv.video.Candidate(f.Session, c.ident.UserID, cand); err != nil {
		c.reject(f.Ref, "", "", videoError(err))
	}
}

// handleVideoControl: on oneself join_video is enough (the table); on
// someone else it takes host_video too, checked beside the table.
func (c *conn) handleVideoControl(f *protocol.ClientFrame) {
	if f.User != c.ident.UserID {
		if err := auth.Permit(c.ident, c.roomRole(f.Conv), auth.ActHostVideo); err != nil {
			c.reject(f.Ref, "", "", chat.AsError(err))
			return
		}
	}
	if c.joined(f) {
		c.videoDone(f, c.srv.video.Control(f.Session, c.ident.UserID, f.User, f.Action))
	}
}

func (c *conn) handleVideoAdmit(f *protocol.ClientFrame) {
	if !c.joined(f) {
		return
	}
	if f.All {
		c.videoDone(f, c.srv.video.AdmitAll(f.Session, c.ident.UserID))
		return
	}
	c.videoDone(f, c.srv.video.Admit(f.Session, c.ident.UserID, f.User))
}

func (c *conn) handleVideoDeny(f *protocol.ClientFrame) {
	if c.joined(f) {
		c.videoDone(f, c.srv.video.Deny(f.Session, c.ident.UserID, f.User))
	}
}

func (c *conn) handleVideoEnd(f *protocol.ClientFrame) {
	if c.joined(f) {
		c.videoDone(f, c.srv.video.End(f.Session, c.ident.UserID))
	}
}

// announceVideo tells a connection that starts following conv (at hello,
// or on joining it) of the session live there on this node, if any.
func (c *conn) announceVideo(conv string) {
	if info, ok := c.srv.video.Live(conv); ok {
		c.sendDirect(protocol.Encode(videoSessionFrame(info, protocol.VideoLive, "")))
	}
}

// VideoEnded tells every member of an ended session's conversation, on
// every node, that it ended. Wire it as the SFU's Config.OnEnded.
func (s *Server) VideoEnded(info signaling.SessionInfo, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.pub.frame(ctx, info.Conversation, videoSessionFrame(info, protocol.VideoEnded, reason))
}
