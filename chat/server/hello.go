package server

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// hello authenticates the session and starts its subscriptions. It
// reports false when the session ended before taking anything that must
// be given back (the client was told why); from the user's rate bucket on,
// it reports true, and a session that must end after all is closed, so
// that run's teardown undoes what the hello did.
func (c *conn) hello() bool {
	f, ok := c.readHello()
	if !ok {
		return false
	}
	s := c.srv
	id, err := s.verifier.Verify(f.Token)
	if err != nil {
		e := chat.AsError(err)
		s.log.Info("sign-in refused", "code", e.Code, "addr", c.addr)
		s.signins.refused(c.quiet, c.addr, "websocket", "", e.Code)
		c.refuse(protocol.CloseUnauthorized, e)
		return false
	}
	if e := s.checkRevoked(c.quiet, id); e != nil {
		c.refuseRevoked(id, e)
		return false
	}
	c.ident = id
	c.mu.Lock()
	c.issued = id.Issued
	c.mu.Unlock()
	if !c.admitSession() {
		return false
	}
	c.userCh = userChannel(id.UserID)
	u := identUser(id)
	if err := s.store.UpsertUser(c.quiet, u); err != nil {
		s.log.Error("upsert user", "user", id.UserID, "err", err)
		c.refuse(protocol.CloseInternal, chat.AsError(err))
		return false
	}
	convs, err := s.store.UserConversations(c.quiet, id.UserID)
	if err != nil {
		s.log.Error("list conversations", "user", id.UserID, "err", err)
		c.refuse(protocol.CloseInternal, chat.AsError(err))
		return false
	}
	if err := c.loadBlocks(c.quiet); err != nil {
		s.log.Error("list blocks", "user", id.UserID, "err", err)
		c.refuse(protocol.CloseInternal, chat.AsError(err))
		return false
	}
	c.bucket = s.buckets.acquire(id.UserID)
	c.expireWithToken()
	c.startSessionLimits()
	s.metrics.connections.Inc()
	c.counted = true
	c.sendDirect(protocol.Encode(protocol.Welcome{
		Type: protocol.TypeWelcome, Session: c.id, User: u, Conversations: convs,
		Limits: protocol.Limits{
			MaxFrameBytes: s.cfg.MaxFrameBytes, MaxMessageBytes: s.cfg.MaxMessageBytes,
			SendRate: s.cfg.SendRate, SendBurst: s.cfg.SendBurst, MaxRooms: s.cfg.MaxRoomsPerUser,
			MaxVideoFrameBytes: s.videoFrameBytes(),
		},
		IdleTimeoutMS:   s.idleTimeout(id).Milliseconds(),
		CrisisResources: s.cfg.CrisisSupport.Resources,
	}))
	if !c.subscribeAll(convs, f.Resume) {
		// Run's teardown undoes what was followed and the bucket taken.
		c.close(protocol.CloseInternal, "subscription failed")
		return true
	}
	// A revocation stored while this hello ran was published before the
	// session followed its user's channel, so it was not heard: read it
	// again now that any later one will be. The session then closes as a
	// live one does on the news, and its teardown undoes the hello.
	if e := s.checkRevoked(c.quiet, id); e != nil {
		c.refuseRevoked(id, e)
		return true
	}
	c.sendSupportNotes()
	if err := s.presence.Connect(c.ctx, id.UserID, c.id); err != nil {
		s.log.Warn("presence connect", "user", id.UserID, "err", err)
	}
	c.publishPresence(c.ctx, c.presenceConvs(), true)
	s.log.Info("session started", "session", c.id, "user", id.UserID, "role", id.Role, "conversations", len(convs))
	return true
}

// idleTimeout is how long id's browser may sit unused (Config.IdleTimeout).
func (s *Server) idleTimeout(id auth.Identity) time.Duration {
	if s.cfg.SupervisorIdleTimeout > 0 && auth.Permit(id, chat.RoomNone, auth.ActReceivePages) == nil {
		return s.cfg.SupervisorIdleTimeout
	}
	return s.cfg.IdleTimeout
}

// refuseRevoked closes a session whose token checkRevoked refused.
func (c *conn) refuseRevoked(id auth.Identity, e *chat.Error) {
	var code websocket.StatusCode = protocol.CloseRevoked
	if e.Code != chat.CodeTokenRevoked && e.Code != chat.CodeAccountDeactivated {
		code = protocol.CloseInternal
	} else {
		c.srv.signins.refused(c.quiet, c.addr, "websocket", id.UserID, e.Code)
	}
	c.refuse(code, e)
}

