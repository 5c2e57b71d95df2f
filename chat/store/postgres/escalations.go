package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
)

// EscalationStore is the escalation.Store of a PostgreSQL Store: the same
// pool and schema (migration 0002), shared by every node, which is what lets
// any node's engine take over an escalation whose node died.
//
// Concurrency: Update locks the escalation's row (SELECT ... FOR UPDATE) for
// its read-modify-write, so concurrent Updates from any node serialise and
// none is lost; TryLease is one conditional UPDATE; DueWebhooks claims rows
// with FOR UPDATE SKIP LOCKED. Times are the engine's (see the migration).
type EscalationStore struct{ s *Store }

var _ escalation.Store = (*EscalationStore)(nil)

// Escalations returns the escalation store sharing s's pool and schema. It
// is a method rather than Store implementing escalation.Store itself
// because the two interfaces would read as one API, which they are not.
func (s *Store) Escalations() *EscalationStore { return &EscalationStore{s: s} }

// pgQuerier is what reads need from a pool or a transaction.
type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// nanos encodes a time for storage; a zero time is NULL.
func nanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

func fromNull(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return fromNanos(*n)
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

// decodeJSON decodes a JSON array column, leaving v nil when it is empty.
func decodeJSON[T any](s string, v *[]T) error {
	if s == "" || s == "[]" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// escStorable reports whether every plain text column of e can be stored
// (see storable); JSON columns always can.
func escStorable(e *escalation.Escalation) bool {
	for _, s := range []string{e.ID, e.Conv, string(e.ConvKind), e.ConvName, e.Subject, e.SubjectName,
		string(e.Source), e.ReportedBy, e.Reason, string(e.Status), e.AssignedTo, e.Outcome} {
		if !storable(s) {
			return false
		}
	}
	for _, st := range e.Timeline {
		if !storable(string(st.Kind)) || !storable(st.Actor) || !storable(st.Detail) {
			return false
		}
	}
	for _, d := range e.Outbox {
		if !storable(d.ID) || !storable(d.EscalationID) || !storable(d.Event) {
			return false
		}
	}
	return true
}

const escColumns = `id, conv_id, conv_kind, conv_name, subject_id, subject_name, source, reported_by,
	reason, severity, categories, evidence, message, context, status, tier, assigned_to, outcome,
	created_at, ack_deadline, acked_at, resolved_at, lease_owner, lease_until`

func scanEscalation(row pgx.Row) (*escalation.Escalation, error) {
	var (
		e                         escalation.Escalation
		kind, source, status      string
		cats, evid, msg, ctxJSON  string
		severity                  int32
		tier                      int32
		deadline, acked, resolved *int64
		created, leaseUntil       int64
	)
	err := row.Scan(&e.ID, &e.Conv, &kind, &e.ConvName, &e.Subject, &e.SubjectName, &source, &e.ReportedBy,
		&e.Reason, &severity, &cats, &evid, &msg, &ctxJSON, &status, &tier, &e.AssignedTo, &e.Outcome,
		&created, &deadline, &acked, &resolved, &e.LeaseOwner, &leaseUntil)
	if err != nil {
		return nil, err
	}
	e.ConvKind = chat.ConversationKind(kind)
	e.Source = escalation.Source(source)
	e.Status = escalation.Status(status)
	e.Severity = crisis.Severity(severity)
	e.Tier = int(tier)
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

// getEsc reads one escalation with its timeline through q (locking its row
// when lock is set); pgx.ErrNoRows when there is none.
func getEsc(ctx context.Context, q pgQuerier, id string, lock bool) (*escalation.Escalation, error) {
	sql := `SELECT ` + escColumns + ` FROM escalations WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	e, err := scanEscalation(q.QueryRow(ctx, sql, id))
	if err != nil {
		return nil, err
	}
	if err := loadSteps(ctx, q, []*escalation.Escalation{e}); err != nil {
		return nil, err
	}
	return e, nil
}

// loadSteps fills the timelines of es in one query.
func loadSteps(ctx context.Context, q pgQuerier, es []*escalation.Escalation) error {
	byID := make(map[string]*escalation.Escalation, len(es))
	ids := make([]string, len(es))
	for i, e := range es {
		byID[e.ID] = e
		ids[i] = e.ID
	}
	rows, err := q.Query(ctx, `SELECT escalation_id, at, kind, actor, detail, recipients
		FROM escalation_steps WHERE escalation_id = ANY($1) ORDER BY escalation_id, n`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, kind, rcpt string
			at             int64
			st             escalation.Step
		)
		if err := rows.Scan(&id, &at, &kind, &st.Actor, &st.Detail, &rcpt); err != nil {
			return err
		}
		st.At = fromNanos(at)
		st.Kind = escalation.StepKind(kind)
		if err := decodeJSON(rcpt, &st.Recipients); err != nil {
			return err
		}
		if e := byID[id]; e != nil {
			e.Timeline = append(e.Timeline, st)
		}
	}
	return rows.Err()
}

func collectEsc(ctx context.Context, q pgQuerier, rows pgx.Rows) ([]*escalation.Escalation, error) {
	var out []*escalation.Escalation
	for rows.Next() {
		e, err := scanEscalation(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, loadSteps(ctx, q, out)
}

// insertSteps appends steps to escalation id, numbering from first, in one
// statement.
func insertSteps(ctx context.Context, tx pgx.Tx, id string, first int, steps []escalation.Step) error {
	if len(steps) == 0 {
		return nil
	}
	var (
		ns                          = make([]int32, len(steps))
		ats                         = make([]int64, len(steps))
		kinds, actors, details, rcs = make([]string, len(steps)), make([]string, len(steps)), make([]string, len(steps)), make([]string, len(steps))
	)
	for i, st := range steps {
		rcpt, err := jsonText(st.Recipients)
		if err != nil {
			return err
		}
		ns[i], ats[i], kinds[i], actors[i], details[i], rcs[i] = int32(first+i), st.At.UnixNano(), string(st.Kind), st.Actor, st.Detail, rcpt
	}
	_, err := tx.Exec(ctx, `INSERT INTO escalation_steps (escalation_id, n, at, kind, actor, detail, recipients)
		SELECT $1, n, at, kind, actor, detail, recipients
		FROM unnest($2::integer[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
			AS t (n, at, kind, actor, detail, recipients)`,
		id, ns, ats, kinds, actors, details, rcs)
	return err
}

// enqueue inserts deliveries; an existing ID is left alone.
func enqueue(ctx context.Context, tx pgx.Tx, ds []escalation.Delivery, now time.Time) error {
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
		if _, err := tx.Exec(ctx, `INSERT INTO escalation_webhooks
			(id, escalation_id, event, body, created_at, attempts, next_attempt) VALUES ($1, $2, $3, $4, $5, $6, $7)
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
	if !escStorable(e) {
		return nil, false, errInvalidText("the escalation")
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now()
	}
	cats, err := jsonText(e.Categories)
	if err != nil {
		return nil, false, internal("create escalation", err)
	}
	evid, err := jsonText(e.Evidence)
	if err != nil {
		return nil, false, internal("create escalation", err)
	}
	ctxJSON, err := jsonText(e.Context)
	if err != nil {
		return nil, false, internal("create escalation", err)
	}
	var msg string
	if e.Message != (chat.Event{}) {
		b, err := json.Marshal(e.Message)
		if err != nil {
			return nil, false, internal("create escalation", err)
		}
		msg = string(b)
	}
	var key *string
	if k := e.DedupKey(); k != "" {
		key = &k
	}

	var (
		stored  *escalation.Escalation
		created bool
	)
	err = es.s.inTx(ctx, "create escalation", func(tx pgx.Tx) error {
		generated := e.ID == ""
		for attempt := 0; ; attempt++ {
			if generated {
				e.ID = escalation.NewID("esc_")
			}
			// No conflict target: a clash on the ID and one on
			// dedup_key both do nothing. A racing insert of the same
			// message waits for the first to commit, then does
			// nothing, and the lookups below see the winner.
			tag, err := tx.Exec(ctx, `INSERT INTO escalations (`+escColumns+`, dedup_key)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
					$19, $20, $21, $22, '', 0, $23)
				ON CONFLICT DO NOTHING`,
				e.ID, e.Conv, string(e.ConvKind), e.ConvName, e.Subject, e.SubjectName, string(e.Source), e.ReportedBy,
				e.Reason, int32(e.Severity), cats, evid, msg, ctxJSON, string(e.Status), int32(e.Tier), e.AssignedTo, e.Outcome,
				e.CreatedAt.UnixNano(), nanos(e.AckDeadline), nanos(e.AckedAt), nanos(e.ResolvedAt), key)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				break
			}
			if !generated {
				old, err := getEsc(ctx, tx, e.ID, false)
				if err == nil {
					stored = old
					return nil
				}
				if !errors.Is(err, pgx.ErrNoRows) {
					return err
				}
			}
			if key != nil {
				var id string
				err := tx.QueryRow(ctx, `SELECT id FROM escalations WHERE dedup_key = $1`, *key).Scan(&id)
				if err == nil {
					stored, err = getEsc(ctx, tx, id, false)
					return err
				}
				if !errors.Is(err, pgx.ErrNoRows) {
					return err
				}
			}
			if !generated || attempt == 3 {
				return errors.New("insert conflicted on neither id nor message")
			}
		}
		if err := insertSteps(ctx, tx, e.ID, 0, e.Timeline); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, e.Outbox, e.CreatedAt); err != nil {
			return err
		}
		created = true
		stored, err = getEsc(ctx, tx, e.ID, false)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return stored, created, nil
}

// Get implements escalation.Store.
func (es *EscalationStore) Get(ctx context.Context, id string) (*escalation.Escalation, error) {
	if !storable(id) {
		return nil, escalation.ErrNotFound
	}
	e, err := getEsc(ctx, es.s.pool, id, false)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, escalation.ErrNotFound
	}
	if err != nil {
		return nil, internal("get escalation", err)
	}
	return e, nil
}

// List implements escalation.Store.
func (es *EscalationStore) List(ctx context.Context, f escalation.Filter) ([]*escalation.Escalation, error) {
	statuses := make([]string, len(f.Status))
	for i, st := range f.Status {
		statuses[i] = string(st)
	}
	if !storable(f.Subject) {
		return nil, nil
	}
	rows, err := es.s.pool.Query(ctx, `SELECT `+escColumns+` FROM escalations
		WHERE (cardinality($1::text[]) = 0 OR status = ANY($1)) AND ($2 = '' OR subject_id = $2)
		ORDER BY severity DESC, created_at, id LIMIT $3`, statuses, f.Subject, f.ListLimit())
	if err != nil {
		return nil, internal("list escalations", err)
	}
	out, err := collectEsc(ctx, es.s.pool, rows)
	if err != nil {
		return nil, internal("list escalations", err)
	}
	return out, nil
}

// Update implements escalation.Store. The row lock taken by the read holds
// off every other Update (and TryLease) of the escalation, on any node,
// until this transaction ends.
func (es *EscalationStore) Update(ctx context.Context, id string, fn func(*escalation.Escalation) error) (*escalation.Escalation, error) {
	if !storable(id) {
		return nil, escalation.ErrNotFound
	}
	var (
		stored *escalation.Escalation
		fnErr  error
	)
	err := es.s.inTx(ctx, "update escalation", func(tx pgx.Tx) error {
		old, err := getEsc(ctx, tx, id, true)
		if errors.Is(err, pgx.ErrNoRows) {
			return escalation.ErrNotFound
		}
		if err != nil {
			return err
		}
		e := old.Clone()
		if err := fn(e); err != nil {
			fnErr = err
			return err
		}
		if !e.Status.Valid() {
			return chat.Errorf(chat.CodeInvalidField, "invalid escalation status %q", e.Status)
		}
		if len(e.Timeline) < len(old.Timeline) {
			fnErr = errors.New("postgres: update escalation: timeline steps dropped (the timeline is append-only)")
			return fnErr
		}
		if !escStorable(e) {
			return errInvalidText("the escalation")
		}
		cats, err := jsonText(e.Categories)
		if err != nil {
			return err
		}
		evid, err := jsonText(e.Evidence)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE escalations SET severity = $1, categories = $2, evidence = $3, reason = $4,
			status = $5, tier = $6, assigned_to = $7, outcome = $8, ack_deadline = $9, acked_at = $10, resolved_at = $11
			WHERE id = $12`,
			int32(e.Severity), cats, evid, e.Reason, string(e.Status), int32(e.Tier), e.AssignedTo, e.Outcome,
			nanos(e.AckDeadline), nanos(e.AckedAt), nanos(e.ResolvedAt), id); err != nil {
			return err
		}
		if err := insertSteps(ctx, tx, id, len(old.Timeline), e.Timeline[len(old.Timeline):]); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, e.Outbox, time.Now()); err != nil {
			return err
		}
		stored, err = getEsc(ctx, tx, id, false)
		return err
	})
	if fnErr != nil {
		// fn's own error, unwrapped, as the contract says.
		return nil, fnErr
	}
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// Due implements escalation.Store.
func (es *EscalationStore) Due(ctx context.Context, now time.Time, limit int) ([]*escalation.Escalation, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := es.s.pool.Query(ctx, `SELECT `+escColumns+` FROM escalations
		WHERE status = 'open' AND ack_deadline <= $1 AND (lease_owner = '' OR lease_until <= $1)
		ORDER BY ack_deadline, id LIMIT $2`, now.UnixNano(), lim)
	if err != nil {
		return nil, internal("due escalations", err)
	}
	out, err := collectEsc(ctx, es.s.pool, rows)
	if err != nil {
		return nil, internal("due escalations", err)
	}
	return out, nil
}

// TryLease implements escalation.Store. Racing nodes queue on the row lock;
// each re-checks the condition against the winner's committed row, so
// exactly one gets it.
func (es *EscalationStore) TryLease(ctx context.Context, id, node string, now time.Time, ttl time.Duration) (bool, error) {
	if !storable(id) {
		return false, escalation.ErrNotFound
	}
	if !storable(node) {
		return false, errInvalidText("the node id")
	}
	// One round trip: the CTE takes the lease if it can, and the outer
	// query tells "taken by someone else" from "no such escalation".
	var exists, won bool
	err := es.s.pool.QueryRow(ctx, `WITH won AS (
			UPDATE escalations SET lease_owner = $2, lease_until = $3
			WHERE id = $1 AND (lease_owner = '' OR lease_owner = $2 OR lease_until <= $4)
			RETURNING id
		)
		SELECT EXISTS (SELECT 1 FROM escalations WHERE id = $1), EXISTS (SELECT 1 FROM won)`,
		id, node, now.Add(ttl).UnixNano(), now.UnixNano()).Scan(&exists, &won)
	if err != nil {
		return false, internal("lease escalation", err)
	}
	if !exists {
		return false, escalation.ErrNotFound
	}
	return won, nil
}

// ReleaseLease implements escalation.Store.
func (es *EscalationStore) ReleaseLease(ctx context.Context, id, node string) error {
	if !storable(id) || !storable(node) {
		return nil
	}
	if _, err := es.s.pool.Exec(ctx, `UPDATE escalations SET lease_owner = '', lease_until = 0
		WHERE id = $1 AND lease_owner = $2`, id, node); err != nil {
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
	if _, err := es.s.pool.Exec(ctx, `INSERT INTO oncall_shifts (id, supervisor_id, tier, starts_at, ends_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET supervisor_id = excluded.supervisor_id,
		tier = excluded.tier, starts_at = excluded.starts_at, ends_at = excluded.ends_at`,
		s.ID, s.Supervisor, string(s.Tier), s.Start.UnixNano(), s.End.UnixNano()); err != nil {
		return escalation.Shift{}, internal("put shift", err)
	}
	s.Start, s.End = fromNanos(s.Start.UnixNano()), fromNanos(s.End.UnixNano())
	return s, nil
}

// DeleteShift implements escalation.Store.
func (es *EscalationStore) DeleteShift(ctx context.Context, id string) error {
	if !storable(id) {
		return escalation.ErrNotFound
	}
	tag, err := es.s.pool.Exec(ctx, `DELETE FROM oncall_shifts WHERE id = $1`, id)
	if err != nil {
		return internal("delete shift", err)
	}
	if tag.RowsAffected() == 0 {
		return escalation.ErrNotFound
	}
	return nil
}

// ListShifts implements escalation.Store.
func (es *EscalationStore) ListShifts(ctx context.Context, from, to time.Time) ([]escalation.Shift, error) {
	rows, err := es.s.pool.Query(ctx, `SELECT id, supervisor_id, tier, starts_at, ends_at FROM oncall_shifts
		WHERE ($1::bigint IS NULL OR ends_at > $1) AND ($2::bigint IS NULL OR starts_at < $2)
		ORDER BY starts_at, id`, nanos(from), nanos(to))
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
	if !storable(string(tier)) {
		return nil, nil
	}
	rows, err := es.s.pool.Query(ctx, `SELECT supervisor_id FROM oncall_shifts
		WHERE tier = $1 AND starts_at <= $2 AND ends_at > $2 ORDER BY starts_at, id`, string(tier), at.UnixNano())
	if err != nil {
		return nil, internal("on call", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, internal("on call", err)
	}
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// EnqueueWebhook implements escalation.Store.
func (es *EscalationStore) EnqueueWebhook(ctx context.Context, d escalation.Delivery) error {
	if !storable(d.ID) || !storable(d.EscalationID) || !storable(d.Event) {
		return errInvalidText("the delivery")
	}
	return es.s.inTx(ctx, "enqueue webhook", func(tx pgx.Tx) error {
		return enqueue(ctx, tx, []escalation.Delivery{d}, time.Now())
	})
}

// DueWebhooks implements escalation.Store: one statement selects the due
// rows, skipping those another sender is claiming right now (SKIP LOCKED,
// so senders never wait for each other), and moves them past the claim.
func (es *EscalationStore) DueWebhooks(ctx context.Context, now time.Time, limit int) ([]escalation.Delivery, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := es.s.pool.Query(ctx, `WITH due AS (
			SELECT id, next_attempt FROM escalation_webhooks
			WHERE state = 'pending' AND next_attempt <= $1
			ORDER BY next_attempt, ord LIMIT $2
			FOR UPDATE SKIP LOCKED
		)
		UPDATE escalation_webhooks w SET next_attempt = $3 FROM due WHERE w.id = due.id
		RETURNING w.id, w.escalation_id, w.event, w.body, w.attempts, due.next_attempt, w.created_at, w.ord`,
		now.UnixNano(), lim, now.Add(escalation.WebhookClaim).UnixNano())
	if err != nil {
		return nil, internal("due webhooks", err)
	}
	type row struct {
		d   escalation.Delivery
		ord int64
	}
	var out []row
	for rows.Next() {
		var (
			r             row
			attempts      int32
			next, created int64
		)
		if err := rows.Scan(&r.d.ID, &r.d.EscalationID, &r.d.Event, &r.d.Body, &attempts, &next, &created, &r.ord); err != nil {
			rows.Close()
			return nil, internal("due webhooks", err)
		}
		r.d.Attempts = int(attempts)
		r.d.NextAttempt, r.d.CreatedAt = fromNanos(next), fromNanos(created)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, internal("due webhooks", err)
	}
	// RETURNING has no order of its own.
	slices.SortFunc(out, func(a, b row) int {
		if c := a.d.NextAttempt.Compare(b.d.NextAttempt); c != 0 {
			return c
		}
		return int(a.ord - b.ord)
	})
	ds := make([]escalation.Delivery, len(out))
	for i, r := range out {
		ds[i] = r.d
	}
	if len(ds) == 0 {
		return nil, nil
	}
	return ds, nil
}

// MarkWebhook implements escalation.Store.
func (es *EscalationStore) MarkWebhook(ctx context.Context, id string, sent bool, nextAttempt time.Time, attempts int) error {
	if !storable(id) {
		return escalation.ErrNotFound
	}
	state := "pending"
	switch {
	case sent:
		state = "sent"
	case nextAttempt.IsZero():
		state = "abandoned"
	}
	tag, err := es.s.pool.Exec(ctx, `UPDATE escalation_webhooks SET state = $2, attempts = $3,
		next_attempt = COALESCE($4, next_attempt) WHERE id = $1`,
		id, state, int32(attempts), nanos(nextAttempt))
	if err != nil {
		return internal("mark webhook", err)
	}
	if tag.RowsAffected() == 0 {
		return escalation.ErrNotFound
	}
	return nil
}
