// Package escalation is Kindred's durable crisis escalation path: when a
// peer writes something that signals a crisis (the detector in chat/crisis,
// a manual flag on a message, or a concern raised about a person), an
// Escalation is recorded, a trained supervisor is told at once, and the
// system keeps widening the circle of people it tells until one of them
// acknowledges.
//
// The one failure this package exists to prevent is a crisis that reaches
// nobody. Every design choice follows from that:
//
//   - Escalations are durable before anyone is told (Store), and every step
//     (notified, escalated, acknowledged, handed off, resolved, ...) is an
//     append-only, timestamped entry of the escalation's Timeline, written in
//     the same transaction as the state change it describes.
//   - Timers are rows, not goroutines: an open escalation carries the
//     deadline of its next escalation step (AckDeadline), and any node's
//     Engine.Run picks up escalations that are due. A node that dies
//     mid-escalation loses nothing; the next node takes over once its lease
//     (LeaseTTL) expires.
//   - Exactly one node drives an escalation's timers at a time: a node takes
//     a short lease on the row (TryLease, a conditional UPDATE) before it
//     advances an escalation, renews it while it works, and writes the
//     result only if it still holds the lease (fencing), so two nodes never
//     both advance one step.
//   - "Nobody" is never an answer: when nobody is on call the engine goes
//     straight to the backup tier and every online supervisor; when no
//     supervisor at all is reachable it still records the escalation, says
//     so in the timeline, fires the webhook and retries soon.
//   - Notifications are at least once: a node that dies after notifying but
//     before recording the step lets the next node notify again. A repeated
//     page is harmless; a missing one is not.
//   - A webhook (WebhookSender) mirrors each escalation step to an external
//     system (a pager, the clinic's incident tool) from a durable outbox,
//     signed with HMAC-SHA256 and retried with exponential backoff. Its body
//     never carries message text or names, because it leaves the clinic's
//     systems.
//
// The package is independent of the WebSocket server: the server opens
// escalations (Engine.Open), relays supervisors' actions (Ack, AddNote,
// JoinedRoom, OpenedDM, HandOff, Resolve) and implements Notifier, which
// delivers notifications to supervisors' sessions (or pushes, or SMS).
//
// Store implementations: NewMemoryStore here (unit tests, and the reference
// the others are checked against), chat/store/sqlite and chat/store/postgres
// (via their Escalations methods). All of them pass the conformance suite in
// chat/escalation/escalationtest. This package imports none of them.
package escalation

import (
	"crypto/rand"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
)

// Source says how an escalation started.
type Source string

// Sources.
const (
	// SourceDetector: the crisis detector flagged a message.
	SourceDetector Source = "detector"
	// SourceFlag: a person flagged a message by hand.
	SourceFlag Source = "flag"
	// SourceConcern: a person raised a concern about someone, not tied
	// to one message.
	SourceConcern Source = "concern"
)

// Valid reports whether s is one of the defined sources.
func (s Source) Valid() bool {
	return s == SourceDetector || s == SourceFlag || s == SourceConcern
}

// perMessage reports whether escalations from s are tied to one message,
// and therefore idempotent on (conversation, message sequence number).
func (s Source) perMessage() bool { return s == SourceDetector || s == SourceFlag }

// Status is where an escalation stands.
type Status string

// Statuses.
const (
	// StatusOpen: nobody has acknowledged it (or it was handed off and the
	// new supervisor has not acknowledged yet); the engine keeps
	// escalating at each AckDeadline.
	StatusOpen Status = "open"
	// StatusAcknowledged: a supervisor (AssignedTo) has it.
	StatusAcknowledged Status = "acknowledged"
	// StatusResolved: closed with an Outcome.
	StatusResolved Status = "resolved"
)

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool {
	return s == StatusOpen || s == StatusAcknowledged || s == StatusResolved
}

// QueueRank orders statuses in the queue: what nobody has acknowledged
// first, then acknowledged, then resolved (the stores' SQL says the same).
func (s Status) QueueRank() int {
	switch s {
	case StatusOpen:
		return 0
	case StatusAcknowledged:
		return 1
	}
	return 2
}

// StepKind names an entry of an escalation's timeline.
type StepKind string

// Step kinds.
const (
	StepCreated      StepKind = "created"
	StepNotified     StepKind = "notified"  // first notification, whatever the tier
	StepEscalated    StepKind = "escalated" // a later, wider notification
	StepAcknowledged StepKind = "acknowledged"
	StepJoinedRoom   StepKind = "joined_room"
	StepOpenedDM     StepKind = "opened_dm"
	StepNote         StepKind = "note"
	StepHandedOff    StepKind = "handed_off"
	StepResolved     StepKind = "resolved"
	StepWebhookSent  StepKind = "webhook_sent"
	StepWebhookFail  StepKind = "webhook_failed"
)

