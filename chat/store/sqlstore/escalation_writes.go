package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
)

// escJSON is an escalation's JSON columns, encoded; evid, ctx and msg
// are sealed with key keyID when it is not "" (see seal).
type escJSON struct{ cats, evid, ctx, msg, keyID string }

func encodeEsc(e *escalation.Escalation) (j escJSON, err error) {
	var errs [3]error
	j.cats, errs[0] = jsonText(e.Categories)
	j.evid, errs[1] = jsonText(e.Evidence)
	j.ctx, errs[2] = jsonText(e.Context)
	if err := errors.Join(errs[:]...); err != nil {
		return j, err
	}
	if e.Message != (chat.Event{}) {
		b, err := json.Marshal(e.Message)
		if err != nil {
			return j, err
		}
		j.msg = string(b)
	}
	return j, nil
}

// Create implements escalation.Store.
func (es *EscalationStore) Create(ctx context.Context, in *escalation.Escalation) (*escalation.Escalation, bool, error) {
	e := in.Clone()
	if !e.Source.Valid() {
		return nil, false, chat.Errorf(chat.CodeInvalidField, "invalid escalation source %q", e.Source)
	}
	if err := validEscalation(e); err != nil {
		return nil, false, err
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now()
	}
	j, err := encodeEsc(e)
	if err != nil {
		return nil, false, es.s.internal("create escalation", err)
	}
	var (
		stored  *escalation.Escalation
		created bool
	)
	err = es.s.inTx(ctx, "create escalation", func(t *txn) error {
		old, err := insertEsc(ctx, t, e, j)
		if err != nil || old != nil {
			stored = old
			return err
		}
		if err := insertSteps(ctx, t, e.ID, e.Conv, 0, e.Timeline); err != nil {
			return err
		}
		if err := enqueue(ctx, t, e.Outbox, e.CreatedAt); err != nil {
			return err
		}
		created = true
		stored, err = getEsc(ctx, t, sqlGetEsc, e.ID)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return stored, created, nil
}

// insertEsc inserts e's row, with a fresh ID when e has none. When e's ID
// or its message (dedup_key) is taken it inserts nothing and returns the
// escalation that holds it.
func insertEsc(ctx context.Context, t *txn, e *escalation.Escalation, j escJSON) (*escalation.Escalation, error) {
	var key any
	if k := e.DedupKey(); k != "" {
		key = k
	}
	generated := e.ID == ""
	for attempt := 0; ; attempt++ {
		if generated {
			e.ID = escalation.NewID("esc_")
		}
		// No conflict target: a clash on the ID and one on dedup_key
		// both do nothing. A racing insert of the same message waits
		// for the first to commit, then does nothing, and the lookups
		// below see the winner.
		sj, err := j.seal(t.s.keys, e.ID)
		if err != nil {
			return nil, err
		}
		n, err := t.exec(ctx, `INSERT INTO escalations (`+escColumns+`, dedup_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?, ?)
			ON CONFLICT DO NOTHING`,
			e.ID, e.Conv, string(e.ConvKind), e.ConvName, e.Subject, e.SubjectName, string(e.Source), e.ReportedBy,
			e.Reason, int(e.Severity), sj.cats, sj.evid, sj.msg, sj.ctx, string(e.Status), e.Tier, e.AssignedTo, e.Outcome,
			e.CreatedAt.UnixNano(), nanos(e.AckDeadline), nanos(e.AckedAt), nanos(e.ResolvedAt), sj.keyID, key)
		if err != nil {
			return nil, err
		}
		if n == 1 {
			return nil, nil
		}
		old, err := existingEsc(ctx, t, e.ID, !generated, key)
		if err != nil || old != nil {
			return old, err
		}
		// A generated ID clashed: 60 random bits make that all but
		// impossible, a few retries impossible in practice.
		if !generated || attempt == 3 {
			return nil, errors.New("insert conflicted on neither id nor message")
		}
	}
}

// existingEsc returns the escalation with id (when byID) or else the one
// with dedup key key (when not nil); nil when there is neither.
func existingEsc(ctx context.Context, t *txn, id string, byID bool, key any) (*escalation.Escalation, error) {
	if byID {
		old, err := getEsc(ctx, t, sqlGetEsc, id)
		if !errors.Is(err, sql.ErrNoRows) {
			return old, err
		}
	}
	if key == nil {
		return nil, nil
	}
	var other string
	err := t.queryRow(ctx, `SELECT id FROM escalations WHERE dedup_key = ?`, key).Scan(&other)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return getEsc(ctx, t, sqlGetEsc, other)
}

// Get implements escalation.Store.
func (es *EscalationStore) Get(ctx context.Context, id string) (*escalation.Escalation, error) {
	if !Storable(id) {
		return nil, escalation.ErrNotFound
	}
	e, err := getEsc(ctx, es.s.reads(), sqlGetEsc, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, escalation.ErrNotFound
	}
	if err != nil {
		return nil, es.s.internal("get escalation", err)
	}
	return e, nil
}

// List implements escalation.Store.
func (es *EscalationStore) List(ctx context.Context, f escalation.Filter) ([]*escalation.Escalation, error) {
	q := `SELECT ` + escColumns + ` FROM escalations WHERE 1 = 1`
	var args []any
	for _, st := range f.Status {
		if Storable(string(st)) {
			args = append(args, string(st))
		}
	}
	if len(f.Status) > 0 {
		if len(args) == 0 {
			return nil, nil // only statuses nothing can have
		}
		q += ` AND status IN (?` + strings.Repeat(",?", len(args)-1) + `)`
	}
	if f.Subject != "" {
		if !Storable(f.Subject) {
			return nil, nil
		}
		q += ` AND subject_id = ?`
		args = append(args, f.Subject)
	}
	// Status.QueueRank, then severity, then age.
	q += ` ORDER BY CASE status WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END, severity DESC, created_at, id LIMIT ?`
	args = append(args, f.ListLimit())
	r := es.s.reads()
	rows, err := r.queryBuilt(ctx, q, args...)
	if err != nil {
		return nil, es.s.internal("list escalations", err)
	}
	out, err := collectEsc(ctx, r, rows)
	if err != nil {
		return nil, es.s.internal("list escalations", err)
	}
	return out, nil
}

// Update implements escalation.Store. The read locks the escalation's row
// (on engines with row locks; elsewhere the write transaction excludes
// every other writer) and so holds off every other Update and TryLease of
// it, in any process or on any node, until the transaction ends.
func (es *EscalationStore) Update(ctx context.Context, id string, fn func(*escalation.Escalation) error) (*escalation.Escalation, error) {
	if !Storable(id) {
		return nil, escalation.ErrNotFound
	}
	var (
		stored *escalation.Escalation
		fnErr  error
	)
	err := es.s.inTx(ctx, "update escalation", func(t *txn) error {
		old, err := getEsc(ctx, t, sqlGetEscLocked, id)
		if errors.Is(err, sql.ErrNoRows) {
			return escalation.ErrNotFound
		}
		if err != nil {
			return err
		}
		e := old.Clone()
		if fnErr = fn(e); fnErr != nil {
			return fnErr
		}
		if err := updateEsc(ctx, t, old, e); err != nil {
			return err
		}
		stored, err = getEsc(ctx, t, sqlGetEsc, id)
		return err
	})
	if fnErr != nil {
		return nil, fnErr // fn's own error, unwrapped, as the contract says
	}
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// updateEsc writes what Update stores of e, whose stored state is old.
func updateEsc(ctx context.Context, t *txn, old, e *escalation.Escalation) error {
	if err := validEscalation(e); err != nil {
		return err
	}
	if len(e.Timeline) < len(old.Timeline) {
		return errors.New("timeline steps dropped (the timeline is append-only)")
	}
	// Message and context are not Update's to change, but they are
	// written again, as stored, so that every sealed column has the
	// row's one key id.
	kept := *e
	kept.Message, kept.Context = old.Message, old.Context
	j, err := encodeEsc(&kept)
	if err == nil {
		j, err = j.seal(t.s.keys, old.ID)
	}
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `UPDATE escalations SET severity = ?, categories = ?, evidence = ?, message = ?, context = ?,
		key_id = ?, reason = ?, status = ?, tier = ?, assigned_to = ?, outcome = ?, ack_deadline = ?, acked_at = ?, resolved_at = ?
		WHERE id = ?`,
		int(e.Severity), j.cats, j.evid, j.msg, j.ctx, j.keyID, e.Reason, string(e.Status), e.Tier, e.AssignedTo, e.Outcome,
		nanos(e.AckDeadline), nanos(e.AckedAt), nanos(e.ResolvedAt), old.ID); err != nil {
		return err
	}
	if err := insertSteps(ctx, t, old.ID, old.Conv, len(old.Timeline), e.Timeline[len(old.Timeline):]); err != nil {
		return err
	}
	return enqueue(ctx, t, e.Outbox, time.Now())
}
