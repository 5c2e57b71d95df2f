package escalation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
)

// Opening escalations: recording a report once per message, and the last
// resort when it cannot be recorded.

// Open records a new escalation and notifies the first tier at once: the
// primary supervisor on call, or, when nobody is, the backup on call and
// every online supervisor. It returns once the escalation is durable and
// the first notification was attempted.
//
// In: Source, Subject, and for the detector and flag sources Conv and
// Message (Message.Seq identifies the message); ReportedBy for flags and
// concerns; optionally SubjectName, ConvKind, ConvName, Reason, Severity,
// Categories, Evidence, Context (the last MaxContext are kept). Flags and
// concerns without a severity count as high. Status, tier, times and the
// timeline are the engine's to set; an ID may be given to make retries of
// the same Open idempotent.
//
// A message escalates once: opening it again (another node, a retry, a
// second reporter) returns the existing escalation, raising its severity
// when the new report is more severe and noting a second reporter in the
// timeline.
//
// Open refuses (CodeInvalidField) only what makes an escalation
// meaningless: an unknown source, no subject, a flag without its message.
// An error from the Store means nothing was recorded; the caller must
// retry. Even then Open has already tried to tell every online supervisor.
func (eng *Engine) Open(ctx context.Context, in *Escalation) (*Escalation, error) {
	if in == nil {
		return nil, chat.Errorf(chat.CodeInvalidField, "no escalation")
	}
	// Once asked, Open finishes whatever the caller's context does: a
	// client that disconnects right after sending must not cancel the
	// record or the first page (nor leave the lease held until it
	// expires). It keeps the caller's deadline, though, and has one of its
	// own when the caller set none, so a hung database cannot hang the
	// caller for longer than it asked.
	ctx, cancel := detach(ctx, 2*eng.ntime+eng.ttl)
	defer cancel()
	now := eng.clock.Now()
	e := in.Clone()
	if err := prepare(e); err != nil {
		return nil, err
	}
	if e.ID == "" {
		e.ID = NewID("esc_")
	}
	e.Status = StatusOpen
	// Tier -1 and a deadline of now make the escalation due at once: if
	// this node dies before the first notification, any node's Run
	// sends it on its next tick.
	e.Tier = -1
	e.CreatedAt = now
	e.AckDeadline = now
	e.AckedAt, e.ResolvedAt = time.Time{}, time.Time{}
	e.AssignedTo, e.Outcome = "", ""
	e.LeaseOwner, e.LeaseUntil = "", time.Time{}
	actor := e.ReportedBy
	if actor == "" {
		actor = SystemActor
	}
	created := Step{At: now, Kind: StepCreated, Actor: actor,
		Detail: fmt.Sprintf("%s, %s, node %s", e.Source, e.Severity, eng.node)}
	e.Timeline = []Step{created}
	e.Outbox = eng.outbox(e, "escalation.created", now, 0)

	stored, isNew, err := eng.store.Create(ctx, e)
	if err != nil {
		eng.failOpen(ctx, e, err)
		return nil, fmt.Errorf("escalation: record: %w", err)
	}
	if !isNew {
		return eng.duplicate(ctx, stored, e, now)
	}
	eng.log.Info("escalation opened", "escalation", stored.ID, "severity", stored.Severity.String(),
		"source", string(stored.Source), "conv", stored.Conv)

	eng.drive(ctx, stored.ID)
	if cur, err := eng.store.Get(ctx, stored.ID); err == nil {
		return cur, nil
	}
	return stored, nil
}

// failOpen is the last resort when the escalation cannot be recorded (the
// database is down): tell every online supervisor anyway, since presence
// does not depend on the database, and make the failure loud. It runs in
// the background with a deadline of its own (the store may have used up
// Open's), so that Open returns its error within the caller's deadline;
// Wait waits for it.
func (eng *Engine) failOpen(ctx context.Context, e *Escalation, cause error) {
	eng.log.Error("escalation NOT RECORDED: store failed; notifying online supervisors directly",
		"escalation", e.ID, "severity", e.Severity.String(), "conv", e.Conv, "err", cause)
	e = e.Clone()
	eng.bg.Go(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), eng.ntime)
		defer cancel()
		eng.pageOnline(ctx, e)
	})
}

