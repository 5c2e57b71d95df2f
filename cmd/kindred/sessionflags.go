package main

import (
	"fmt"
	"time"

	"github.com/kindred-health/kindred/chat/server"
)

// minSessionIdle is the shortest --session-idle-timeout: the browser
// client pings after 20 s of quiet, so a shorter one would close open tabs.
const minSessionIdle = 30 * time.Second

// sessionFlags are the server's own limits on a WebSocket session.
type sessionFlags struct {
	idle, maxAge time.Duration
}

func addSessionFlags(fs *flagSet) *sessionFlags {
	s := &sessionFlags{}
	fs.DurationVar(&s.idle, "session-idle-timeout", 10*time.Minute, "close a WebSocket session that sent no frame, not even a ping, for this long (4012 session_idle; the browser client pings after 20 s of quiet; at least 30s, 0: never)")
	fs.DurationVar(&s.maxAge, "session-max-age", 24*time.Hour, "close every WebSocket session this long after its hello, however active (4013 session_max_age; the client reconnects and its token is checked again; 0: only at the token's expiry)")
	return s
}

func (s *sessionFlags) check() error {
	if s.idle < 0 || s.maxAge < 0 {
		return fmt.Errorf("--session-idle-timeout and --session-max-age may not be negative")
	}
	if s.idle > 0 && s.idle < minSessionIdle {
		return fmt.Errorf("--session-idle-timeout must be 0 or at least %v: the browser client pings only after 20 s of quiet", minSessionIdle)
	}
	return nil
}

func (s *sessionFlags) apply(cfg *server.Config) {
	cfg.SessionIdleTimeout, cfg.SessionMaxAge = s.idle, s.maxAge
}
