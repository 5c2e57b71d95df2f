package server

import (
	"context"
	"strconv"
	"strings"
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
	ops           videoOps // the SFU here, or the relay to the hosting node
	remote        bool
	gen           uint64 // this place's number on the connection: events for an older one are dropped
}

// videoLookup is where checkVideoSession found a session the connection
// has no place in yet, for the handler that follows (video_join).
type videoLookup struct {
	session string
	ops     videoOps
	remote  bool
}

// person is the connection's user as the SFU knows them; conn is the
// place's key (videoKey), empty for video_start, which joins nobody.
func (c *conn) person(conn string) signaling.Person {
	return signaling.Person{User: c.ident.UserID, Name: c.ident.Name, Conn: conn}
}

// videoKey names one place of one connection, "<node>/<conn id>/<gen>",
// the same on the node that hosts the session (from a relayed join's
// From, Conn and Gen): the SFU acts on a leave only for the place still
// in, so a tab that closes after another joined does not take the user
// out on the newer tab's behalf.
func videoKey(node, conn string, gen uint64) string {
	return node + "/" + conn + "/" + strconv.FormatUint(gen, 10)
}

// leavePlace leaves p's session on behalf of p alone.
func (c *conn) leavePlace(p *videoPlace) error {
	if p.remote {
		return p.ops.(remoteVideo).leave(p.session, p.gen, c.ident.UserID)
	}
	return c.srv.video.LeaveFrom(p.session, c.ident.UserID, videoKey(c.srv.relay.node, c.id, p.gen))
}

// videoSender is the SFU's way to p's client when the session is on this
// node: it encodes the event and delivers it (deliverVideo).
func (c *conn) videoSender(p *videoPlace) signaling.Sender {
	return func(ev signaling.Event) {
		if data, ok := videoEventFrame(ev); ok {
			c.deliverVideo(p.session, p.gen, ev.Type, data)
		}
	}
}

// deliverVideo queues an encoded SFU event of type typ for the place gen
// in session without blocking (a full queue is the slow-consumer rule,
// like any frame), from this node's SFU or relayed from the hosting
// node. It is dropped unless that place is still the connection's (a
// "replaced" for the place a rejoin superseded is news to nobody); an event
// that ends the place (denied, removed, ended) forgets it, so that
// closing the connection does not leave on behalf of a newer place of
// the same user elsewhere.
func (c *conn) deliverVideo(session string, gen uint64, typ string, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.videos[session]; p == nil || p.gen != gen {
		return
	}
	switch typ {
	case signaling.EvDenied, signaling.EvRemoved, signaling.EvEnded:
		delete(c.videos, session)
	}
	c.enqueueLocked(&chat.Publication{Data: data})
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
		if err := c.leavePlace(p); err == errVideoNodeGone {
			// The hosting node did not answer: try once more, so that a
			// passing outage leaves no participant there. The key keeps
			// a late retry from acting for a newer place.
			c.srv.relay.later(time.Second, func() { _ = c.leavePlace(p) })
		}
	}
	if conv == "" && c.srv.relay != nil {
		c.srv.relay.untrack(c)
	}
}

// refreshVideoHosts follows a change of the user's role in conv: in each
// of the connection's sessions there, the SFU counts them a host exactly
// when the permission table's host_video allows it now (a moderator made
// a member again stops seeing the waiting list).
func (c *conn) refreshVideoHosts(conv string) {
	c.mu.Lock()
	var places []*videoPlace
	for _, p := range c.videos {
		if p.conv == conv {
			places = append(places, p)
		}
	}
	c.mu.Unlock()
	if len(places) == 0 {
		return
	}
	host := auth.Permit(c.ident, c.roomRole(conv), auth.ActHostVideo) == nil
	for _, p := range places {
		if err := p.ops.SetHost(p.session, c.ident.UserID, host); err != nil {
			c.srv.log.Debug("video: host role not updated", "session", p.session, "err", err)
		}
	}
}