// SystemActor is the Actor of steps the engine and the webhook sender take
// on their own (the node's ID is in Detail).
const SystemActor = "system"

// Step is one timestamped entry of an escalation's timeline. Steps are
// append-only: stores never change or drop a recorded step, so the
// timeline is an audit trail of who was told what, and when.
type Step struct {
	At   time.Time `json:"at"`
	Kind StepKind  `json:"kind"`
	// Actor is the user who acted, or SystemActor.
	Actor string `json:"actor"`
	// Detail is short text: IDs, a tier, an error summary, or (for notes
	// and resolutions) what a supervisor wrote.
	Detail string `json:"detail,omitempty"`
	// Recipients are the users a notification went to.
	Recipients []string `json:"recipients,omitempty"`
}

// MaxContext is how many messages before the flagged one an escalation
// keeps, so a supervisor sees what led up to it without opening the room.
const MaxContext = 20

// Escalation is one crisis being handled: who is at risk, what was seen,
// who has been told, and who has it.
type Escalation struct {
	ID       string                `json:"id"`
	Conv     string                `json:"conv,omitempty"`
	ConvKind chat.ConversationKind `json:"conv_kind,omitempty"`
	ConvName string                `json:"conv_name,omitempty"`
	// Subject is the user at risk.
	Subject     string `json:"subject"`
	SubjectName string `json:"subject_name,omitempty"`
	Source      Source `json:"source"`
	// ReportedBy is who flagged the message or raised the concern (empty
	// for the detector).
	ReportedBy string `json:"reported_by,omitempty"`
	// Reason is the reporter's short explanation, if any.
	Reason     string            `json:"reason,omitempty"`
	Severity   crisis.Severity   `json:"severity"`
	Categories []crisis.Category `json:"categories,omitempty"`
	Evidence   []crisis.Span     `json:"evidence,omitempty"`
	// Message is the flagged message (zero for a concern about a person).
	Message chat.Event `json:"message,omitzero"`
	// Context is up to MaxContext messages before Message, oldest first.
	Context []chat.Event `json:"context,omitempty"`

	Status Status `json:"status"`
	// Tier is the widest circle notified so far: 0 the primary on call,
	// 1 the backup on call and every online supervisor, 2 and up everyone
	// again plus admins. It is -1 between creation and the first
	// notification (normally a few milliseconds).
	Tier       int    `json:"tier"`
	AssignedTo string `json:"assigned_to,omitempty"`
	Outcome    string `json:"outcome,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	// AckDeadline is when the engine takes the next escalation step unless
	// someone acknowledges first. Zero unless Status is open.
	AckDeadline time.Time `json:"ack_deadline,omitzero"`
	// AckedAt is the first acknowledgement (time to first response).
	AckedAt    time.Time `json:"acked_at,omitzero"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`

	Timeline []Step `json:"timeline"`

	// LeaseOwner and LeaseUntil are which node drives the escalation's
	// timers and until when. Stores fill them on reads and change them
	// only in TryLease and ReleaseLease; Update ignores them.
	LeaseOwner string    `json:"-"`
	LeaseUntil time.Time `json:"-"`

	// Outbox holds webhook deliveries to enqueue with this write. Create
	// and Update insert them in the same transaction as the escalation
	// (a transactional outbox: a step is never recorded without its
	// webhook, nor the other way round) and clear the field. It is never
	// stored with the escalation nor returned by reads.
	Outbox []Delivery `json:"-"`
}

// Clone returns a deep copy of e, so that stores and callers never share
// slices.
func (e *Escalation) Clone() *Escalation {
	if e == nil {
		return nil
	}
	c := *e
	c.Categories = slices.Clone(e.Categories)
	c.Evidence = slices.Clone(e.Evidence)
	c.Message = cloneEvent(e.Message)
	if e.Context != nil {
		c.Context = make([]chat.Event, len(e.Context))
		for i, ev := range e.Context {
			c.Context[i] = cloneEvent(ev)
		}
	}
	if e.Timeline != nil {
		c.Timeline = make([]Step, len(e.Timeline))
		for i, s := range e.Timeline {
			s.Recipients = slices.Clone(s.Recipients)
			c.Timeline[i] = s
		}
	}
	if e.Outbox != nil {
		c.Outbox = make([]Delivery, len(e.Outbox))
		for i, d := range e.Outbox {
			d.Body = slices.Clone(d.Body)
			c.Outbox[i] = d
		}
	}
	return &c
}

func cloneEvent(ev chat.Event) chat.Event {
	if ev.EditedAt != nil {
		t := *ev.EditedAt
		ev.EditedAt = &t
	}
	return ev
}

// DedupKey is the key that makes Create idempotent for one message: the
// conversation and the message's sequence number, for sources tied to a
// message (detector and flag); "" otherwise. A message therefore escalates
// once, however many nodes, retries or reporters flag it. The length prefix
// keeps the key unambiguous whatever the conversation ID contains.
func (e *Escalation) DedupKey() string {
	if e.Held() {
		// Not in the log yet: the sender's client id names it.
		return "held:" + strconv.Itoa(len(e.Conv)) + ":" + e.Conv + ":" + strconv.Itoa(len(e.Message.Sender)) + ":" + e.Message.Sender + ":" + e.Message.ClientID
	}
	if !e.Source.perMessage() || e.Message.Seq <= 0 {
		return ""
	}
	return strconv.Itoa(len(e.Conv)) + ":" + e.Conv + ":" + strconv.FormatInt(e.Message.Seq, 10)
}

// Held reports whether the escalation holds a message back from its room
// (room policy): a detected message with no sequence number yet, which a
// supervisor may release into the room.
func (e *Escalation) Held() bool {
	return e.Source == SourceDetector && e.Message.Seq == 0 && e.Message.ClientID != "" && e.Message.Sender != ""
}

// Recipients returns everyone notified so far, in the order first
// notified, without duplicates.
func (e *Escalation) Recipients() []string {
	var out []string
	for _, s := range e.Timeline {
		if s.Kind == StepNotified || s.Kind == StepEscalated || s.Kind == StepHandedOff {
			out = appendUnique(out, s.Recipients...)
		}
	}
	return out
}

// ShiftTier is a rota position.
type ShiftTier string

// Rota positions.
const (
	ShiftPrimary ShiftTier = "primary"
	ShiftBackup  ShiftTier = "backup"
)

// Valid reports whether t is a defined rota position.
func (t ShiftTier) Valid() bool { return t == ShiftPrimary || t == ShiftBackup }

// Shift puts a supervisor on call at a tier for [Start, End).
type Shift struct {
	ID         string    `json:"id"`
	Supervisor string    `json:"supervisor"`
	Tier       ShiftTier `json:"tier"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
}

