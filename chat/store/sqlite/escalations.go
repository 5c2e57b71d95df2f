package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
)

// EscalationStore is the escalation.Store of a SQLite Store: the same file
// and connections (migration 0002), so escalations, the rota and the
// webhook outbox live next to the conversations they are about. Writes go
// through the single write connection like every other write; reads use
// the read pool.
type EscalationStore struct{ s *Store }

var _ escalation.Store = (*EscalationStore)(nil)

// Escalations returns the escalation store sharing s's database. It is a
// method rather than Store implementing escalation.Store itself because the
// two interfaces would read as one API, which they are not (and Create,
// Get, List... would be ambiguous on a chat store).
func (s *Store) Escalations() *EscalationStore { return &EscalationStore{s: s} }

// querier is what reads need from a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// nanos encodes a time for storage; a zero time is NULL.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func fromNull(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNanos(n.Int64)
}

// jsonText encodes v for a JSON column; empty slices become "[]".
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if string(b) == "null" {
		return "[]", nil
	}
	return string(b), nil
}

func nullKey(k string) any {
	if k == "" {
		return nil
	}
	return k
}

const escColumns = `id, conv_id, conv_kind, conv_name, subject_id, subject_name, source, reported_by,
	reason, severity, categories, evidence, message, context, status, tier, assigned_to, outcome,
	created_at, ack_deadline, acked_at, resolved_at, lease_owner, lease_until`

func scanEscalation(row interface{ Scan(...any) error }) (*escalation.Escalation, error) {
	var (
		e                         escalation.Escalation
		kind, source, status      string
		cats, evid, msg, ctxJSON  string
		deadline, acked, resolved sql.NullInt64
		created, leaseUntil       int64
	)
	err := row.Scan(&e.ID, &e.Conv, &kind, &e.ConvName, &e.Subject, &e.SubjectName, &source, &e.ReportedBy,
		&e.Reason, &e.Severity, &cats, &evid, &msg, &ctxJSON, &status, &e.Tier, &e.AssignedTo, &e.Outcome,
		&created, &deadline, &acked, &resolved, &e.LeaseOwner, &leaseUntil)
	if err != nil {
		return nil, err
	}
	e.ConvKind = chat.ConversationKind(kind)
	e.Source = escalation.Source(source)
	e.Status = escalation.Status(status)
	e.CreatedAt = fromNanos(created)
	e.AckDeadline, e.AckedAt, e.ResolvedAt = fromNull(deadline), fromNull(acked), fromNull(resolved)
	if leaseUntil != 0 {
		e.LeaseUntil = fromNanos(leaseUntil)
	}
	if err := decodeJSON(cats, &e.Categories); err != nil {
		return nil, err
	}
	if err := decodeJSON(evid, &e.Evidence); err != nil {
		return nil, err
	}
	if err := decodeJSON(ctxJSON, &e.Context); err != nil {
		return nil, err
	}
	if msg != "" {
		if err := json.Unmarshal([]byte(msg), &e.Message); err != nil {
			return nil, err
		}
	}
	return &e, nil
}

