package escalation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Escalation steps: who each tier pages, and recording what happened.

// plan is who a step notifies.
type plan struct {
	tier       int
	recipients []string
	what       string   // who they are, for the timeline
	problems   []string // lookups that failed or came back empty
}

// recipients works out who tier t notifies at now. Lookup failures do not
// stop the step: a failed presence lookup must not keep the page from the
// on-call list, so they are noted and the step goes on with whoever is
// known.
func (eng *Engine) recipients(ctx context.Context, e *Escalation, t int, now time.Time) plan {
	p := plan{tier: t}
	lookup := func(what string, fn func() ([]string, error)) []string {
		ids, err := fn()
		if err != nil {
			eng.log.Error("escalation: recipient lookup failed", "escalation", e.ID, "lookup", what, "err", err)
			p.problems = append(p.problems, what+" lookup failed")
		}
		return without(ids, e.Subject) // never page the person at risk about themselves
	}
	primary := lookup("on-call primary", func() ([]string, error) { return eng.store.OnCall(ctx, now, ShiftPrimary) })
	// A handed-off escalation stays with its new supervisor until
	// someone acknowledges it.
	var assignee []string
	if e.AssignedTo != "" && e.AssignedTo != e.Subject {
		assignee = []string{e.AssignedTo}
	}
	if p.tier == 0 {
		if len(primary) > 0 {
			p.recipients = appendUnique(appendUnique(nil, primary...), assignee...)
			p.what = "tier 0: primary on call"
			return p
		}
		p.problems = append(p.problems, "nobody on call as primary")
		p.tier = 1
	}
	backup := lookup("on-call backup", func() ([]string, error) { return eng.store.OnCall(ctx, now, ShiftBackup) })
	online := lookup("online supervisors", func() ([]string, error) { return eng.online(ctx) })
	// The primary is paged again at every tier: not acknowledging may
	// mean they missed the first page, and a repeat costs nothing.
	p.recipients = appendUnique(appendUnique(appendUnique(appendUnique(nil, primary...), assignee...), backup...), online...)
	p.what = fmt.Sprintf("tier %d: primary and backup on call, online supervisors", p.tier)
	if p.tier >= 2 {
		p.what += ", admins"
		if eng.admins != nil {
			p.recipients = appendUnique(p.recipients, lookup("admins", func() ([]string, error) { return eng.admins(ctx) })...)
		}
	}
	return p
}

