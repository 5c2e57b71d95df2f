package signaling

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/pion/logging"
)

// netLogFactory hands pion's loggers to slog. pion's Info is per
// connection chatter, so it goes to Debug; formatting waits until the
// level is known to be on, since pion traces on hot paths.
type netLogFactory struct{ log *slog.Logger }

func (f netLogFactory) NewLogger(scope string) logging.LeveledLogger {
	return netLogger{f.log.With("scope", scope)}
}

type netLogger struct{ log *slog.Logger }

func (l netLogger) logf(level slog.Level, format string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, redactAddrs(fmt.Sprintf(format, args...)))
	}
}

// addrLike matches what pion's messages may carry of a person's network:
// IPv4 and IPv6 addresses (with a port or not) and ICE credentials.
var addrLike = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b|\[?[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}\]?(?::\d+)?|ufrag \S+`)

// redactAddrs masks addresses in a pion message: a participant's IP is
// personal data, and logs must not say who connected from where
// (candidate text never reaches the logs).
func redactAddrs(msg string) string {
	return addrLike.ReplaceAllString(msg, "<addr>")
}

func (l netLogger) Trace(msg string)                  { l.logf(slog.LevelDebug, "%s", msg) }
func (l netLogger) Tracef(format string, args ...any) { l.logf(slog.LevelDebug, format, args...) }
func (l netLogger) Debug(msg string)                  { l.logf(slog.LevelDebug, "%s", msg) }
func (l netLogger) Debugf(format string, args ...any) { l.logf(slog.LevelDebug, format, args...) }
func (l netLogger) Info(msg string)                   { l.logf(slog.LevelDebug, "%s", msg) }
func (l netLogger) Infof(format string, args ...any)  { l.logf(slog.LevelDebug, format, args...) }

// pion warns about every socket closed under a reader as a participant
// leaves (tens of lines per session): its warnings are debug here, its
// errors warnings. What matters to an operator (a participant who could
// not connect) the SFU says itself.
func (l netLogger) Warn(msg string)                   { l.logf(slog.LevelDebug, "%s", msg) }
func (l netLogger) Warnf(format string, args ...any)  { l.logf(slog.LevelDebug, format, args...) }
func (l netLogger) Error(msg string)                  { l.logf(slog.LevelWarn, "%s", msg) }
func (l netLogger) Errorf(format string, args ...any) { l.logf(slog.LevelWarn, format, args...) }
