package server

import (
	"context"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// The retention purge (docs/security.md#retention-and-erasure): at start
// and every Config.PurgeInterval, on whichever node holds the purge's
// lease, conversation entries past their horizon and escalations resolved
// long enough ago are removed in bounded store transactions, off the
// committer, and counted in the log (never their content).

// purgeJob names the purge's lease in the store.
const purgeJob = "purge"

// purgeLease is how long a node holds the purge after each step; another
// node takes it over only once a crashed holder's lease lapsed.
const purgeLease = 5 * time.Minute

// purgePause is the rest between two rounds, which leaves the write path
// (the committer's transactions) room between the purge's.
const purgePause = 20 * time.Millisecond

// PurgeReport counts what one purge removed.
type PurgeReport struct {
	Ran         bool // false: another node holds the purge
	Convs       int  // conversations (rooms and DMs) entries were removed from
	Entries     int  // log entries: messages and their edits, deletes and hides
	Messages    int
	Escalations int
}

// checkpointer is a store that can truncate its write-ahead log
// (sqlite.Store), so that removed text leaves it.
type checkpointer interface {
	Checkpoint(ctx context.Context) error
}

// runPurge purges at start and then every PurgeInterval until ctx ends.
func (s *Server) runPurge(ctx context.Context, node string) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.Purge(ctx, node); err != nil && ctx.Err() == nil {
			s.log.Error("purge failed", "err", err)
		}
		t.Reset(s.cfg.PurgeInterval)
	}
}

// Purge runs one purge as node, if no other node is running one, and
// logs what it removed.
func (s *Server) Purge(ctx context.Context, node string) (PurgeReport, error) {
	var rep PurgeReport
	ok, err := s.store.TryJobLease(ctx, purgeJob, node, time.Now().Add(purgeLease))
	if err != nil || !ok {
		return rep, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.store.ReleaseJobLease(ctx, purgeJob, node); err != nil {
			s.log.Warn("purge lease not released", "err", err)
		}
	}()
	rep.Ran = true
	err = s.purgeMessages(ctx, node, &rep)
	if err == nil {
		err = s.purgeEscalations(ctx, node, &rep)
	}
	if rep.Entries+rep.Escalations > 0 {
		s.log.Info("purged", "conversations", rep.Convs, "entries", rep.Entries, "messages", rep.Messages,
			"escalations", rep.Escalations)
		s.checkpoint(ctx, "purge")
	}
	return rep, err
}

// purgeMessages runs purge rounds until every conversation was visited.
func (s *Server) purgeMessages(ctx context.Context, node string, rep *PurgeReport) error {
	req := chat.PurgeRequest{Global: s.cfg.RetainMessages, Now: time.Now(), Limit: s.cfg.PurgeBatch}
	convs := map[string]struct{}{}
	defer func() { rep.Convs = len(convs) }()
	for {
		res, err := s.store.PurgeMessages(ctx, req)
		if err != nil {
			return err
		}
		for _, c := range res.Convs {
			convs[c] = struct{}{}
		}
		rep.Entries += res.Events
		rep.Messages += res.Messages
		if !res.More {
			return nil
		}
		req.After = res.Next
		if err := s.purgeStep(ctx, node); err != nil {
			return err
		}
	}
}

// purgeEscalations removes resolved escalations past RetainEscalations.
func (s *Server) purgeEscalations(ctx context.Context, node string, rep *PurgeReport) error {
	if s.cfg.RetainEscalations <= 0 {
		return nil
	}
	before := time.Now().Add(-s.cfg.RetainEscalations)
	for {
		n, err := s.store.PurgeEscalations(ctx, before, s.cfg.PurgeBatch)
		rep.Escalations += n
		if err != nil || n < s.cfg.PurgeBatch {
			return err
		}
		if err := s.purgeStep(ctx, node); err != nil {
			return err
		}
	}
}

// purgeStep rests between two rounds and renews the lease; it fails when
// ctx ended or the lease went to another node.
func (s *Server) purgeStep(ctx context.Context, node string) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(purgePause):
	}
	ok, err := s.store.TryJobLease(ctx, purgeJob, node, time.Now().Add(purgeLease))
	if err == nil && !ok {
		err = chat.Errorf(chat.CodeConflict, "another node took the purge over")
	}
	return err
}

// checkpoint truncates the store's write-ahead log, where it has one,
// after work that removed text.
func (s *Server) checkpoint(ctx context.Context, after string) {
	if c, ok := s.store.(checkpointer); ok {
		if err := c.Checkpoint(ctx); err != nil {
			s.log.Error("checkpoint failed", "after", after, "err", err)
		}
	}
}

// checkRetention refuses a room's retain_days that id may not set (only
// the room's owner and admins: set_room_retention) or that would keep
// messages longer than the deployment does.
func (s *Server) checkRetention(ctx context.Context, id auth.Identity, room string, days int) error {
	if _, err := s.permitIn(ctx, id, room, auth.ActSetRetention); err != nil {
		return err
	}
	if g := s.cfg.RetainMessages; g > 0 && time.Duration(days)*24*time.Hour > g {
		return chat.Errorf(chat.CodeInvalidField, "retain_days is at most %d here: a room may keep messages for less time than the deployment, not more",
			int(g/(24*time.Hour)))
	}
	return nil
}
