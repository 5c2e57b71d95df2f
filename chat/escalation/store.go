package escalation

import (
	"context"
	"time"
)

// Store keeps escalations, their timelines, the on-call rota and the
// webhook outbox durably. Implementations: NewMemoryStore (tests, and the
// reference), chat/store/sqlite and chat/store/postgres (their Escalations
// methods). All of them pass chat/escalation/escalationtest.
//
// Contract shared by all implementations:
//   - Every method is safe for concurrent use, and with the SQL stores,
//     across processes and nodes sharing one database.
//   - Reads return fresh copies: callers may modify them freely.
//   - Times are stored as given (the Engine's clock is the only source of
//     time, so nodes and tests agree on it) with nanosecond precision and
//     returned in UTC. A zero time is stored as "none".
//   - Timelines are append-only. A write stores the steps that were
//     appended, never changes or drops a recorded one.
//   - Deliveries in Escalation.Outbox are enqueued in the same transaction
//     as the Create or Update that carries them.
//   - Errors a client may see are *chat.Error values (ErrNotFound,
//     CodeInvalidField). Anything else is an internal failure and callers
//     treat it as retryable.
type Store interface {
	// Create stores a new escalation with its timeline and outbox. An
	// empty e.ID gets a fresh one; a zero CreatedAt gets the current
	// time. It is idempotent:
	//   - on e.ID: when an escalation with that ID exists, Create
	//     returns it and created is false;
	//   - on e.DedupKey() (conversation and message sequence number, for
	//     the detector and flag sources): when one exists for the same
	//     message, whatever its source or status, Create returns it and
	//     created is false.
	// In both cases nothing is written, including e.Outbox. Create does
	// not validate the escalation beyond what storage needs (Engine.Open
	// does).
	Create(ctx context.Context, e *Escalation) (stored *Escalation, created bool, err error)
	// Get returns one escalation with its full timeline, or ErrNotFound.
	Get(ctx context.Context, id string) (*Escalation, error)
	// List returns escalations matching f, what nobody has acknowledged
	// first (open, then acknowledged, then resolved: Status.QueueRank),
	// then the most severe, and among equally severe ones the oldest first
	// (it has waited longest), with their timelines.
	List(ctx context.Context, f Filter) ([]*Escalation, error)
	// Update reads escalation id, calls fn on a copy and stores the
	// result atomically with the steps fn appended to Timeline and the
	// deliveries it put in Outbox: either all of it is stored or none.
	// Concurrent Updates of one escalation are serialised, each fn
	// seeing the previous one's result, so none is lost. fn runs inside
	// the write transaction and must be quick and do no I/O.
	//
	// When fn returns an error nothing is stored and Update returns that
	// error. Only these fields are stored: Severity, Categories, Evidence,
	// Reason, Status (which must be valid), Tier, AssignedTo, Outcome,
	// AckDeadline, AckedAt, ResolvedAt, appended steps, Outbox. Changes
	// to any other field are ignored; a Timeline shorter than before is
	// an error. It returns the stored escalation, or ErrNotFound.
	Update(ctx context.Context, id string, fn func(*Escalation) error) (*Escalation, error)
	// Due returns open escalations whose AckDeadline <= now and whose
	// lease is free (no owner, or expired at now), most overdue first, at
	// most limit of them.
	Due(ctx context.Context, now time.Time, limit int) ([]*Escalation, error)
	// TryLease makes node the driver of escalation id until now+ttl and
	// reports true, when the lease is free, expired at now, or already
	// node's (which renews it). Otherwise it changes nothing and reports
	// false. It is one conditional write, so of several nodes racing for
	// a free lease exactly one wins. Unknown id: ErrNotFound.
	TryLease(ctx context.Context, id, node string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseLease frees node's lease on id. It does nothing when node
	// does not hold it.
	ReleaseLease(ctx context.Context, id, node string) error

	// PutShift creates a shift (fresh ID when s.ID is empty) or replaces
	// the one with s.ID. Invalid shifts are refused with CodeInvalidField
	// (see Shift.Validate).
	PutShift(ctx context.Context, s Shift) (Shift, error)
	// DeleteShift removes a shift; ErrNotFound when there is none.
	DeleteShift(ctx context.Context, id string) error
	// ListShifts returns shifts overlapping [from, to), by start time; a
	// zero from or to leaves that side open.
	ListShifts(ctx context.Context, from, to time.Time) ([]Shift, error)
	// OnCall returns the supervisors on call at tier at time at (Start <=
	// at < End), earliest shift first, each once.
	OnCall(ctx context.Context, at time.Time, tier ShiftTier) ([]string, error)

	// EnqueueWebhook adds d to the outbox (fresh ID when empty), due at
	// d.NextAttempt (at once when zero). Enqueueing an ID that exists
	// does nothing.
	EnqueueWebhook(ctx context.Context, d Delivery) error
	// DueWebhooks returns pending deliveries whose next attempt is <= now,
	// oldest due first, at most limit, and claims them: their next attempt
	// moves to now+WebhookClaim, so that other nodes' senders skip them
	// while this one posts. Delivery is therefore at least once: a
	// sender that dies mid-POST lets another retry after the claim.
	DueWebhooks(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// MarkWebhook records a delivery's outcome: sent, or failed with
	// attempts failures so far and the next attempt due at nextAttempt; a
	// zero nextAttempt abandons it. Either way a sent or abandoned
	// delivery is never due again. Unknown id: ErrNotFound.
	MarkWebhook(ctx context.Context, id string, sent bool, nextAttempt time.Time, attempts int) error
}
