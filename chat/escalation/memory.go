package escalation

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// MemoryStore is an in-process Store: for unit tests, and as the reference
// implementation the SQL stores are checked against (its code states the
// contract most directly). Nothing survives the process, so it must not be
// used in production.
type MemoryStore struct {
	mu      sync.Mutex
	escs    map[string]*Escalation
	dedup   map[string]string // DedupKey -> ID
	shifts  map[string]Shift
	hooks   map[string]*memDelivery
	hookOrd int64
}

type memDelivery struct {
	d     Delivery
	state string // pending, sent, abandoned
	ord   int64  // insertion order, to break ties
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		escs:   make(map[string]*Escalation),
		dedup:  make(map[string]string),
		shifts: make(map[string]Shift),
		hooks:  make(map[string]*memDelivery),
	}
}

// canon is how a stored time looks when read back: UTC, no monotonic
// reading, zero stays zero.
func canon(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).UTC()
}

// Create implements Store.
func (m *MemoryStore) Create(ctx context.Context, e *Escalation) (*Escalation, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.ID != "" {
		if old, ok := m.escs[e.ID]; ok {
			return old.Clone(), false, nil
		}
	}
	key := e.DedupKey()
	if key != "" {
		if id, ok := m.dedup[key]; ok {
			return m.escs[id].Clone(), false, nil
		}
	}
	if !e.Status.Valid() {
		return nil, false, chat.Errorf(chat.CodeInvalidField, "invalid escalation status %q", e.Status)
	}
	c := e.Clone()
	if c.ID == "" {
		c.ID = NewID("esc_")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now()
	}
	outbox := c.Outbox
	c.Outbox = nil
	c.LeaseOwner, c.LeaseUntil = "", time.Time{}
	canonTimes(c)
	m.escs[c.ID] = c
	if key != "" {
		m.dedup[key] = c.ID
	}
	for _, d := range outbox {
		m.enqueueLocked(d, c.CreatedAt)
	}
	return c.Clone(), true, nil
}

func canonTimes(e *Escalation) {
	e.CreatedAt = canon(e.CreatedAt)
	e.AckDeadline = canon(e.AckDeadline)
	e.AckedAt = canon(e.AckedAt)
	e.ResolvedAt = canon(e.ResolvedAt)
	e.LeaseUntil = canon(e.LeaseUntil)
	for i := range e.Timeline {
		e.Timeline[i].At = canon(e.Timeline[i].At)
	}
}

// Get implements Store.
func (m *MemoryStore) Get(ctx context.Context, id string) (*Escalation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.escs[id]
	if !ok {
		return nil, ErrNotFound
	}
	return e.Clone(), nil
}

