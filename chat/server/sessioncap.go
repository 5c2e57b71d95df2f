package server

import (
	"context"
	"fmt"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// sessionCountTimeout bounds each call to the shared session count
// (Config.Sessions): past it, Admit answers by this node's own sessions,
// so a slow Redis delays a hello by at most this much.
const sessionCountTimeout = time.Second

// sessionCountWarnEvery spaces the warnings that the shared count failed:
// during an outage every hello would log one.
const sessionCountWarnEvery = time.Minute

// admitSession counts the signed-in session towards its user's
// MaxSessionsPerUser on every node sharing Config.Sessions, or tells the
// client it has too many (too_many_sessions, close 4029) and reports
// false. When the shared count does not answer in time, the cap holds on
// this node only (chat.SessionCounter).
func (c *conn) admitSession() bool {
	s := c.srv
	if s.cfg.MaxSessionsPerUser <= 0 {
		return true
	}
	ctx, cancel := context.WithTimeout(c.quiet, sessionCountTimeout)
	defer cancel()
	ok, err := s.sessions.Admit(ctx, c.ident.UserID, c.id, s.cfg.MaxSessionsPerUser)
	if err != nil {
		s.sessionCountFailed(err)
	}
	if !ok {
		c.refuse(protocol.CloseTooManySessions, &chat.Error{Code: chat.CodeTooManySessions, Temporary: true,
			Message: fmt.Sprintf("you have %d sessions open; close one (another tab or device) first", s.cfg.MaxSessionsPerUser)})
		return false
	}
	c.userSlot = true
	return true
}

// releaseSession uncounts a session admitSession let in, however it
// ended (teardown): closed by the client, revoked, idle, too old, or the
// node shutting down. If the shared count fails, the session lapses
// there within the heartbeat's time to live.
func (c *conn) releaseSession() {
	if !c.userSlot {
		return
	}
	s := c.srv
	ctx, cancel := context.WithTimeout(context.Background(), sessionCountTimeout)
	defer cancel()
	if err := s.sessions.Release(ctx, c.ident.UserID, c.id); err != nil {
		s.sessionCountFailed(err)
	}
}

// sessionCountFailed logs, at most once per sessionCountWarnEvery, that
// the shared session count failed.
func (s *Server) sessionCountFailed(err error) {
	now := time.Now().UnixNano()
	last := s.countWarned.Load()
	if now-last < int64(sessionCountWarnEvery) || !s.countWarned.CompareAndSwap(last, now) {
		return
	}
	s.log.Warn("the session count shared by the nodes failed: sessions per user are capped per node until it answers", "err", err)
}