// decodeJSON decodes a JSON array column, leaving v nil when it is empty.
func decodeJSON[T any](s string, v *[]T) error {
	if s == "" || s == "[]" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// getEsc reads one escalation with its timeline through q; sql.ErrNoRows
// when there is none.
func getEsc(ctx context.Context, q querier, id string) (*escalation.Escalation, error) {
	e, err := scanEscalation(q.QueryRowContext(ctx, `SELECT `+escColumns+` FROM escalations WHERE id = ?`, id))
	if err != nil {
		return nil, err
	}
	if err := loadSteps(ctx, q, []*escalation.Escalation{e}); err != nil {
		return nil, err
	}
	return e, nil
}

// loadSteps fills the timelines of es, in chunks small enough for SQLite's
// limit on bound parameters.
func loadSteps(ctx context.Context, q querier, es []*escalation.Escalation) error {
	byID := make(map[string]*escalation.Escalation, len(es))
	for _, e := range es {
		byID[e.ID] = e
	}
	const chunk = 500
	for i := 0; i < len(es); i += chunk {
		part := es[i:min(i+chunk, len(es))]
		args := make([]any, len(part))
		for j, e := range part {
			args[j] = e.ID
		}
		rows, err := q.QueryContext(ctx, `SELECT escalation_id, at, kind, actor, detail, recipients
			FROM escalation_steps WHERE escalation_id IN (?`+strings.Repeat(",?", len(part)-1)+`)
			ORDER BY escalation_id, n`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				id, kind, rcpt string
				at             int64
				st             escalation.Step
			)
			if err := rows.Scan(&id, &at, &kind, &st.Actor, &st.Detail, &rcpt); err != nil {
				rows.Close()
				return err
			}
			st.At = fromNanos(at)
			st.Kind = escalation.StepKind(kind)
			if err := decodeJSON(rcpt, &st.Recipients); err != nil {
				rows.Close()
				return err
			}
			if e := byID[id]; e != nil {
				e.Timeline = append(e.Timeline, st)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func collectEsc(ctx context.Context, q querier, rows *sql.Rows) ([]*escalation.Escalation, error) {
	var out []*escalation.Escalation
	for rows.Next() {
		e, err := scanEscalation(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, loadSteps(ctx, q, out)
}

// insertSteps appends steps to escalation id, numbering from first.
func insertSteps(ctx context.Context, tx *sql.Tx, id string, first int, steps []escalation.Step) error {
	for i, st := range steps {
		rcpt, err := jsonText(st.Recipients)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO escalation_steps (escalation_id, n, at, kind, actor, detail, recipients)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, first+i, st.At.UnixNano(), string(st.Kind), st.Actor, st.Detail, rcpt); err != nil {
			return err
		}
	}
	return nil
}

// enqueue inserts deliveries; an existing ID is left alone.
func enqueue(ctx context.Context, tx *sql.Tx, ds []escalation.Delivery, now time.Time) error {
	for _, d := range ds {
		if d.ID == "" {
			d.ID = escalation.NewID("whd_")
		}
		if d.CreatedAt.IsZero() {
			d.CreatedAt = now
		}
		if d.NextAttempt.IsZero() {
			d.NextAttempt = d.CreatedAt
		}
		body := d.Body
		if body == nil {
			body = []byte{}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO escalation_webhooks
			(id, escalation_id, event, body, created_at, attempts, next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`,
			d.ID, d.EscalationID, d.Event, body, d.CreatedAt.UnixNano(), d.Attempts, d.NextAttempt.UnixNano()); err != nil {
			return err
		}
	}
	return nil
}

// Create implements escalation.Store.
func (es *EscalationStore) Create(ctx context.Context, in *escalation.Escalation) (*escalation.Escalation, bool, error) {
	e := in.Clone()
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now()
	}
	var (
		cats, evid, ctxJSON string
		msg                 string
		err                 error
	)
	if cats, err = jsonText(e.Categories); err != nil {
		return nil, false, internal("create escalation", err)
	}
	if evid, err = jsonText(e.Evidence); err != nil {
		return nil, false, internal("create escalation", err)
	}
	if ctxJSON, err = jsonText(e.Context); err != nil {
		return nil, false, internal("create escalation", err)
	}
	if e.Message != (chat.Event{}) {
		b, err := json.Marshal(e.Message)
		if err != nil {
			return nil, false, internal("create escalation", err)
		}
		msg = string(b)
	}
	key := e.DedupKey()

	tx, err := es.s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, internal("create escalation", err)
	}
	defer rollback(tx)
	generated := e.ID == ""
	for attempt := 0; ; attempt++ {
		if generated {
			e.ID = escalation.NewID("esc_")
		}
		// No conflict target: a clash on the ID and one on dedup_key
		// both do nothing, and the lookups below tell them apart.
		res, err := tx.ExecContext(ctx, `INSERT INTO escalations (`+escColumns+`, dedup_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?)
			ON CONFLICT DO NOTHING`,
			e.ID, e.Conv, string(e.ConvKind), e.ConvName, e.Subject, e.SubjectName, string(e.Source), e.ReportedBy,
			e.Reason, int(e.Severity), cats, evid, msg, ctxJSON, string(e.Status), e.Tier, e.AssignedTo, e.Outcome,
			e.CreatedAt.UnixNano(), nanos(e.AckDeadline), nanos(e.AckedAt), nanos(e.ResolvedAt), nullKey(key))
		if err != nil {
			return nil, false, internal("create escalation", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, false, internal("create escalation", err)
		}
		if n == 1 {
			break
		}
		// Already there: the same ID (a retried Create) first, then the
		// same message.
		if !generated {
			old, err := getEsc(ctx, tx, e.ID)
			if err == nil {
				return old, false, nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return nil, false, internal("create escalation", err)
			}
		}
		if key != "" {
			var id string
			err := tx.QueryRowContext(ctx, `SELECT id FROM escalations WHERE dedup_key = ?`, key).Scan(&id)
			if err == nil {
				old, err := getEsc(ctx, tx, id)
				if err != nil {
					return nil, false, internal("create escalation", err)
				}
				return old, false, nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return nil, false, internal("create escalation", err)
			}
		}
		// A generated ID clashed: 60 random bits make that all but
		// impossible, a few retries impossible in practice.
		if !generated || attempt == 3 {
			return nil, false, internal("create escalation", errors.New("insert conflicted on neither id nor message"))
		}
	}
	if err := insertSteps(ctx, tx, e.ID, 0, e.Timeline); err != nil {
		return nil, false, internal("create escalation", err)
	}
	if err := enqueue(ctx, tx, e.Outbox, e.CreatedAt); err != nil {
		return nil, false, internal("create escalation", err)
	}
	stored, err := getEsc(ctx, tx, e.ID)
	if err != nil {
		return nil, false, internal("create escalation", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, false, internal("create escalation", err)
	}
	return stored, true, nil
}

// Get implements escalation.Store.
func (es *EscalationStore) Get(ctx context.Context, id string) (*escalation.Escalation, error) {
	e, err := getEsc(ctx, es.s.r, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, escalation.ErrNotFound
	}
	if err != nil {
		return nil, internal("get escalation", err)
	}
	return e, nil
}

// List implements escalation.Store.
func (es *EscalationStore) List(ctx context.Context, f escalation.Filter) ([]*escalation.Escalation, error) {
	q := `SELECT ` + escColumns + ` FROM escalations WHERE 1 = 1`
	var args []any
	if len(f.Status) > 0 {
		q += ` AND status IN (?` + strings.Repeat(",?", len(f.Status)-1) + `)`
		for _, st := range f.Status {
			args = append(args, string(st))
		}
	}
	if f.Subject != "" {
		q += ` AND subject_id = ?`
		args = append(args, f.Subject)
	}
	q += ` ORDER BY severity DESC, created_at, id LIMIT ?`
	args = append(args, f.ListLimit())
	rows, err := es.s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, internal("list escalations", err)
	}
	out, err := collectEsc(ctx, es.s.r, rows)
	if err != nil {
		return nil, internal("list escalations", err)
	}
	return out, nil
}

// Update implements escalation.Store. The read, fn and the writes happen in
// one transaction on the write connection, which serialises Updates (and,
// through SQLite's lock, those of other processes on the file).
func (es *EscalationStore) Update(ctx context.Context, id string, fn func(*escalation.Escalation) error) (*escalation.Escalation, error) {
	tx, err := es.s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, internal("update escalation", err)
	}
	defer rollback(tx)
	old, err := getEsc(ctx, tx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, escalation.ErrNotFound
	}
	if err != nil {
		return nil, internal("update escalation", err)
	}
	e := old.Clone()
	if err := fn(e); err != nil {
		return nil, err
	}
	if !e.Status.Valid() {
		return nil, chat.Errorf(chat.CodeInvalidField, "invalid escalation status %q", e.Status)
	}
	if len(e.Timeline) < len(old.Timeline) {
		return nil, errors.New("sqlite: update escalation: timeline steps dropped (the timeline is append-only)")
	}
	cats, err := jsonText(e.Categories)
	if err != nil {
		return nil, internal("update escalation", err)
	}
	evid, err := jsonText(e.Evidence)
	if err != nil {
		return nil, internal("update escalation", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE escalations SET severity = ?, categories = ?, evidence = ?, reason = ?,
		status = ?, tier = ?, assigned_to = ?, outcome = ?, ack_deadline = ?, acked_at = ?, resolved_at = ?
		WHERE id = ?`,
		int(e.Severity), cats, evid, e.Reason, string(e.Status), e.Tier, e.AssignedTo, e.Outcome,
		nanos(e.AckDeadline), nanos(e.AckedAt), nanos(e.ResolvedAt), id); err != nil {
		return nil, internal("update escalation", err)
	}
	if err := insertSteps(ctx, tx, id, len(old.Timeline), e.Timeline[len(old.Timeline):]); err != nil {
		return nil, internal("update escalation", err)
	}
	if err := enqueue(ctx, tx, e.Outbox, time.Now()); err != nil {
		return nil, internal("update escalation", err)
	}
	stored, err := getEsc(ctx, tx, id)
	if err != nil {
		return nil, internal("update escalation", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, internal("update escalation", err)
	}
	return stored, nil
}

// Due implements escalation.Store.
func (es *EscalationStore) Due(ctx context.Context, now time.Time, limit int) ([]*escalation.Escalation, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	n := now.UnixNano()
	rows, err := es.s.r.QueryContext(ctx, `SELECT `+escColumns+` FROM escalations
		WHERE status = 'open' AND ack_deadline <= ? AND (lease_owner = '' OR lease_until <= ?)
		ORDER BY ack_deadline, id LIMIT ?`, n, n, limit)
	if err != nil {
		return nil, internal("due escalations", err)
	}
	out, err := collectEsc(ctx, es.s.r, rows)
	if err != nil {
		return nil, internal("due escalations", err)
	}
	return out, nil
}

// TryLease implements escalation.Store.
func (es *EscalationStore) TryLease(ctx context.Context, id, node string, now time.Time, ttl time.Duration) (bool, error) {
	res, err := es.s.w.ExecContext(ctx, `UPDATE escalations SET lease_owner = ?, lease_until = ?
		WHERE id = ? AND (lease_owner = '' OR lease_owner = ? OR lease_until <= ?)`,
		node, now.Add(ttl).UnixNano(), id, node, now.UnixNano())
	if err != nil {
		return false, internal("lease escalation", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, internal("lease escalation", err)
	}
	if n == 1 {
		return true, nil
	}
	var one int
	err = es.s.r.QueryRowContext(ctx, `SELECT 1 FROM escalations WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, escalation.ErrNotFound
	}
	if err != nil {
		return false, internal("lease escalation", err)
	}
	return false, nil
}

// ReleaseLease implements escalation.Store.
func (es *EscalationStore) ReleaseLease(ctx context.Context, id, node string) error {
	if _, err := es.s.w.ExecContext(ctx, `UPDATE escalations SET lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ?`, id, node); err != nil {
		return internal("release escalation lease", err)
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
	if _, err := es.s.w.ExecContext(ctx, `INSERT INTO oncall_shifts (id, supervisor_id, tier, starts_at, ends_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET supervisor_id = excluded.supervisor_id,
		tier = excluded.tier, starts_at = excluded.starts_at, ends_at = excluded.ends_at`,
		s.ID, s.Supervisor, string(s.Tier), s.Start.UnixNano(), s.End.UnixNano()); err != nil {
		return escalation.Shift{}, internal("put shift", err)
	}
	s.Start, s.End = fromNanos(s.Start.UnixNano()), fromNanos(s.End.UnixNano())
	return s, nil
}

// DeleteShift implements escalation.Store.
func (es *EscalationStore) DeleteShift(ctx context.Context, id string) error {
	res, err := es.s.w.ExecContext(ctx, `DELETE FROM oncall_shifts WHERE id = ?`, id)
	if err != nil {
		return internal("delete shift", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal("delete shift", err)
	} else if n == 0 {
		return escalation.ErrNotFound
	}
	return nil
}

// ListShifts implements escalation.Store.
func (es *EscalationStore) ListShifts(ctx context.Context, from, to time.Time) ([]escalation.Shift, error) {
	q := `SELECT id, supervisor_id, tier, starts_at, ends_at FROM oncall_shifts WHERE 1 = 1`
	var args []any
	if !from.IsZero() {
		q += ` AND ends_at > ?`
		args = append(args, from.UnixNano())
	}
	if !to.IsZero() {
		q += ` AND starts_at < ?`
		args = append(args, to.UnixNano())
	}
	rows, err := es.s.r.QueryContext(ctx, q+` ORDER BY starts_at, id`, args...)
	if err != nil {
		return nil, internal("list shifts", err)
	}
	defer rows.Close()
	var out []escalation.Shift
	for rows.Next() {
		var (
			s          escalation.Shift
			tier       string
			start, end int64
		)
		if err := rows.Scan(&s.ID, &s.Supervisor, &tier, &start, &end); err != nil {
			return nil, internal("list shifts", err)
		}
		s.Tier, s.Start, s.End = escalation.ShiftTier(tier), fromNanos(start), fromNanos(end)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list shifts", err)
	}
	return out, nil
}

// OnCall implements escalation.Store.
func (es *EscalationStore) OnCall(ctx context.Context, at time.Time, tier escalation.ShiftTier) ([]string, error) {
	n := at.UnixNano()
	rows, err := es.s.r.QueryContext(ctx, `SELECT supervisor_id FROM oncall_shifts
		WHERE tier = ? AND starts_at <= ? AND ends_at > ? ORDER BY starts_at, id`, string(tier), n, n)
	if err != nil {
		return nil, internal("on call", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, internal("on call", err)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, internal("on call", err)
	}
	return out, nil
}

// EnqueueWebhook implements escalation.Store.
func (es *EscalationStore) EnqueueWebhook(ctx context.Context, d escalation.Delivery) error {
	tx, err := es.s.w.BeginTx(ctx, nil)
	if err != nil {
		return internal("enqueue webhook", err)
	}
	defer rollback(tx)
	if err := enqueue(ctx, tx, []escalation.Delivery{d}, time.Now()); err != nil {
		return internal("enqueue webhook", err)
	}
	if err := tx.Commit(); err != nil {
		return internal("enqueue webhook", err)
	}
	return nil
}

// DueWebhooks implements escalation.Store. The claim is a write, so it runs
// on the write connection, whose transaction makes the read and the claim
// one step for every other writer, in this process or another.
func (es *EscalationStore) DueWebhooks(ctx context.Context, now time.Time, limit int) ([]escalation.Delivery, error) {
	if limit <= 0 {
		limit = -1
	}
	tx, err := es.s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, internal("due webhooks", err)
	}
	defer rollback(tx)
	rows, err := tx.QueryContext(ctx, `SELECT id, escalation_id, event, body, attempts, next_attempt, created_at
		FROM escalation_webhooks WHERE state = 'pending' AND next_attempt <= ?
		ORDER BY next_attempt, rowid LIMIT ?`, now.UnixNano(), limit)
	if err != nil {
		return nil, internal("due webhooks", err)
	}
	var out []escalation.Delivery
	for rows.Next() {
		var (
			d             escalation.Delivery
			next, created int64
		)
		if err := rows.Scan(&d.ID, &d.EscalationID, &d.Event, &d.Body, &d.Attempts, &next, &created); err != nil {
			rows.Close()
			return nil, internal("due webhooks", err)
		}
		d.NextAttempt, d.CreatedAt = fromNanos(next), fromNanos(created)
		out = append(out, d)
	}
	if err := rows.Close(); err != nil {
		return nil, internal("due webhooks", err)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("due webhooks", err)
	}
	claim := now.Add(escalation.WebhookClaim).UnixNano()
	for _, d := range out {
		if _, err := tx.ExecContext(ctx, `UPDATE escalation_webhooks SET next_attempt = ? WHERE id = ?`, claim, d.ID); err != nil {
			return nil, internal("due webhooks", err)
		}
	}
	if len(out) == 0 {
		return nil, nil // nothing to commit
	}
	if err := tx.Commit(); err != nil {
		return nil, internal("due webhooks", err)
	}
	return out, nil
}

// MarkWebhook implements escalation.Store.
func (es *EscalationStore) MarkWebhook(ctx context.Context, id string, sent bool, nextAttempt time.Time, attempts int) error {
	var (
		res sql.Result
		err error
	)
	switch {
	case sent:
		res, err = es.s.w.ExecContext(ctx, `UPDATE escalation_webhooks SET state = 'sent', attempts = ? WHERE id = ?`, attempts, id)
	case nextAttempt.IsZero():
		res, err = es.s.w.ExecContext(ctx, `UPDATE escalation_webhooks SET state = 'abandoned', attempts = ? WHERE id = ?`, attempts, id)
	default:
		res, err = es.s.w.ExecContext(ctx, `UPDATE escalation_webhooks SET attempts = ?, next_attempt = ? WHERE id = ?`,
			attempts, nextAttempt.UnixNano(), id)
	}
	if err != nil {
		return internal("mark webhook", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal("mark webhook", err)
	} else if n == 0 {
		return escalation.ErrNotFound
	}
	return nil
}
