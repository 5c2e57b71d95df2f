package server

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// A session's limits are deadlines it keeps (the token's expiry, the
// maximum age, the time of its last frame, the start of a socket write
// in progress), and one watchdog per node (watchSessions) sweeps every
// session a few times a second for those that passed one. A timer per
// limit cost an idle session about 0.45 KiB of heap, three timers and
// their closures, which its memory per connection counts about twice
// (BENCHMARKS.md, issue 15); the sweep costs a few nanoseconds per
// session per round.

// maxSweepInterval bounds how late a limit is noticed: a token's expiry
// ends its session within half a second.
const maxSweepInterval = 500 * time.Millisecond

// startSessionLimits arms the server's own session limits once the hello
// is done: the idle timeout (no frame from the client for
// Config.SessionIdleTimeout; the read path stores the time of each frame)
// and the maximum age (Config.SessionMaxAge since the hello).
func (c *conn) startSessionLimits() {
	cfg := &c.srv.cfg
	now := time.Now()
	if cfg.SessionIdleTimeout > 0 {
		c.lastFrame.Store(now.UnixNano())
	}
	if d := cfg.SessionMaxAge; d > 0 {
		c.maxAgeAt.Store(now.Add(d).UnixNano())
	}
}

// expireWithToken ends the session when its token expires: the client must
// sign in again, and nothing the token allowed outlives it.
func (c *conn) expireWithToken() {
	if !c.ident.Expires.IsZero() {
		c.tokenEnd.Store(c.ident.Expires.UnixNano())
	}
}

// extendToken moves the session's end to a fresh token's expiry (reauth).
// It reports false when a limit already ended the session.
func (c *conn) extendToken(expires time.Time) bool {
	if !expires.IsZero() {
		c.tokenEnd.Store(expires.UnixNano())
	}
	return !c.limited.Load()
}

// sessionLimit says which limit a session passed.
type sessionLimit uint8

const (
	limitNone sessionLimit = iota
	limitWrite
	limitToken
	limitMaxAge
	limitIdle
)

type dueSession struct {
	c   *conn
	why sessionLimit
}

// watchSessions ends the sessions that pass a limit: a socket write stuck
// longer than WriteTimeout (a peer that stopped reading, a dead network
// path), the token's expiry, SessionMaxAge and SessionIdleTimeout.
func (s *Server) watchSessions(ctx context.Context) {
	t := time.NewTicker(s.sweepInterval())
	defer t.Stop()
	var due []dueSession
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		due = s.dueSessions(time.Now().UnixNano(), due[:0])
		for i := range due {
			due[i].c.endByLimit(due[i].why)
			due[i] = dueSession{}
		}
	}
}

// sweepInterval is a quarter of the shortest limit, at most
// maxSweepInterval.
func (s *Server) sweepInterval() time.Duration {
	d := maxSweepInterval
	for _, l := range [...]time.Duration{s.cfg.WriteTimeout, s.cfg.SessionIdleTimeout, s.cfg.SessionMaxAge} {
		if l > 0 {
			d = min(d, l/4)
		}
	}
	return max(d, 10*time.Millisecond)
}

// dueSessions appends the sessions past a limit at now (unix ns). The
// session lock is not taken: every deadline is an atomic.
func (s *Server) dueSessions(now int64, due []dueSession) []dueSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if why := c.limitPassed(now); why != limitNone {
			due = append(due, dueSession{c, why})
		}
	}
	return due
}

func (c *conn) limitPassed(now int64) sessionLimit {
	cfg := &c.srv.cfg
	if w := c.writeStart.Load(); w != 0 && now-w > int64(cfg.WriteTimeout) {
		return limitWrite
	}
	if c.limited.Load() {
		return limitNone // already ending
	}
	why := limitNone
	switch last := c.lastFrame.Load(); {
	case expired(&c.tokenEnd, now):
		why = limitToken
	case expired(&c.maxAgeAt, now):
		why = limitMaxAge
	case cfg.SessionIdleTimeout > 0 && last != 0 && now-last >= int64(cfg.SessionIdleTimeout):
		why = limitIdle
	}
	if why != limitNone && !c.limited.CompareAndSwap(false, true) {
		return limitNone
	}
	return why
}

func expired(deadline *atomic.Int64, now int64) bool {
	d := deadline.Load()
	return d != 0 && d <= now
}

// endByLimit ends the session for why, telling the client when it can
// still be told.
func (c *conn) endByLimit(why sessionLimit) {
	switch why {
	case limitWrite:
		c.srv.log.Info("write timed out; dropping session", "session", c.id, "user", c.ident.UserID)
		c.ws.CloseNow()
	case limitToken:
		c.sendError("", "", "", &chat.Error{Code: chat.CodeTokenExpired, Message: "your sign-in expired"})
		c.close(protocol.CloseUnauthorized, "token expired")
	case limitMaxAge:
		c.endSession(protocol.CloseSessionMaxAge, &chat.Error{Code: chat.CodeSessionMaxAge,
			Message: "the session reached its maximum age; reconnect to go on"})
	case limitIdle:
		c.endSession(protocol.CloseSessionIdle, &chat.Error{Code: chat.CodeSessionIdle,
			Message: "no frame from the client for " + c.srv.cfg.SessionIdleTimeout.String() + "; reconnect to go on"})
	}
}

// endSession tells the client why and closes the session with code.
func (c *conn) endSession(code websocket.StatusCode, e *chat.Error) {
	c.srv.log.Info("session ended by limit", "session", c.id, "user", c.ident.UserID, "code", e.Code)
	c.refuse(code, e)
}