// readHello waits for the first frame, which must be a hello.
func (c *conn) readHello() (*protocol.ClientFrame, bool) {
	// A read deadline would make the library drop the connection without
	// a close frame; a timer lets the client learn why.
	timer := time.AfterFunc(c.srv.cfg.HelloTimeout, func() {
		c.refuse(protocol.CloseHelloTimeout, &chat.Error{Code: chat.CodeAuthRequired, Message: "send a hello frame with your token first"})
	})
	// Read without a context, as the session's reader does: the library
	// registers a cancel hook on a cancellable context for every read,
	// and the map it leaves in c.ctx stays for the session's life (about
	// 0.3 KiB per connection). The timer and c.close end a stuck read.
	typ, data, err := c.ws.Read(context.Background())
	if !timer.Stop() || err != nil {
		c.close(websocket.StatusNormalClosure, "")
		return nil, false
	}
	var f protocol.ClientFrame
	if typ != websocket.MessageText || protocol.DecodeClientFrame(data, &f) != nil || f.Type != protocol.TypeHello {
		c.refuse(protocol.CloseUnauthorized, &chat.Error{Code: chat.CodeAuthRequired, Message: "the first frame must be a hello with your token"})
		return nil, false
	}
	return &f, true
}

// handleReauth takes a fresh token for the session's user and role: the
// session then ends when that token expires instead. A token that fails,
// or is for someone else or another role (which needs a new connection,
// since what the session follows depends on it), is refused with an
// error, and the session keeps its current token.
func (c *conn) handleReauth(f *protocol.ClientFrame) {
	s := c.srv
	id, err := s.verifier.Verify(f.Token)
	if err != nil {
		c.sendError(f.Ref, "", "", chat.AsError(err))
		return
	}
	if id.UserID != c.ident.UserID || id.Role != c.ident.Role {
		c.sendError(f.Ref, "", "", &chat.Error{Code: chat.CodeInvalidField,
			Message: "this token is for another user or role; reconnect with it"})
		return
	}
	if e := s.checkRevoked(c.quiet, id); e != nil {
		c.sendError(f.Ref, "", "", e)
		return
	}
	c.mu.Lock()
	c.issued = id.Issued
	c.mu.Unlock()
	if !c.extendToken(id.Expires) {
		return // a limit (the old token's expiry, say) came first: the session is closing
	}
	c.sendDirect(protocol.Encode(protocol.Reauthed{Type: protocol.TypeReauthed, Ref: f.Ref, ExpiresAt: id.Expires.UTC()}))
}

// subscribeAll follows the user's channel, the escalation pages when the
// role may receive them, and every conversation from where the client
// says it is (resume) or from now.
func (c *conn) subscribeAll(convs []chat.Conversation, resume map[string]int64) bool {
	s := c.srv
	if err := s.hub.Subscribe(c.ctx, c.userCh, c); err != nil {
		s.log.Error("subscribe user channel", "user", c.ident.UserID, "err", err)
		return false
	}
	if s.esc != nil && auth.Permit(c.ident, chat.RoomNone, auth.ActReceivePages) == nil {
		if !c.subscribePages() {
			return false
		}
	}
	ids := make([]string, 0, len(convs))
	for i := range convs {
		from := convs[i].LastSeq
		if pos, ok := resume[convs[i].ID]; ok && pos >= 0 && pos < from {
			// Never from before the user may read (joined history).
			from = max(pos, convs[i].HistoryFloor())
		}
		if _, err := c.followQuiet(c.ctx, convs[i], from, true); err != nil {
			s.log.Error("subscribe", "conv", convs[i].ID, "err", err)
			return false
		}
		ids = append(ids, convs[i].ID)
	}
	if s.video != nil {
		c.announceVideo(ids) // one store read for all, after subscribing
	}
	return true
}

// subscribePages makes this session one that escalation pages reach: it
// follows the user's pages channel and is counted, by the pager's
// presence key, as a session that may receive them.
func (c *conn) subscribePages() bool {
	s := c.srv
	ch := pagesChannel(c.ident.UserID)
	if err := s.hub.Subscribe(c.ctx, ch, c); err != nil {
		s.log.Error("subscribe pages", "user", c.ident.UserID, "err", err)
		return false
	}
	c.mu.Lock()
	c.pagesCh = ch
	c.mu.Unlock()
	if err := s.presence.Connect(c.ctx, pagerKey(c.ident.UserID), c.id); err != nil {
		s.log.Warn("presence connect (pages)", "user", c.ident.UserID, "err", err)
	}
	return true
}