// pageOnline pages every online supervisor about e, which is not recorded.
func (eng *Engine) pageOnline(ctx context.Context, e *Escalation) {
	online, err := eng.online(ctx)
	if err != nil {
		eng.log.Error("escalation: online supervisors unavailable", "escalation", e.ID, "err", err)
	}
	online = without(online, e.Subject)
	if len(online) == 0 {
		eng.log.Error("escalation NOT RECORDED and NO SUPERVISOR REACHABLE", "escalation", e.ID)
		return
	}
	now := eng.clock.Now()
	e.Tier = 1
	step := Step{At: now, Kind: StepNotified, Actor: SystemActor, Recipients: online,
		Detail: "NOT RECORDED: the escalation store failed; node " + eng.node}
	e.Timeline = append(e.Timeline, step)
	if _, err := eng.call(ctx, e, online, step); err != nil {
		eng.log.Error("escalation: notify failed", "escalation", e.ID, "err", err)
	}
}

// Wait waits for the background notifications Open started when it could
// not record an escalation. Call it once nothing calls Open any more (the
// server does, at the end of its shutdown).
func (eng *Engine) Wait() { eng.bg.Wait() }

// detach returns a context that is not cancelled with ctx but keeps its
// deadline, or has the deadline def from now when ctx has none.
func detach(ctx context.Context, def time.Duration) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok {
		return context.WithDeadline(context.WithoutCancel(ctx), d)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), def)
}

// duplicate handles an Open for a message that already escalated: a more
// severe report raises the severity (and brings the next step forward), a
// new reporter is noted; anything else (a retry, another node's detector)
// changes nothing.
func (eng *Engine) duplicate(ctx context.Context, old, in *Escalation, now time.Time) (*Escalation, error) {
	if !newsIn(old, in) {
		return old, nil
	}
	var step Step
	cur, err := eng.store.Update(ctx, old.ID, func(e *Escalation) error {
		if !newsIn(e, in) {
			return errNothingNew
		}
		actor := in.ReportedBy
		if actor == "" {
			actor = SystemActor
		}
		step = Step{At: now, Kind: StepNote, Actor: actor}
		raised := in.Severity > e.Severity && e.Status != StatusResolved
		switch {
		case raised:
			step.Detail = fmt.Sprintf("severity raised from %s to %s (%s)", e.Severity, in.Severity, in.Source)
			e.Severity = in.Severity
			for _, c := range in.Categories {
				if !slices.Contains(e.Categories, c) {
					e.Categories = append(e.Categories, c)
				}
			}
			if e.Status == StatusOpen {
				if d := now.Add(eng.policy.Timeout(e.Severity)); d.Before(e.AckDeadline) {
					e.AckDeadline = d
				}
			}
			e.Outbox = eng.outbox(e, "escalation.severity_raised", now, 0)
		case e.Status == StatusResolved:
			step.Detail = fmt.Sprintf("flagged again after resolution (%s, %s)", in.Source, in.Severity)
		default:
			step.Detail = fmt.Sprintf("also flagged (%s, %s)", in.Source, in.Severity)
		}
		e.Timeline = append(e.Timeline, step)
		return nil
	})
	if errors.Is(err, errNothingNew) {
		return eng.store.Get(ctx, old.ID)
	}
	if err != nil {
		// The escalation exists and is being handled; failing to add
		// the note must not fail the caller's flag.
		eng.log.Error("escalation: recording a repeated report failed", "escalation", old.ID, "err", err)
		return old, nil
	}
	// Tell the people involved so far: the assignee, or everyone paged
	// while nobody has it.
	to := cur.Recipients()
	if cur.AssignedTo != "" && cur.Status != StatusOpen {
		to = []string{cur.AssignedTo}
	}
	eng.tell(ctx, cur, without(to, cur.Subject), step)
	return cur, nil
}

