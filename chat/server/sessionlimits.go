package server

import (
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// startSessionLimits arms the server's own session limits, once the hello
// is done: the idle timeout (no frame from the client for
// Config.SessionIdleTimeout) and the maximum age (Config.SessionMaxAge
// since the hello). One timer each, no goroutine: the idle timer re-arms
// itself for what is left when frames came meanwhile, so the read path
// only stores the time of each frame.
func (c *conn) startSessionLimits() {
	cfg := &c.srv.cfg
	if d := cfg.SessionIdleTimeout; d > 0 {
		c.lastFrame.Store(time.Now().UnixNano())
		c.idle.Store(time.AfterFunc(d, c.checkIdle))
	}
	if d := cfg.SessionMaxAge; d > 0 {
		c.maxAge = time.AfterFunc(d, func() {
			c.endSession(protocol.CloseSessionMaxAge, &chat.Error{Code: chat.CodeSessionMaxAge,
				Message: "the session reached its maximum age; reconnect to go on"})
		})
	}
}

// checkIdle ends the session if no frame came for the idle timeout, and
// otherwise waits for what is left of it after the last frame.
func (c *conn) checkIdle() {
	d := c.srv.cfg.SessionIdleTimeout
	left := d - time.Since(time.Unix(0, c.lastFrame.Load()))
	if t := c.idle.Load(); left > 0 && t != nil {
		t.Reset(left)
		return
	}
	c.endSession(protocol.CloseSessionIdle, &chat.Error{Code: chat.CodeSessionIdle,
		Message: "no frame from the client for " + d.String() + "; reconnect to go on"})
}

// endSession tells the client why and closes the session with code.
func (c *conn) endSession(code websocket.StatusCode, e *chat.Error) {
	c.srv.log.Info("session ended by limit", "session", c.id, "user", c.ident.UserID, "code", e.Code)
	c.refuse(code, e)
}

// stopSessionLimits stops the timers (teardown).
func (c *conn) stopSessionLimits() {
	if t := c.idle.Load(); t != nil {
		t.Stop()
	}
	if c.maxAge != nil {
		c.maxAge.Stop()
	}
}
