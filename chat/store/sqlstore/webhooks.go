package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/kindred-health/kindred/chat/escalation"
)

// enqueue inserts deliveries; an existing ID is left alone.
func enqueue(ctx context.Context, t *txn, ds []escalation.Delivery, now time.Time) error {
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
		if _, err := t.exec(ctx, `INSERT INTO escalation_webhooks
			(id, escalation_id, event, body, created_at, attempts, next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`,
			d.ID, d.EscalationID, d.Event, body, d.CreatedAt.UnixNano(), d.Attempts, d.NextAttempt.UnixNano()); err != nil {
			return err
		}
	}
	return nil
}

// EnqueueWebhook implements escalation.Store.
func (es *EscalationStore) EnqueueWebhook(ctx context.Context, d escalation.Delivery) error {
	if !Storable(d.ID) || !Storable(d.EscalationID) || !Storable(d.Event) {
		return ErrInvalidText("the delivery")
	}
	return es.s.inTx(ctx, "enqueue webhook", func(t *txn) error {
		return enqueue(ctx, t, []escalation.Delivery{d}, time.Now())
	})
}

// DueWebhooks implements escalation.Store. One write transaction reads the
// due rows and moves them past the claim, so the read and the claim are
// one step for every other sender. Rows another sender is claiming right
// now are passed over ({skip}) rather than waited for, where the engine
// locks rows; elsewhere the transaction excludes the other senders.
func (es *EscalationStore) DueWebhooks(ctx context.Context, now time.Time, limit int) ([]escalation.Delivery, error) {
	const due = `SELECT id, escalation_id, event, body, attempts, next_attempt, created_at
		FROM escalation_webhooks WHERE state = 'pending' AND next_attempt <= ?
		ORDER BY next_attempt, {ord}`
	var out []escalation.Delivery
	err := es.s.inTx(ctx, "due webhooks", func(t *txn) error {
		var (
			rows Rows
			err  error
		)
		if limit > 0 {
			rows, err = t.query(ctx, due+` LIMIT ?{skip}`, now.UnixNano(), limit)
		} else {
			rows, err = t.query(ctx, due+`{skip}`, now.UnixNano())
		}
		if err != nil {
			return err
		}
		if out, err = collect(rows, scanDelivery); err != nil || len(out) == 0 {
			return err
		}
		return claim(ctx, t, out, now.Add(escalation.WebhookClaim))
	})
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return out, nil
}

func scanDelivery(r Row) (d escalation.Delivery, err error) {
	var next, created int64
	err = r.Scan(&d.ID, &d.EscalationID, &d.Event, &d.Body, &d.Attempts, &next, &created)
	d.NextAttempt, d.CreatedAt = FromNanos(next), FromNanos(created)
	return d, err
}

// claim moves the next attempt of ds to until, in statements of at most
// 500 deliveries.
func claim(ctx context.Context, t *txn, ds []escalation.Delivery, until time.Time) error {
	const chunk = 500
	for i := 0; i < len(ds); i += chunk {
		part := ds[i:min(i+chunk, len(ds))]
		args := make([]any, 0, len(part)+1)
		args = append(args, until.UnixNano())
		for _, d := range part {
			args = append(args, d.ID)
		}
		if _, err := t.execBuilt(ctx, `UPDATE escalation_webhooks SET next_attempt = ?
			WHERE id IN (?`+strings.Repeat(",?", len(part)-1)+`)`, args...); err != nil {
			return err
		}
	}
	return nil
}

// MarkWebhook implements escalation.Store.
func (es *EscalationStore) MarkWebhook(ctx context.Context, id string, sent bool, nextAttempt time.Time, attempts int) error {
	if !Storable(id) {
		return escalation.ErrNotFound
	}
	state := "pending"
	switch {
	case sent:
		state = "sent"
	case nextAttempt.IsZero():
		state = "abandoned"
	}
	n, err := es.s.exec(ctx, `UPDATE escalation_webhooks SET state = ?, attempts = ?,
		next_attempt = COALESCE(?, next_attempt) WHERE id = ?`,
		state, attempts, nanos(nextAttempt), id)
	if err != nil {
		return es.s.internal("mark webhook", err)
	}
	if n == 0 {
		return escalation.ErrNotFound
	}
	return nil
}