var errNothingNew = errors.New("escalation: nothing new")

// newsIn reports whether report in adds something to escalation e: a higher
// severity while it is not resolved, or a person flagging it who has not
// reported it before.
func newsIn(e, in *Escalation) bool {
	if in.Severity > e.Severity && e.Status != StatusResolved {
		return true
	}
	if in.Source != SourceFlag || in.ReportedBy == "" || in.ReportedBy == e.ReportedBy {
		return false
	}
	for _, s := range e.Timeline {
		if (s.Kind == StepNote || s.Kind == StepCreated) && s.Actor == in.ReportedBy {
			return false
		}
	}
	return true
}

// prepare validates and repairs an escalation given to Open.
func prepare(e *Escalation) error {
	if !e.Source.Valid() {
		return chat.Errorf(chat.CodeInvalidField, "escalation source must be detector, flag or concern")
	}
	e.Subject = clean(e.Subject, maxIDLen)
	if e.Subject == "" {
		return chat.Errorf(chat.CodeInvalidField, "an escalation needs the user at risk (subject)")
	}
	e.Severity = min(e.Severity, crisis.Imminent)
	if e.Severity <= crisis.None {
		if e.Source == SourceDetector {
			return chat.Errorf(chat.CodeInvalidField, "a detector escalation needs a severity")
		}
		// A person who flags without saying how bad it is gets the
		// benefit of the doubt.
		e.Severity = crisis.High
	}
	e.ReportedBy = clean(e.ReportedBy, maxIDLen)
	if e.Source != SourceDetector && e.ReportedBy == "" {
		return chat.Errorf(chat.CodeInvalidField, "a flag or concern needs its reporter")
	}
	e.Conv = clean(e.Conv, maxIDLen)
	if e.Source.perMessage() {
		if e.Conv == "" || (e.Message.Seq <= 0 && !e.Held()) {
			return chat.Errorf(chat.CodeInvalidField, "a flagged message needs its conversation and sequence number")
		}
		if e.Message.Conv != "" && e.Message.Conv != e.Conv {
			return chat.Errorf(chat.CodeInvalidField, "the flagged message belongs to another conversation")
		}
	}
	if e.Message.Seq > 0 && e.Message.Conv == "" {
		e.Message.Conv = e.Conv
	}
	e.ConvName = clean(e.ConvName, maxNameLen)
	e.SubjectName = clean(e.SubjectName, maxNameLen)
	e.Reason = clean(e.Reason, MaxReasonLen)
	e.ConvKind = chat.ConversationKind(clean(string(e.ConvKind), maxNameLen))
	var cats []crisis.Category
	for _, c := range e.Categories {
		if c = crisis.Category(clean(string(c), maxNameLen)); c != "" && !slices.Contains(cats, c) {
			cats = append(cats, c)
		}
	}
	e.Categories = cats
	for i := range e.Evidence {
		e.Evidence[i].Text = clean(e.Evidence[i].Text, MaxReasonLen)
		e.Evidence[i].Rule = clean(e.Evidence[i].Rule, maxNameLen)
	}
	cleanEvent(&e.Message)
	if len(e.Context) > MaxContext {
		e.Context = e.Context[len(e.Context)-MaxContext:]
	}
	for i := range e.Context {
		cleanEvent(&e.Context[i])
	}
	e.Outbox = nil
	return nil
}

func cleanEvent(ev *chat.Event) {
	ev.Conv = clean(ev.Conv, maxIDLen)
	ev.Sender = clean(ev.Sender, maxIDLen)
	ev.Name = clean(ev.Name, maxNameLen)
	ev.ClientID = clean(ev.ClientID, maxIDLen)
	ev.Body = clean(ev.Body, 64<<10)
}

// clean makes s storable everywhere (valid UTF-8, no NUL) and at most max
// bytes, cut on a character boundary.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "")
	}
	return s
}