// List implements Store.
func (m *MemoryStore) List(ctx context.Context, f Filter) ([]*Escalation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Escalation
	for _, e := range m.escs {
		if len(f.Status) > 0 && !slices.Contains(f.Status, e.Status) {
			continue
		}
		if f.Subject != "" && e.Subject != f.Subject {
			continue
		}
		out = append(out, e.Clone())
	}
	slices.SortFunc(out, func(a, b *Escalation) int {
		return cmp.Or(
			a.Status.QueueRank()-b.Status.QueueRank(),
			cmp.Compare(b.Severity, a.Severity),
			a.CreatedAt.Compare(b.CreatedAt),
			cmp.Compare(a.ID, b.ID),
		)
	})
	if n := f.ListLimit(); len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// Update implements Store.
func (m *MemoryStore) Update(ctx context.Context, id string, fn func(*Escalation) error) (*Escalation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.escs[id]
	if !ok {
		return nil, ErrNotFound
	}
	c := old.Clone()
	if err := fn(c); err != nil {
		return nil, err
	}
	if !c.Status.Valid() {
		return nil, chat.Errorf(chat.CodeInvalidField, "invalid escalation status %q", c.Status)
	}
	if len(c.Timeline) < len(old.Timeline) {
		return nil, errors.New("escalation: update dropped timeline steps (the timeline is append-only)")
	}
	// Store only what Update may change; everything else stays as it
	// was, exactly as the SQL stores write only those columns.
	n := old.Clone()
	n.Severity = c.Severity
	n.Categories = c.Categories
	n.Evidence = c.Evidence
	n.Reason = c.Reason
	n.Status = c.Status
	n.Tier = c.Tier
	n.AssignedTo = c.AssignedTo
	n.Outcome = c.Outcome
	n.AckDeadline = c.AckDeadline
	n.AckedAt = c.AckedAt
	n.ResolvedAt = c.ResolvedAt
	n.Timeline = append(n.Timeline, c.Timeline[len(old.Timeline):]...)
	canonTimes(n)
	m.escs[id] = n
	for _, d := range c.Outbox {
		m.enqueueLocked(d, time.Now())
	}
	return n.Clone(), nil
}

// Due implements Store.
func (m *MemoryStore) Due(ctx context.Context, now time.Time, limit int) ([]*Escalation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Escalation
	for _, e := range m.escs {
		if e.Status != StatusOpen || e.AckDeadline.IsZero() || e.AckDeadline.After(now) {
			continue
		}
		if e.LeaseOwner != "" && e.LeaseUntil.After(now) {
			continue
		}
		out = append(out, e.Clone())
	}
	slices.SortFunc(out, func(a, b *Escalation) int {
		return cmp.Or(a.AckDeadline.Compare(b.AckDeadline), cmp.Compare(a.ID, b.ID))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// TryLease implements Store.
func (m *MemoryStore) TryLease(ctx context.Context, id, node string, now time.Time, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.escs[id]
	if !ok {
		return false, ErrNotFound
	}
	if e.LeaseOwner != "" && e.LeaseOwner != node && e.LeaseUntil.After(now) {
		return false, nil
	}
	e.LeaseOwner, e.LeaseUntil = node, canon(now.Add(ttl))
	return true, nil
}

// ReleaseLease implements Store.
func (m *MemoryStore) ReleaseLease(ctx context.Context, id, node string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.escs[id]; ok && e.LeaseOwner == node {
		e.LeaseOwner, e.LeaseUntil = "", time.Time{}
	}
	return nil
}

// PutShift implements Store.
func (m *MemoryStore) PutShift(ctx context.Context, s Shift) (Shift, error) {
	if err := ctx.Err(); err != nil {
		return Shift{}, err
	}
	if err := s.Validate(); err != nil {
		return Shift{}, err
	}
	if s.ID == "" {
		s.ID = NewID("sh_")
	}
	s.Start, s.End = canon(s.Start), canon(s.End)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.shifts[s.ID] = s
	return s, nil
}

// DeleteShift implements Store.
func (m *MemoryStore) DeleteShift(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.shifts[id]; !ok {
		return ErrNotFound
	}
	delete(m.shifts, id)
	return nil
}

// ListShifts implements Store.
func (m *MemoryStore) ListShifts(ctx context.Context, from, to time.Time) ([]Shift, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Shift
	for _, s := range m.shifts {
		if !from.IsZero() && !s.End.After(from) {
			continue
		}
		if !to.IsZero() && !s.Start.Before(to) {
			continue
		}
		out = append(out, s)
	}
	sortShifts(out)
	return out, nil
}

func sortShifts(ss []Shift) {
	slices.SortFunc(ss, func(a, b Shift) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.ID, b.ID))
	})
}

// OnCall implements Store.
func (m *MemoryStore) OnCall(ctx context.Context, at time.Time, tier ShiftTier) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	var ss []Shift
	for _, s := range m.shifts {
		if s.Tier == tier && !s.Start.After(at) && s.End.After(at) {
			ss = append(ss, s)
		}
	}
	m.mu.Unlock()
	sortShifts(ss)
	var out []string
	for _, s := range ss {
		out = appendUnique(out, s.Supervisor)
	}
	return out, nil
}

// EnqueueWebhook implements Store.
func (m *MemoryStore) EnqueueWebhook(ctx context.Context, d Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.enqueueLocked(d, time.Now())
	return nil
}

func (m *MemoryStore) enqueueLocked(d Delivery, now time.Time) {
	if d.ID == "" {
		d.ID = NewID("whd_")
	}
	if _, ok := m.hooks[d.ID]; ok {
		return
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now
	}
	if d.NextAttempt.IsZero() {
		d.NextAttempt = d.CreatedAt
	}
	d.CreatedAt, d.NextAttempt = canon(d.CreatedAt), canon(d.NextAttempt)
	d.Body = slices.Clone(d.Body)
	m.hookOrd++
	m.hooks[d.ID] = &memDelivery{d: d, state: "pending", ord: m.hookOrd}
}

// DueWebhooks implements Store.
func (m *MemoryStore) DueWebhooks(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []*memDelivery
	for _, h := range m.hooks {
		if h.state == "pending" && !h.d.NextAttempt.After(now) {
			due = append(due, h)
		}
	}
	slices.SortFunc(due, func(a, b *memDelivery) int {
		return cmp.Or(a.d.NextAttempt.Compare(b.d.NextAttempt), cmp.Compare(a.ord, b.ord))
	})
	if limit > 0 && len(due) > limit {
		due = due[:limit]
	}
	out := make([]Delivery, len(due))
	for i, h := range due {
		out[i] = h.d
		out[i].Body = slices.Clone(h.d.Body)
		h.d.NextAttempt = canon(now.Add(WebhookClaim))
	}
	return out, nil
}

// MarkWebhook implements Store.
func (m *MemoryStore) MarkWebhook(ctx context.Context, id string, sent bool, nextAttempt time.Time, attempts int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.hooks[id]
	if !ok {
		return ErrNotFound
	}
	h.d.Attempts = attempts
	switch {
	case sent:
		h.state = "sent"
	case nextAttempt.IsZero():
		h.state = "abandoned"
	default:
		h.d.NextAttempt = canon(nextAttempt)
	}
	return nil
}
