package escalation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// Supervisors' actions on an escalation.

// everyone paged so far is told who has it. Acknowledging again as the
// same supervisor changes nothing; an escalation acknowledged by someone
// else, or resolved, is refused with CodeConflict.
func (eng *Engine) Ack(ctx context.Context, id, supervisor string) (*Escalation, error) {
	if supervisor == "" {
		return nil, chat.Errorf(chat.CodeInvalidField, "who acknowledges?")
	}
	now := eng.clock.Now()
	var step Step
	var changed bool
	e, err := eng.store.Update(ctx, id, func(e *Escalation) error {
		switch e.Status {
		case StatusResolved:
			return chat.Errorf(chat.CodeConflict, "escalation %s is already resolved", e.ID)
		case StatusAcknowledged:
			if e.AssignedTo == supervisor {
				return nil
			}
			return chat.Errorf(chat.CodeConflict, "escalation %s is already acknowledged by %s", e.ID, e.AssignedTo)
		}
		changed = true
		step = Step{At: now, Kind: StepAcknowledged, Actor: supervisor, Detail: fmt.Sprintf("at tier %d", max(e.Tier, 0))}
		e.Status = StatusAcknowledged
		e.AssignedTo = supervisor
		if e.AckedAt.IsZero() {
			e.AckedAt = now
		}
		e.AckDeadline = time.Time{}
		e.Timeline = append(e.Timeline, step)
		e.Outbox = eng.outbox(e, "escalation.acknowledged", now, 0)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if changed {
		eng.log.Info("escalation acknowledged", "escalation", id, "by", supervisor)
		eng.tell(ctx, e, without(e.Recipients(), supervisor), step)
	}
	return e, nil
}

// AddNote appends a supervisor's note to the timeline (any status, so
// follow-up after resolution is recorded too).
func (eng *Engine) AddNote(ctx context.Context, id, supervisor, text string) (*Escalation, error) {
	text = strings.TrimSpace(text)
	if supervisor == "" || text == "" {
		return nil, chat.Errorf(chat.CodeInvalidField, "a note needs its author and text")
	}
	if len(text) > MaxNoteLen || !storable(text) {
		return nil, chat.Errorf(chat.CodeInvalidField, "a note must be at most %d bytes of valid text", MaxNoteLen)
	}
	return eng.record(ctx, id, Step{Kind: StepNote, Actor: supervisor, Detail: text})
}

// JoinedRoom records that supervisor joined the escalation's conversation.
// It does not acknowledge: that stays an explicit act (Ack), so the
// engine's promise "we keep escalating until a person acknowledges" has
// exactly one meaning.
func (eng *Engine) JoinedRoom(ctx context.Context, id, supervisor string) (*Escalation, error) {
	if supervisor == "" {
		return nil, chat.Errorf(chat.CodeInvalidField, "who joined?")
	}
	return eng.record(ctx, id, Step{Kind: StepJoinedRoom, Actor: supervisor})
}

// OpenedDM records that supervisor opened the one-on-one conversation dm
// with the person at risk. Like JoinedRoom it does not acknowledge.
func (eng *Engine) OpenedDM(ctx context.Context, id, supervisor, dm string) (*Escalation, error) {
	if supervisor == "" {
		return nil, chat.Errorf(chat.CodeInvalidField, "who opened the conversation?")
	}
	return eng.record(ctx, id, Step{Kind: StepOpenedDM, Actor: supervisor, Detail: clean(dm, maxIDLen)})
}

// record appends a step that changes nothing else.
func (eng *Engine) record(ctx context.Context, id string, step Step) (*Escalation, error) {
	step.At = eng.clock.Now()
	e, err := eng.store.Update(ctx, id, func(e *Escalation) error {
		if step.Kind == StepJoinedRoom {
			step.Detail = e.Conv
		}
		e.Timeline = append(e.Timeline, step)
		return nil
	})
	if err == nil {
		eng.tell(ctx, e, nil, step)
	}
	return e, err
}

// HandOff passes the escalation from supervisor from to supervisor to.
// A handoff is not complete until to acknowledges: the escalation becomes
// open again (assigned to to), to is notified at once, and if nobody
// acknowledges by the deadline the engine escalates as usual. An open
// escalation keeps its earlier deadline, so a handoff never delays a page.
// Refused with CodeConflict when the escalation is resolved or assigned to
// someone other than from.
func (eng *Engine) HandOff(ctx context.Context, id, from, to string) (*Escalation, error) {
	to = clean(to, maxIDLen)
	if from == "" || to == "" || from == to {
		return nil, chat.Errorf(chat.CodeInvalidField, "a handoff needs two different supervisors")
	}
	now := eng.clock.Now()
	var step Step
	e, err := eng.store.Update(ctx, id, func(e *Escalation) error {
		if e.Status == StatusResolved {
			return chat.Errorf(chat.CodeConflict, "escalation %s is already resolved", e.ID)
		}
		if e.AssignedTo != "" && e.AssignedTo != from {
			return chat.Errorf(chat.CodeConflict, "escalation %s is assigned to %s", e.ID, e.AssignedTo)
		}
		if to == e.Subject {
			return chat.Errorf(chat.CodeInvalidField, "cannot hand an escalation to the person at risk")
		}
		deadline := now.Add(eng.policy.Timeout(e.Severity))
		if e.Status == StatusOpen && !e.AckDeadline.IsZero() && e.AckDeadline.Before(deadline) {
			deadline = e.AckDeadline
		}
		step = Step{At: now, Kind: StepHandedOff, Actor: from, Detail: "to " + to, Recipients: []string{to}}
		e.Status = StatusOpen
		e.AssignedTo = to
		e.AckDeadline = deadline
		e.Tier = max(e.Tier, 0)
		e.Timeline = append(e.Timeline, step)
		e.Outbox = eng.outbox(e, "escalation.handed_off", now, 1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	eng.log.Info("escalation handed off", "escalation", id, "from", from, "to", to)
	eng.tell(ctx, e, []string{to}, step)
	return e, nil
}

// Resolve closes the escalation with outcome (what happened, written by the
// supervisor). Resolving an unacknowledged escalation also counts as its
// acknowledgement. Everyone paged so far is told. Refused with
// CodeConflict when it is already resolved.
func (eng *Engine) Resolve(ctx context.Context, id, supervisor, outcome string) (*Escalation, error) {
	outcome = strings.TrimSpace(outcome)
	if supervisor == "" || outcome == "" {
		return nil, chat.Errorf(chat.CodeInvalidField, "a resolution needs its supervisor and outcome")
	}
	if len(outcome) > MaxOutcomeLen || !storable(outcome) {
		return nil, chat.Errorf(chat.CodeInvalidField, "the outcome must be at most %d bytes of valid text", MaxOutcomeLen)
	}
	now := eng.clock.Now()
	var step Step
	e, err := eng.store.Update(ctx, id, func(e *Escalation) error {
		if e.Status == StatusResolved {
			return chat.Errorf(chat.CodeConflict, "escalation %s is already resolved", e.ID)
		}
		step = Step{At: now, Kind: StepResolved, Actor: supervisor, Detail: outcome}
		e.Status = StatusResolved
		e.Outcome = outcome
		e.ResolvedAt = now
		if e.AckedAt.IsZero() {
			e.AckedAt = now
		}
		if e.AssignedTo == "" {
			e.AssignedTo = supervisor
		}
		e.AckDeadline = time.Time{}
		e.Timeline = append(e.Timeline, step)
		e.Outbox = eng.outbox(e, "escalation.resolved", now, 0)
		return nil
	})
	if err != nil {
		return nil, err
	}
	eng.log.Info("escalation resolved", "escalation", id, "by", supervisor)
	eng.tell(ctx, e, without(e.Recipients(), supervisor), step)
	return e, nil
}

// Get returns one escalation, or ErrNotFound.
func (eng *Engine) Get(ctx context.Context, id string) (*Escalation, error) {
	return eng.store.Get(ctx, id)
}

// List returns escalations matching f: unacknowledged, most severe and
// oldest first (Store.List).
func (eng *Engine) List(ctx context.Context, f Filter) ([]*Escalation, error) {
	return eng.store.List(ctx, f)
}

// without returns ids minus drop, as a new slice.
func without(ids []string, drop string) []string {
	var out []string
	for _, id := range ids {
		if id != drop && id != "" {
			out = appendUnique(out, id)
		}
	}
	return out
}