// online asks the Notifier for online supervisors, recovering from a panic
// in it: a bug there must not take the escalation path down with it.
func (eng *Engine) online(ctx context.Context) (ids []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("escalation: OnlineSupervisors panicked: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, eng.ntime)
	defer cancel()
	return eng.notify.OnlineSupervisors(ctx)
}

// advance takes the next escalation step of e, which is open and due and
// whose lease this node holds: notify the next tier, then record the step
// (only if the lease is still ours) with its webhook and the next deadline.
//
// A tier counts as paged only when one of its recipients has a session
// that may receive pages (Notify says who); when it had recipients and
// none was reached, the next tier is paged at once, in the same step, up
// to the last tier.
//
// Notification comes before the record on purpose: if the node dies in
// between, the step is taken again by the next node (a repeated page),
// whereas recording first and dying would skip a page.
func (eng *Engine) advance(ctx context.Context, e *Escalation) error {
	now := eng.clock.Now()
	kind := StepEscalated
	if e.Tier < 0 {
		kind = StepNotified
	}
	var steps []Step
	var pg paged
	for tier := max(e.Tier+1, 0); ; tier = pg.tier + 1 {
		pg = eng.page(ctx, e, tier, kind, now)
		steps = append(steps, pg.step)
		if pg.reached > 0 || pg.tried == 0 || pg.failed || pg.tier >= LastTier || ctx.Err() != nil {
			break
		}
		kind = StepEscalated
	}
	_, err := eng.store.Update(ctx, e.ID, func(cur *Escalation) error {
		// Fencing: if our lease expired and another node took the
		// escalation over, that node owns this step.
		if cur.LeaseOwner != eng.node {
			return errLeaseLost
		}
		cur.Timeline = append(cur.Timeline, steps...)
		// A supervisor may have acknowledged while we were notifying:
		// the page went out and is recorded, but it must not reopen the
		// escalation.
		if cur.Status == StatusOpen {
			cur.Tier = max(cur.Tier, pg.tier)
			cur.AckDeadline = pg.deadline
		}
		cur.Outbox = eng.outbox(cur, "escalation."+string(pg.step.Kind), now, pg.reached)
		return nil
	})
	if err == nil {
		eng.log.Info("escalation step", "escalation", e.ID, "kind", string(pg.step.Kind), "tier", pg.tier,
			"recipients", pg.tried, "reached", pg.reached, "next", pg.deadline)
	}
	return err
}

// LastTier is the widest tier: every tier from it on pages the same people,
// so a page at a tier beyond it means the whole chain went unacknowledged.
const LastTier = 2

// paged is the outcome of paging one tier.
type paged struct {
	step     Step
	tier     int
	tried    int // recipients paged
	reached  int // of them, those with a session that may receive pages
	failed   bool
	deadline time.Time
}

// page notifies tier t of e and describes the step, without recording it.
func (eng *Engine) page(ctx context.Context, e *Escalation, t int, kind StepKind, now time.Time) paged {
	p := eng.recipients(ctx, e, t, now)
	timeout := eng.policy.Timeout(e.Severity)
	step := Step{At: now, Kind: kind, Actor: SystemActor, Recipients: p.recipients}
	view := e.Clone()
	view.Tier = p.tier
	view.AckDeadline = now.Add(timeout)
	var notifyErr error
	var reached []string
	if len(p.recipients) > 0 {
		step.Detail = p.what
		reached, notifyErr = eng.call(ctx, view, p.recipients, step)
	}
	out := paged{tier: p.tier, tried: len(p.recipients), reached: len(reached), failed: notifyErr != nil,
		deadline: now.Add(timeout)}
	detail := []string{p.what}
	switch {
	case len(p.recipients) == 0:
		// Said plainly in the timeline and the logs: this is the case
		// the whole package exists to make visible.
		msg := "NO SUPERVISOR REACHABLE at tier " + fmt.Sprint(p.tier)
		if eng.hooks {
			msg += "; webhook sent"
		} else {
			msg += "; no webhook configured"
		}
		detail[0] = msg
		eng.log.Error("escalation: NO SUPERVISOR REACHABLE", "escalation", e.ID, "tier", p.tier,
			"severity", e.Severity.String(), "webhook", eng.hooks)
	case notifyErr == nil && len(reached) == 0:
		detail = append(detail, "none of them has a session that may receive pages")
		eng.log.Warn("escalation: page reached no supervisor session", "escalation", e.ID, "tier", p.tier)
	case notifyErr == nil && len(reached) < len(p.recipients):
		detail = append(detail, "reached "+strings.Join(reached, ", "))
	}
	if len(p.problems) > 0 {
		detail = append(detail, strings.Join(p.problems, ", "))
	}
	if notifyErr != nil {
		detail = append(detail, "notify failed: "+clean(notifyErr.Error(), 200))
		eng.log.Error("escalation: notify failed", "escalation", e.ID, "tier", p.tier, "err", notifyErr)
	}
	if out.reached == 0 || out.failed {
		out.deadline = now.Add(eng.policy.retry(e.Severity))
		detail = append(detail, "retry in "+out.deadline.Sub(now).String())
	}
	step.Detail = strings.Join(append(detail, "node "+eng.node), "; ")
	out.step = step
	return out
}

// call runs Notifier.Notify with a timeout, recovering from a panic in it.
func (eng *Engine) call(ctx context.Context, e *Escalation, to []string, step Step) (reached []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("escalation: Notify panicked: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, eng.ntime)
	defer cancel()
	return eng.notify.Notify(ctx, e.Clone(), slices.Clone(to), step)
}

// tell sends an informational notification after a recorded change. It is
// best effort: the change is recorded either way, and a failure is logged.
//
// It is called even with nobody to tell in particular: the Notifier also
// keeps every supervisor's queue current.
func (eng *Engine) tell(ctx context.Context, e *Escalation, to []string, step Step) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), eng.ntime)
	defer cancel()
	if _, err := eng.call(ctx, e, to, step); err != nil {
		eng.log.Warn("escalation: update notification failed", "escalation", e.ID, "step", string(step.Kind), "err", err)
	}
}
