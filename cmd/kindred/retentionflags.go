package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kindred-health/kindred/chat/server"
)

// retentionFlags are how long serve keeps messages and escalations
// (docs/security.md#retention-and-erasure).
type retentionFlags struct {
	messages, escalations retainValue
	interval              time.Duration
}

// retainValue is a retention given as days ("90d") or as a Go duration
// ("2160h"); 0 keeps forever.
type retainValue struct{ d time.Duration }

func (v *retainValue) String() string {
	if v == nil || v.d == 0 {
		return "0"
	}
	if v.d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v.d/(24*time.Hour)), 10) + "d"
	}
	return v.d.String()
}

func (v *retainValue) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 36500 {
			return fmt.Errorf("%q: days are a whole number from 0 to 36500", s)
		}
		v.d = time.Duration(days) * 24 * time.Hour
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("%q: give days (90d) or a duration (2160h), 0 to keep forever", s)
	}
	v.d = d
	return nil
}

func addRetentionFlags(fs *flagSet) *retentionFlags {
	r := &retentionFlags{}
	fs.FlagSet.Var(&r.messages, "retain-messages", fs.bind("retain-messages",
		"remove messages (and their edits, pins and support notes) older than this, as days (90d) or a duration; a room may keep less with retain_days, never more (0: keep forever)"))
	fs.FlagSet.Var(&r.escalations, "retain-escalations", fs.bind("retain-escalations",
		"remove resolved escalations this long after they were resolved, as days or a duration; open and acknowledged ones are never removed (0: keep forever)"))
	fs.DurationVar(&r.interval, "purge-interval", time.Hour, "how often the retention purge runs (also at start; one node at a time)")
	return r
}

func (r *retentionFlags) check() error {
	if r.interval < time.Minute {
		return fmt.Errorf("--purge-interval must be at least 1m")
	}
	return nil
}

func (r *retentionFlags) apply(cfg *server.Config) {
	cfg.RetainMessages, cfg.RetainEscalations, cfg.PurgeInterval = r.messages.d, r.escalations.d, r.interval
}
