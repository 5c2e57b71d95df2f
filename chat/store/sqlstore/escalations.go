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
	"github.com/kindred-health/kindred/chat/store/sealer"
)

// EscalationStore is the escalation.Store of a Store: the same database
// (migration 0002 of each engine), so escalations, the rota and the
// webhook outbox live next to the conversations they are about, and any
// node's engine can take over an escalation whose node died.
//
// Concurrency: Update reads the escalation with its row locked
// (Dialect.LockRows) for its read-modify-write, so concurrent Updates
// serialise and none is lost; TryLease is one conditional UPDATE;
// DueWebhooks claims rows in one transaction, passing over those another
// sender is claiming. Times are the engine's (see escalation.Store).
type EscalationStore struct{ s *Store }

var _ escalation.Store = (*EscalationStore)(nil)

// Escalations returns the escalation store sharing s's database. It is a
// method rather than Store implementing escalation.Store itself because
// the two interfaces would read as one API, which they are not (and
// Create, Get, List... would be ambiguous on a chat store).
func (s *Store) Escalations() *EscalationStore { return &EscalationStore{s: s} }

// validEscalation refuses, with CodeInvalidField, what a write of e could
// not store: an unknown status (a CHECK constraint), or text that some
// engine cannot hold (see Storable), so that every engine accepts the same
// escalations. JSON columns hold anything. Create also checks the source,
// which Update does not write.
func validEscalation(e *escalation.Escalation) error {
	if !e.Status.Valid() {
		return chat.Errorf(chat.CodeInvalidField, "invalid escalation status %q", e.Status)
	}
	texts := []string{e.ID, e.Conv, string(e.ConvKind), e.ConvName, e.Subject, e.SubjectName,
		e.ReportedBy, e.Reason, e.AssignedTo, e.Outcome}
	for _, st := range e.Timeline {
		texts = append(texts, string(st.Kind), st.Actor, st.Detail)
	}
	for _, d := range e.Outbox {
		texts = append(texts, d.ID, d.EscalationID, d.Event)
	}
	for _, t := range texts {
		if !Storable(t) {
			return ErrInvalidText("the escalation")
		}
	}
	return nil
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
	return FromNanos(n.Int64)
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

const escColumns = `id, conv_id, conv_kind, conv_name, subject_id, subject_name, source, reported_by,
	reason, severity, categories, evidence, message, context, status, tier, assigned_to, outcome,
	created_at, ack_deadline, acked_at, resolved_at, lease_owner, lease_until, key_id`

// scanEscalation reads a row of escColumns, opening its snapshot with keys.
func scanEscalation(r Row, keys *sealer.Ring) (*escalation.Escalation, error) {
	var (
		e                         escalation.Escalation
		kind, source, status      string
		cats, evid, msg, ctxJSON  string
		keyID                     string
		deadline, acked, resolved sql.NullInt64
		created, leaseUntil       int64
	)
	err := r.Scan(&e.ID, &e.Conv, &kind, &e.ConvName, &e.Subject, &e.SubjectName, &source, &e.ReportedBy,
		&e.Reason, &e.Severity, &cats, &evid, &msg, &ctxJSON, &status, &e.Tier, &e.AssignedTo, &e.Outcome,
		&created, &deadline, &acked, &resolved, &e.LeaseOwner, &leaseUntil, &keyID)
	if err != nil {
		return nil, err
	}
	j := escJSON{evid: evid, msg: msg, ctx: ctxJSON, keyID: keyID}
	if err := j.open(keys, e.ID); err != nil {
		return nil, err
	}
	evid, msg, ctxJSON = j.evid, j.msg, j.ctx
	e.ConvKind = chat.ConversationKind(kind)
	e.Source = escalation.Source(source)
	e.Status = escalation.Status(status)
	e.CreatedAt = FromNanos(created)
	e.AckDeadline, e.AckedAt, e.ResolvedAt = fromNull(deadline), fromNull(acked), fromNull(resolved)
	if leaseUntil != 0 {
		e.LeaseUntil = FromNanos(leaseUntil)
	}
	err = errors.Join(decodeJSON(cats, &e.Categories), decodeJSON(evid, &e.Evidence), decodeJSON(ctxJSON, &e.Context))
	if err == nil && msg != "" {
		err = json.Unmarshal([]byte(msg), &e.Message)
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}

const (
	sqlGetEsc       = `SELECT ` + escColumns + ` FROM escalations WHERE id = ?`
	sqlGetEscLocked = sqlGetEsc + `{lock}`
)

// getEsc reads one escalation (query sqlGetEsc or sqlGetEscLocked) with
// its timeline through r; sql.ErrNoRows when there is none.
func getEsc(ctx context.Context, r runner, query, id string) (*escalation.Escalation, error) {
	e, err := scanEscalation(r.queryRow(ctx, query, id), r.keys())
	if err != nil {
		return nil, err
	}
	if err := loadSteps(ctx, r, []*escalation.Escalation{e}); err != nil {
		return nil, err
	}
	return e, nil
}

// loadSteps fills the timelines of es, in chunks small enough for any
// engine's limit on bound parameters.
func loadSteps(ctx context.Context, r runner, es []*escalation.Escalation) error {
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
		rows, err := r.queryBuilt(ctx, `SELECT escalation_id, at, kind, actor, detail, recipients
			FROM escalation_steps WHERE escalation_id IN (?`+strings.Repeat(",?", len(part)-1)+`)
			ORDER BY escalation_id, n`, args...)
		if err != nil {
			return err
		}
		steps, err := collect(rows, scanStep)
		if err != nil {
			return err
		}
		for _, st := range steps {
			if e := byID[st.id]; e != nil {
				e.Timeline = append(e.Timeline, st.Step)
			}
		}
	}
	return nil
}

// step is one row of escalation_steps.
type step struct {
	id string
	escalation.Step
}

func scanStep(r Row) (st step, err error) {
	var kind, rcpt string
	var at int64
	if err := r.Scan(&st.id, &at, &kind, &st.Actor, &st.Detail, &rcpt); err != nil {
		return st, err
	}
	st.At = FromNanos(at)
	st.Kind = escalation.StepKind(kind)
	return st, decodeJSON(rcpt, &st.Recipients)
}

// collectEsc reads rows of escColumns, then their timelines through r.
func collectEsc(ctx context.Context, r runner, rows Rows) ([]*escalation.Escalation, error) {
	keys := r.keys()
	out, err := collect(rows, func(row Row) (*escalation.Escalation, error) { return scanEscalation(row, keys) })
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return out, loadSteps(ctx, r, out)
}

// insertSteps appends steps to escalation id, numbering from first.
//
// Each step also goes into the audit log, in the same transaction: who
// (the actor, or "system") took which step of which escalation, in which
// conversation. Its detail stays in the timeline (notes and outcomes are
// clinical text).
func insertSteps(ctx context.Context, t *txn, id, conv string, first int, steps []escalation.Step) error {
	entries := make([]chat.AuditEntry, len(steps))
	for i, st := range steps {
		entries[i] = chat.AuditEntry{At: st.At, Actor: st.Actor, Action: "escalation." + string(st.Kind), Room: conv, Target: id}
	}
	if err := appendAudit(ctx, t, entries); err != nil {
		return err
	}
	for i, st := range steps {
		rcpt, err := jsonText(st.Recipients)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO escalation_steps (escalation_id, n, at, kind, actor, detail, recipients)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, first+i, st.At.UnixNano(), string(st.Kind), st.Actor, st.Detail, rcpt); err != nil {
			return err
		}
	}
	return nil
}