// Validate reports what is wrong with s as a *chat.Error, or nil.
func (s Shift) Validate() error {
	switch {
	case s.Supervisor == "" || !storable(s.Supervisor) || !storable(s.ID):
		return chat.Errorf(chat.CodeInvalidField, "a shift needs a valid supervisor id")
	case !s.Tier.Valid():
		return chat.Errorf(chat.CodeInvalidField, "shift tier must be primary or backup")
	case s.Start.IsZero() || !s.End.After(s.Start):
		return chat.Errorf(chat.CodeInvalidField, "a shift must end after it starts")
	}
	return nil
}

// Delivery is one webhook call in the durable outbox.
type Delivery struct {
	ID           string `json:"id"`
	EscalationID string `json:"escalation_id"`
	// Event is the webhook event name, e.g. "escalation.escalated".
	Event string `json:"event"`
	// Body is the exact JSON that is signed and POSTed.
	Body []byte `json:"-"`
	// Attempts is how many POSTs failed so far.
	Attempts int `json:"attempts"`
	// NextAttempt is when the delivery is next due.
	NextAttempt time.Time `json:"next_attempt"`
	CreatedAt   time.Time `json:"created_at"`
}

// WebhookClaim is how long DueWebhooks hides the deliveries it returns from
// other callers: the sender that claimed them has this long to POST them
// and call MarkWebhook before another node's sender may try again. It must
// comfortably exceed a POST's timeout.
const WebhookClaim = time.Minute

// Filter selects escalations for Store.List.
type Filter struct {
	// Status keeps escalations with one of these statuses; empty means
	// any.
	Status []Status
	// Subject, when set, keeps escalations about this user.
	Subject string
	// Limit caps the result; <= 0 means DefaultListLimit, and it is never
	// more than MaxListLimit.
	Limit int
}

// List limits.
const (
	DefaultListLimit = 100
	MaxListLimit     = 500
)

// ListLimit returns the effective limit of f.
func (f Filter) ListLimit() int {
	switch {
	case f.Limit <= 0:
		return DefaultListLimit
	case f.Limit > MaxListLimit:
		return MaxListLimit
	}
	return f.Limit
}

// ErrNotFound is returned for an unknown escalation, shift or delivery.
var ErrNotFound = &chat.Error{Code: chat.CodeNotFound, Message: "no such escalation"}

// NewID returns prefix followed by 12 random base32 characters (60 bits),
// like conversation IDs: short enough for logs and URLs, and unguessable,
// so IDs reveal nothing about how many crises there were.
func NewID(prefix string) string {
	return prefix + strings.ToLower(rand.Text()[:12])
}

// storable reports whether s can be stored by every Store (PostgreSQL text
// refuses NUL and invalid UTF-8); values that are not are refused up front
// rather than failing a write in a way that looks like an outage.
func storable(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

func appendUnique(dst []string, ids ...string) []string {
	for _, id := range ids {
		if id != "" && !slices.Contains(dst, id) {
			dst = append(dst, id)
		}
	}
	return dst
}