// auditVideo records a host's action in the audit log (docs/moderation.md).
func (c *conn) auditVideo(f *protocol.ClientFrame, action, target, detail string) {
	c.srv.audit(c.ctx, chat.AuditEntry{Actor: c.ident.UserID, Action: "video." + action, Room: f.Conv,
		Target: target, Detail: strings.TrimSpace("session=" + f.Session + " " + detail)})
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
// the frame is refused and joined returns nil.
func (c *conn) joined(f *protocol.ClientFrame) *videoPlace {
	p := c.place(f.Session)
	if p == nil {
		c.reject(f.Ref, "", "", errVideoNotJoined)
	}
	return p
}

// handleVideoStart starts a session on this node and records it, so
// that every node can find it; the conversation's members everywhere
// hear that it is live.
func (c *conn) handleVideoStart(f *protocol.ClientFrame) {
	if !c.typingAllowed(f.Conv) { // not in a DM a block closes
		c.reject(f.Ref, "", f.Conv, errVideoBlocked)
		return
	}
	info, err := c.srv.video.Start(f.Conv, c.person(""), f.WaitingRoom)
	if err == nil {
		err = c.srv.claimVideo(c.quiet, info)
	}
	if err != nil {
		c.reject(f.Ref, "", f.Conv, videoError(err))
		return
	}
	c.videoOK(f.Ref, info.ID)
	f.Session = info.ID
	c.auditVideo(f, "start", "", "")
	c.srv.pub.frame(c.ctx, info.Conversation, videoSessionFrame(info, protocol.VideoLive, ""))
}

// handleVideoJoin joins or waits, here or through the relay to the node
// hosting the session; whether the SFU counts the user as a host is the
// table's host_video in the conversation now.
func (c *conn) handleVideoJoin(f *protocol.ClientFrame) {
	if !c.typingAllowed(f.Conv) { // not in a DM a block closes
		c.reject(f.Ref, "", "", errVideoBlocked)
		return
	}
	host := auth.Permit(c.ident, c.roomRole(f.Conv), auth.ActHostVideo) == nil
	p := &videoPlace{session: f.Session, conv: f.Conv}
	c.mu.Lock()
	if old := c.videos[f.Session]; old != nil {
		p.ops, p.remote = old.ops, old.remote
	} else if c.lookup.session == f.Session {
		p.ops, p.remote = c.lookup.ops, c.lookup.remote
	}
	c.lookup = videoLookup{}
	c.videoGen++
	p.gen = c.videoGen
	if c.videos == nil {
		c.videos = make(map[string]*videoPlace)
	}
	c.videos[p.session] = p
	c.mu.Unlock()
	var err error
	switch {
	case p.ops == nil:
		err = errVideoNoSession
	case p.remote:
		c.srv.relay.track(c)
		err = p.ops.(remoteVideo).join(p.session, p.gen, c.person(""), host)
	default:
		key := videoKey(c.srv.relay.node, c.id, p.gen)
		_, err = c.srv.video.Join(p.session, c.person(key), host, c.videoSender(p))
	}
	if err != nil {
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
	c.videoDone(f, c.leavePlace(p))
}

func (c *conn) handleVideoOffer(f *protocol.ClientFrame) {
	if p := c.joined(f); p != nil {
		c.videoDone(f, p.ops.Offer(f.Session, c.ident.UserID, f.SDP, f.Labels))
	}
}

func (c *conn) handleVideoAnswer(f *protocol.ClientFrame) {
	if p := c.joined(f); p != nil {
		c.videoDone(f, p.ops.Answer(f.Session, c.ident.UserID, f.SDP))
	}
}

// handleVideoCandidate answers only a refusal: a browser trickles many.
func (c *conn) handleVideoCandidate(f *protocol.ClientFrame) {
	p := c.joined(f)
	if p == nil {
		return
	}
	cand := signaling.Candidate{Candidate: f.Candidate, SDPMid: f.SDPMid, SDPMLineIndex: f.SDPMLineIndex}
	if err := p.ops.Candidate(f.Session, c.ident.UserID, cand); err != nil {
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
	if p := c.joined(f); p != nil {
		err := p.ops.Control(f.Session, c.ident.UserID, f.User, f.Action)
		if err == nil && f.User != c.ident.UserID {
			c.auditVideo(f, f.Action, f.User, "")
		}
		c.videoDone(f, err)
	}
}

func (c *conn) handleVideoAdmit(f *protocol.ClientFrame) {
	p := c.joined(f)
	if p == nil {
		return
	}
	if f.All {
		err := p.ops.AdmitAll(f.Session, c.ident.UserID)
		if err == nil {
			c.auditVideo(f, "admit", "", "all")
		}
		c.videoDone(f, err)
		return
	}
	err := p.ops.Admit(f.Session, c.ident.UserID, f.User)
	if err == nil {
		c.auditVideo(f, "admit", f.User, "")
	}
	c.videoDone(f, err)
}

func (c *conn) handleVideoDeny(f *protocol.ClientFrame) {
	if p := c.joined(f); p != nil {
		err := p.ops.Deny(f.Session, c.ident.UserID, f.User)
		if err == nil {
			c.auditVideo(f, "deny", f.User, "")
		}
		c.videoDone(f, err)
	}
}

func (c *conn) handleVideoEnd(f *protocol.ClientFrame) {
	if p := c.joined(f); p != nil {
		err := p.ops.End(f.Session, c.ident.UserID)
		if err == nil {
			c.auditVideo(f, "end", "", "")
		}
		c.videoDone(f, err)
	}
}

// announceVideo tells a connection that starts following convs (at
// hello, or on joining one) of the sessions live there, on this node or
// another: one read of the store's records, made after subscribing, so a
// session started meanwhile comes as news on the conversation's channel.
func (c *conn) announceVideo(convs []string) {
	if len(convs) == 0 {
		return
	}
	live, err := c.srv.store.LiveVideoSessions(c.quiet, convs, time.Now())
	if err != nil {
		c.srv.log.Warn("video: live sessions", "err", err)
		return
	}
	for _, v := range live {
		info := signaling.SessionInfo{ID: v.ID, Conversation: v.Conv, Host: v.Host, HostName: v.HostName,
			WaitingRoom: v.WaitingRoom, Started: v.Started}
		c.sendDirect(protocol.Encode(videoSessionFrame(info, protocol.VideoLive, "")))
	}
}

// VideoEnded tells every member of an ended session's conversation, on
// every node, that it ended, and removes its record. Wire it as the
// SFU's Config.OnEnded.
func (s *Server) VideoEnded(info signaling.SessionInfo, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.claimed.remove(info.ID)
	if s.relay != nil {
		s.endVideoRecord(ctx, info.ID)
	}
	s.pub.frame(ctx, info.Conversation, videoSessionFrame(info, protocol.VideoEnded, reason))
}
