package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/kindred-health/kindred/chat/escalation"
)

// Due implements escalation.Store.
func (es *EscalationStore) Due(ctx context.Context, now time.Time, limit int) ([]*escalation.Escalation, error) {
	const due = `SELECT ` + escColumns + ` FROM escalations
		WHERE status = 'open' AND ack_deadline <= ? AND (lease_owner = '' OR lease_until <= ?)
		ORDER BY ack_deadline, id`
	r := es.s.reads()
	n := now.UnixNano()
	var (
		rows Rows
		err  error
	)
	if limit > 0 {
		rows, err = r.query(ctx, due+` LIMIT ?`, n, n, limit)
	} else {
		rows, err = r.query(ctx, due, n, n)
	}
	if err != nil {
		return nil, es.s.internal("due escalations", err)
	}
	out, err := collectEsc(ctx, r, rows)
	if err != nil {
		return nil, es.s.internal("due escalations", err)
	}
	return out, nil
}

// TryLease implements escalation.Store. The conditional UPDATE is one
// write: racing nodes take turns on the row, and each checks the
// condition against the winner's committed row, so exactly one gets it.
func (es *EscalationStore) TryLease(ctx context.Context, id, node string, now time.Time, ttl time.Duration) (bool, error) {
	if !Storable(id) {
		return false, escalation.ErrNotFound
	}
	if !Storable(node) {
		return false, ErrInvalidText("the node id")
	}
	n, err := es.s.exec(ctx, `UPDATE escalations SET lease_owner = ?, lease_until = ?
		WHERE id = ? AND (lease_owner = '' OR lease_owner = ? OR lease_until <= ?)`,
		node, now.Add(ttl).UnixNano(), id, node, now.UnixNano())
	if err != nil {
		return false, es.s.internal("lease escalation", err)
	}
	if n == 1 {
		return true, nil
	}
	// Taken by someone else, or no such escalation.
	var one int
	err = es.s.reads().queryRow(ctx, `SELECT 1 FROM escalations WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, escalation.ErrNotFound
	}
	if err != nil {
		return false, es.s.internal("lease escalation", err)
	}
	return false, nil
}

// ReleaseLease implements escalation.Store.
func (es *EscalationStore) ReleaseLease(ctx context.Context, id, node string) error {
	if !Storable(id) || !Storable(node) {
		return nil
	}
	if _, err := es.s.exec(ctx, `UPDATE escalations SET lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ?`, id, node); err != nil {
		return es.s.internal("release escalation lease", err)
	}
	return nil
}

// PutShift implements escalation.Store.
func (es *EscalationStore) PutShift(ctx context.Context, s escalation.Shift) (escalation.Shift, error) {
	if err := s.Validate(); err != nil {
		return escalation.Shift{}, err
	}
	if s.ID == "" {
		s.ID = escalation.NewID("sh_")
	}
	if _, err := es.s.exec(ctx, `INSERT INTO oncall_shifts (id, supervisor_id, tier, starts_at, ends_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET supervisor_id = excluded.supervisor_id,
		tier = excluded.tier, starts_at = excluded.starts_at, ends_at = excluded.ends_at`,
		s.ID, s.Supervisor, string(s.Tier), s.Start.UnixNano(), s.End.UnixNano()); err != nil {
		return escalation.Shift{}, es.s.internal("put shift", err)
	}
	s.Start, s.End = FromNanos(s.Start.UnixNano()), FromNanos(s.End.UnixNano())
	return s, nil
}

// DeleteShift implements escalation.Store.
func (es *EscalationStore) DeleteShift(ctx context.Context, id string) error {
	if !Storable(id) {
		return escalation.ErrNotFound
	}
	n, err := es.s.exec(ctx, `DELETE FROM oncall_shifts WHERE id = ?`, id)
	if err != nil {
		return es.s.internal("delete shift", err)
	}
	if n == 0 {
		return escalation.ErrNotFound
	}
	return nil
}

// ListShifts implements escalation.Store. An open side is the farthest
// time there is, so one query serves every case.
func (es *EscalationStore) ListShifts(ctx context.Context, from, to time.Time) ([]escalation.Shift, error) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = from.UnixNano()
	}
	if !to.IsZero() {
		hi = to.UnixNano()
	}
	rows, err := es.s.reads().query(ctx, `SELECT id, supervisor_id, tier, starts_at, ends_at FROM oncall_shifts
		WHERE ends_at > ? AND starts_at < ? ORDER BY starts_at, id`, lo, hi)
	if err != nil {
		return nil, es.s.internal("list shifts", err)
	}
	out, err := collect(rows, func(r Row) (s escalation.Shift, err error) {
		var tier string
		var start, end int64
		err = r.Scan(&s.ID, &s.Supervisor, &tier, &start, &end)
		s.Tier, s.Start, s.End = escalation.ShiftTier(tier), FromNanos(start), FromNanos(end)
		return s, err
	})
	if err != nil {
		return nil, es.s.internal("list shifts", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// OnCall implements escalation.Store.
func (es *EscalationStore) OnCall(ctx context.Context, at time.Time, tier escalation.ShiftTier) ([]string, error) {
	if !Storable(string(tier)) {
		return nil, nil
	}
	n := at.UnixNano()
	rows, err := es.s.reads().query(ctx, `SELECT supervisor_id FROM oncall_shifts
		WHERE tier = ? AND starts_at <= ? AND ends_at > ? ORDER BY starts_at, id`, string(tier), n, n)
	if err != nil {
		return nil, es.s.internal("on call", err)
	}
	ids, err := collect(rows, func(r Row) (id string, err error) { return id, r.Scan(&id) })
	if err != nil {
		return nil, es.s.internal("on call", err)
	}
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}
