package server

import (
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// frameHandler is how one client frame type is handled.
type frameHandler struct {
	// act is the permission the frame needs, checked with auth.Permit
	// against the session's identity and its role in the frame's
	// conversation at the moment the frame is handled. Empty: none (ping).
	act auth.Action
	// check validates the decoded frame's fields before the permission
	// (the first problem wins, so a client learns what to fix).
	check func(c *conn, f *protocol.ClientFrame) *chat.Error
	// run acts on the frame.
	run func(c *conn, f *protocol.ClientFrame)
	// limit, when set, is the rate limit the frame draws from, after the
	// permission; a refusal counts as a refused frame.
	limit func(b *bucket, now time.Time) (bool, time.Duration)
	// mutable marks frames a member muted in the room may not send
	// (checked against the session's cached mute: no store read).
	mutable bool
	// store marks handlers that read and write the database, whose
	// driver runs deep stacks: they run on a short-lived goroutine, in
	// order, so that the reader's stack stays small for the session's
	// whole life.
	store bool
	// video marks video frames, whose refusals for missing membership
	// are video_not_member (the SFU's code) instead of not_member.
	video bool
}

// frames is every client frame after hello, by type: the one place that
// says what a frame needs and who may send it (docs/permissions.md).
var frames map[string]frameHandler

func init() {
	frames = map[string]frameHandler{
		protocol.TypeSend:    {act: auth.ActSend, check: checkWrite, run: (*conn).handleWrite, mutable: true},
		protocol.TypeEdit:    {act: auth.ActEdit, check: checkWrite, run: (*conn).handleWrite, mutable: true},
		protocol.TypeDelete:  {act: auth.ActDelete, check: checkWrite, run: (*conn).handleWrite},
		protocol.TypeTyping:  {act: auth.ActTyping, check: needConv, run: (*conn).handleTyping},
		protocol.TypeJoin:    {act: auth.ActJoinRoom, check: needConv, limit: (*bucket).takeMembership, run: (*conn).handleJoin, store: true},
		protocol.TypeLeave:   {act: auth.ActLeaveRoom, check: needConv, limit: (*bucket).takeMembership, run: (*conn).handleLeave, store: true},
		protocol.TypeOpenDM:  {act: auth.ActOpenDM, check: needUser, limit: (*bucket).takeMembership, run: (*conn).handleOpenDM, store: true},
		protocol.TypeMembers: {act: auth.ActListMembers, check: needConv, run: (*conn).handleMembers, store: true},
		protocol.TypeFlag:    {act: auth.ActFlag, check: checkFlag, limit: (*bucket).takeReport, run: (*conn).handleFlag, store: true},
		protocol.TypeConcern: {act: auth.ActRaiseConcern, check: checkConcern, limit: (*bucket).takeReport, run: (*conn).handleConcern, store: true},
		protocol.TypeReport:  {act: auth.ActReport, check: checkReport, limit: (*bucket).takeReport, run: (*conn).handleReport, store: true},
		protocol.TypePing:    {run: (*conn).handlePing},
		protocol.TypeReauth:  {act: auth.ActViewOwn, check: needToken, run: (*conn).handleReauth, store: true},

		protocol.TypeDismissSupport: {act: auth.ActSupport, check: checkDismissSupport, run: (*conn).handleDismissSupport, store: true},

		// Video (video.go): a frame naming a session is checked against
		// the role in that session's conversation. The check reads the
		// store for a session this connection has no place in (where it
		// lives, videoHost); the handlers marked store write it (the
		// session's record, the audit log) or wait on the relay.
		// Negotiation and session actions draw from two video buckets;
		// joining and leaving from none (leaving must always work; a
		// join waits for the host, and a rejoin replaces the last).
		protocol.TypeVideoStart:     {act: auth.ActStartVideo, check: checkVideoStart, limit: (*bucket).takeVideoControl, run: (*conn).handleVideoStart, video: true, store: true},
		protocol.TypeVideoJoin:      {act: auth.ActJoinVideo, check: videoCheck(noFields), run: (*conn).handleVideoJoin, video: true, store: true},
		protocol.TypeVideoLeave:     {act: auth.ActJoinVideo, check: videoCheck(noFields), run: (*conn).handleVideoLeave, video: true},
		protocol.TypeVideoOffer:     {act: auth.ActJoinVideo, check: videoCheck(needSDP), limit: (*bucket).takeVideoSignal, run: (*conn).handleVideoOffer, video: true},
		protocol.TypeVideoAnswer:    {act: auth.ActJoinVideo, check: videoCheck(needSDP), limit: (*bucket).takeVideoSignal, run: (*conn).handleVideoAnswer, video: true},
		protocol.TypeVideoCandidate: {act: auth.ActJoinVideo, check: videoCheck(noFields), limit: (*bucket).takeVideoSignal, run: (*conn).handleVideoCandidate, video: true},
		protocol.TypeVideoControl:   {act: auth.ActJoinVideo, check: videoCheck(needControl), limit: (*bucket).takeVideoControl, run: (*conn).handleVideoControl, video: true, store: true},
		protocol.TypeVideoAdmit:     {act: auth.ActHostVideo, check: videoCheck(needAdmitted), limit: (*bucket).takeVideoControl, run: (*conn).handleVideoAdmit, video: true, store: true},
		protocol.TypeVideoDeny:      {act: auth.ActHostVideo, check: videoCheck(needVideoUser), limit: (*bucket).takeVideoControl, run: (*conn).handleVideoDeny, video: true, store: true},
		protocol.TypeVideoEnd:       {act: auth.ActHostVideo, check: videoCheck(noFields), limit: (*bucket).takeVideoControl, run: (*conn).handleVideoEnd, video: true, store: true},

		protocol.TypeHello: {check: func(*conn, *protocol.ClientFrame) *chat.Error {
			return &chat.Error{Code: chat.CodeAlreadyHello, Message: "this session is already signed in"}
		}},
	}
}

// handle answers one decoded client frame.
func (c *conn) handle(f *protocol.ClientFrame) {
	h, ok := frames[f.Type]
	if !ok {
		if f.Type == "" {
			c.reject(f.Ref, "", "", missing("type"))
		} else {
			c.reject(f.Ref, "", "", chat.Errorf(chat.CodeUnknownType, "unknown frame type %.40q", f.Type))
		}
		return
	}
	// A video frame's check puts its session's conversation in f.Conv;
	// a refusal echoes only what the client sent.
	conv := f.Conv
	if err := c.admit(&h, f); err != nil {
		c.reject(f.Ref, f.ID, conv, err)
		return
	}
	if !h.store {
		h.run(c, f)
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.run(c, f)
	}()
	<-done
}

// admit runs the checks every frame passes before its handler, in order:
// its fields, its permission against the session's role in the frame's
// conversation, a mute and the room's rules there (admitIn), and its rate
// limit. It is the send path's whole admission cost (BenchmarkAdmitSend).
func (c *conn) admit(h *frameHandler, f *protocol.ClientFrame) *chat.Error {
	if h.check != nil {
		if err := h.check(c, f); err != nil {
			return err
		}
	}
	if h.act != "" {
		if err := c.admitIn(h, f); err != nil {
			if h.video && err.Code == chat.CodeNotMember {
				return errVideoNotMember
			}
			return err
		}
	}
	if h.limit != nil {
		if ok, wait := h.limit(c.bucket, time.Now()); !ok {
			return errRateLimited(wait)
		}
	}
	return nil
}

func missing(field string) *chat.Error {
	return chat.Errorf(chat.CodeMissingField, "the %s field is required", field)
}

func needConv(_ *conn, f *protocol.ClientFrame) *chat.Error {
	if f.Conv == "" {
		return missing("conv")
	}
	return nil
}

func needUser(_ *conn, f *protocol.ClientFrame) *chat.Error {
	if f.User == "" {
		return missing("user")
	}
	return nil
}

// needToken: a reauth carries a token.
func needToken(_ *conn, f *protocol.ClientFrame) *chat.Error {
	if f.Token == "" {
		return chat.Errorf(chat.CodeMissingField, "token is required")
	}
	return nil
}

func (c *conn) handlePing(f *protocol.ClientFrame) {
	c.sendDirect(protocol.Encode(protocol.Pong{Type: protocol.TypePong, Ref: f.Ref}))
}

// handleTyping passes a typing notice on: advisory, at most one a second
// per session.
func (c *conn) handleTyping(f *protocol.ClientFrame) {
	if now := time.Now(); now.Sub(c.lastTyping) >= time.Second && c.typingAllowed(f.Conv) {
		c.lastTyping = now
		c.srv.pub.frame(c.ctx, f.Conv, protocol.Typing{Type: protocol.TypeTypingEvent, Conv: f.Conv, From: c.ident.UserID, Name: c.ident.Name})
	}
}

func (c *conn) handleJoin(f *protocol.ClientFrame) {
	conv, err := c.srv.joinRoom(c.quiet, c.ident, f.Conv)
	if err != nil {
		c.reject(f.Ref, "", f.Conv, chat.AsError(err))
		return
	}
	c.answerConversation(f.Ref, conv)
}

func (c *conn) handleLeave(f *protocol.ClientFrame) {
	if err := c.srv.leaveRoom(c.quiet, c.ident, f.Conv); err != nil {
		c.reject(f.Ref, "", f.Conv, chat.AsError(err))
		return
	}
	// At once, not when the news comes back on the user channel: the
	// next frame about this room is checked without a role.
	c.unsubscribe(c.ctx, f.Conv)
	c.sendDirect(protocol.Encode(protocol.LeftEvent{Type: protocol.TypeLeft, Ref: f.Ref, Conv: f.Conv}))
}

func (c *conn) handleOpenDM(f *protocol.ClientFrame) {
	conv, err := c.srv.openDM(c.quiet, c.ident, f.User)
	if err != nil {
		c.reject(f.Ref, "", "", chat.AsError(err))
		return
	}
	c.answerConversation(f.Ref, conv)
}

func (c *conn) handleMembers(f *protocol.ClientFrame) {
	ms, err := c.srv.memberList(c.quiet, c.ident, f.Conv, c.hiddenUsers())
	if err != nil {
		c.reject(f.Ref, "", f.Conv, chat.AsError(err))
		return
	}
	c.sendDirect(protocol.Encode(protocol.MemberList{Type: protocol.TypeMemberList, Ref: f.Ref, Conv: f.Conv, Members: ms}))
}

// answerConversation subscribes this session to conv before answering, so
// that a send right after the answer is accepted; the copy of the news that
// reaches this session through the user channel then changes nothing.
func (c *conn) answerConversation(ref string, conv chat.Conversation) {
	if err := c.subscribe(c.ctx, conv, conv.LastSeq); err != nil {
		c.srv.log.Error("subscribe", "session", c.id, "conv", conv.ID, "err", err)
		c.close(protocol.CloseInternal, "subscription failed")
		return
	}
	c.sendDirect(protocol.Encode(protocol.ConversationEvent{Type: protocol.TypeConversation, Ref: ref, Conversation: conv}))
}
