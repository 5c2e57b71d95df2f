package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// Retention (migration 0020): the purge, job leases and legal holds. See
// chat.Store.

// purgeConvsPerRound bounds the conversations one purge round looks at.
const purgeConvsPerRound = 200

// heldMessage is true for a log entry e that is, or changes, a message of
// a user under a legal hold: the purge keeps it (below purged_seq, where
// no client reads).
const heldMessage = `EXISTS (SELECT 1 FROM events m JOIN legal_holds h ON h.kind = 'user' AND h.subject = m.sender_id
	WHERE m.conv_id = e.conv_id AND m.seq = COALESCE(e.target_seq, e.seq) AND m.kind = 'message')`

// PurgeMessages removes, in one transaction, at most r.Limit log entries
// older than their conversation's horizon, from the conversations after
// r.After in ID order (at most purgeConvsPerRound of them); the result's
// Next is where the following round starts.
func (s *Store) PurgeMessages(ctx context.Context, r chat.PurgeRequest) (chat.PurgeResult, error) {
	var out chat.PurgeResult
	if r.Limit < 1 {
		return out, chat.Errorf(chat.CodeInvalidField, "a purge round removes at least one entry")
	}
	convs, last, err := s.purgeCandidates(ctx, r)
	if err != nil {
		return out, s.internal("purge messages", err)
	}
	out.Next, out.More = last, last != ""
	err = s.inTx(ctx, "purge messages", func(t *txn) error {
		prev, budget := r.After, r.Limit
		for _, c := range convs {
			n, msgs, seen, err := s.purgeConv(ctx, t, c, budget)
			if err != nil {
				return err
			}
			if n > 0 {
				out.Convs = append(out.Convs, c.id)
				out.Events += n
				out.Messages += msgs
			}
			if budget -= seen; budget <= 0 {
				out.Next, out.More = prev, true // c may hold more: visit it again
				return nil
			}
			prev = c.id
		}
		return nil
	})
	if err != nil {
		return chat.PurgeResult{}, err
	}
	return out, nil
}

type purgeConv struct {
	id      string
	purged  int64 // purged_seq
	horizon int64
}

// purgeCandidates reads, outside any write transaction, the next
// purgeConvsPerRound conversations after r.After that a retention applies
// to and no hold keeps, and returns those whose first entry after
// purged_seq is past their horizon, with the last ID visited ("" when
// there were no more).
func (s *Store) purgeCandidates(ctx context.Context, r chat.PurgeRequest) ([]purgeConv, string, error) {
	rows, err := s.reads().query(ctx, `SELECT c.id, c.retain_days, c.purged_seq,
			COALESCE((SELECT e.created_at FROM events e WHERE e.conv_id = c.id AND e.seq > c.purged_seq
				ORDER BY e.seq LIMIT 1), 0)
		FROM conversations c
		WHERE c.id > ? AND (c.retain_days > 0 OR ?)
			AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.kind = 'room' AND h.subject = c.id)
		ORDER BY c.id LIMIT ?`, r.After, r.Global > 0, purgeConvsPerRound)
	if err != nil {
		return nil, "", err
	}
	var last string
	all, err := collect(rows, func(row Row) (c purgeConv, err error) {
		var days int
		var oldest int64
		if err := row.Scan(&c.id, &days, &c.purged, &oldest); err != nil {
			return c, err
		}
		last = c.id
		if h, ok := chat.Horizon(r.Now, r.Global, days); ok && oldest != 0 && oldest < h.UnixNano() {
			c.horizon = h.UnixNano()
		}
		return c, nil
	})
	if err != nil {
		return nil, "", err
	}
	if len(all) < purgeConvsPerRound {
		last = ""
	}
	out := all[:0]
	for _, c := range all {
		if c.horizon != 0 {
			out = append(out, c)
		}
	}
	return out, last, nil
}

// purgeConv moves c's purged_seq over at most limit entries, in order,
// while they are older than c's horizon, and removes those entries but
// the ones a user hold keeps; then what hung on the messages removed (see
// purgeDependents). It returns how many entries, and of them messages,
// went, and how many it passed (removed or kept).
func (s *Store) purgeConv(ctx context.Context, t *txn, c purgeConv, limit int) (n, msgs, seen int, err error) {
	upto, seen, err := s.purgeExtent(ctx, t, c, limit)
	if err != nil || upto == 0 {
		return 0, 0, 0, err
	}
	rows, err := t.query(ctx, `DELETE FROM events WHERE conv_id = ? AND seq IN (
			SELECT e.seq FROM events e WHERE e.conv_id = ? AND e.seq > ? AND e.seq <= ? AND NOT `+heldMessage+`)
		RETURNING kind`, c.id, c.id, c.purged, upto)
	if err != nil {
		return 0, 0, 0, err
	}
	kinds, err := collect(rows, func(r Row) (k string, err error) { return k, r.Scan(&k) })
	if err != nil {
		return 0, 0, 0, err
	}
	for _, k := range kinds {
		if k == string(chat.EventMessage) {
			msgs++
		}
	}
	if _, err := t.exec(ctx, `UPDATE conversations SET purged_seq = ? WHERE id = ? AND purged_seq < ?`, upto, c.id, upto); err != nil {
		return 0, 0, 0, err
	}
	return len(kinds), msgs, seen, s.purgeDependents(ctx, t, c.id, upto)
}

// gone is true for a row of table (with columns conv_id and seq) whose
// message is no longer in the log.
func gone(table string) string {
	return `NOT EXISTS (SELECT 1 FROM events m WHERE m.conv_id = ` + table + `.conv_id AND m.seq = ` + table + `.seq AND m.kind = 'message')`
}

// purgeExtent reads c's entries after purged_seq in order, at most limit,
// up to the first one not older than c's horizon: upto is the last of the
// older ones (0: none), seen how many they are.
func (s *Store) purgeExtent(ctx context.Context, t *txn, c purgeConv, limit int) (upto int64, seen int, err error) {
	rows, err := t.query(ctx, `SELECT seq, created_at FROM events WHERE conv_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
		c.id, c.purged, limit)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var seq, at int64
		if err := rows.Scan(&seq, &at); err != nil {
			return 0, 0, err
		}
		if at >= c.horizon {
			break
		}
		upto, seen = seq, seen+1
	}
	return upto, seen, rows.Err()
}

// purgeDependents removes what hung on messages of conv up to seq upto
// that are gone.
func (s *Store) purgeDependents(ctx context.Context, t *txn, conv string, upto int64) error {
	for _, q := range []string{
		`UPDATE events SET body = '' WHERE conv_id = ? AND target_seq <= ? AND kind = 'edit' AND body <> ''
			AND NOT EXISTS (SELECT 1 FROM events m WHERE m.conv_id = events.conv_id AND m.seq = events.target_seq)`,
		`DELETE FROM pins WHERE conv_id = ? AND seq <= ? AND ` + gone("pins"),
		`DELETE FROM support_notes WHERE conv_id = ? AND seq > 0 AND seq <= ? AND ` + gone("support_notes"),
		`DELETE FROM reports WHERE conv_id = ? AND seq > 0 AND seq <= ? AND status = 'resolved' AND ` + gone("reports"),
	} {
		if _, err := t.exec(ctx, q, conv, upto); err != nil {
			return err
		}
	}
	return nil
}

// PurgeEscalations removes at most limit escalations resolved before
// closedBefore, with their timeline (ON DELETE CASCADE) and their webhook
// deliveries already sent or abandoned.
func (s *Store) PurgeEscalations(ctx context.Context, closedBefore time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, nil
	}
	var n int64
	err := s.inTx(ctx, "purge escalations", func(t *txn) error {
		const old = `SELECT id FROM escalations WHERE status = 'resolved' AND resolved_at < ? ORDER BY resolved_at LIMIT ?`
		if _, err := t.exec(ctx, `DELETE FROM escalation_webhooks WHERE state <> 'pending' AND escalation_id IN (`+old+`)`,
			closedBefore.UnixNano(), limit); err != nil {
			return err
		}
		var err error
		n, err = t.exec(ctx, `DELETE FROM escalations WHERE id IN (`+old+`)`, closedBefore.UnixNano(), limit)
		return err
	})
	return int(n), err
}

// TryJobLease takes or renews job name's lease for owner.
func (s *Store) TryJobLease(ctx context.Context, name, owner string, until time.Time) (bool, error) {
	if !Storable(name) || !Storable(owner) || owner == "" {
		return false, ErrInvalidText("the lease")
	}
	var got string
	err := s.w.QueryRow(ctx, s.text(`INSERT INTO job_leases (name, owner, until_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_at = excluded.until_at
		WHERE job_leases.owner = excluded.owner OR job_leases.until_at < ?
		RETURNING owner`), name, owner, until.UnixNano(), time.Now().UnixNano()).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, s.internal("job lease", err)
	}
	return got == owner, nil
}

// ReleaseJobLease gives up job name's lease if owner holds it.
func (s *Store) ReleaseJobLease(ctx context.Context, name, owner string) error {
	if _, err := s.exec(ctx, `DELETE FROM job_leases WHERE name = ? AND owner = ?`, name, owner); err != nil {
		return s.internal("release job lease", err)
	}
	return nil
}

// SetHold sets or updates a legal hold.
func (s *Store) SetHold(ctx context.Context, h chat.Hold) (chat.Hold, error) {
	switch {
	case h.Kind != chat.HoldUser && h.Kind != chat.HoldRoom:
		return chat.Hold{}, chat.Errorf(chat.CodeInvalidField, "a hold's kind is user or room")
	case h.Subject == "" || h.By == "":
		return chat.Hold{}, chat.Errorf(chat.CodeInvalidField, "a hold needs a subject and who sets it")
	case len(h.Reason) > chat.MaxHoldReasonBytes:
		return chat.Hold{}, chat.Errorf(chat.CodeInvalidField, "a hold's reason has at most %d bytes", chat.MaxHoldReasonBytes)
	case !Storable(h.Subject) || !Storable(h.By) || !Storable(h.Reason):
		return chat.Hold{}, ErrInvalidText("the hold")
	}
	var at int64
	err := s.w.QueryRow(ctx, s.text(`INSERT INTO legal_holds (kind, subject, reason, set_by, set_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, subject) DO UPDATE SET reason = excluded.reason
		RETURNING reason, set_by, set_at`), string(h.Kind), h.Subject, h.Reason, h.By, time.Now().UnixNano()).
		Scan(&h.Reason, &h.By, &at)
	if err != nil {
		return chat.Hold{}, s.internal("set hold", err)
	}
	h.At = FromNanos(at)
	return h, nil
}

// ReleaseHold lifts a legal hold.
func (s *Store) ReleaseHold(ctx context.Context, kind chat.HoldKind, subject string) (bool, error) {
	if !Storable(subject) {
		return false, nil
	}
	n, err := s.exec(ctx, `DELETE FROM legal_holds WHERE kind = ? AND subject = ?`, string(kind), subject)
	if err != nil {
		return false, s.internal("release hold", err)
	}
	return n > 0, nil
}

// Holds lists the holds of subject (all when "").
func (s *Store) Holds(ctx context.Context, subject string) ([]chat.Hold, error) {
	if !Storable(subject) {
		return []chat.Hold{}, nil
	}
	rows, err := s.reads().query(ctx, `SELECT kind, subject, reason, set_by, set_at FROM legal_holds
		WHERE ? = '' OR subject = ? ORDER BY set_at, kind, subject`, subject, subject)
	if err != nil {
		return nil, s.internal("holds", err)
	}
	out, err := collect(rows, func(r Row) (h chat.Hold, err error) {
		var kind string
		var at int64
		err = r.Scan(&kind, &h.Subject, &h.Reason, &h.By, &at)
		h.Kind, h.At = chat.HoldKind(kind), FromNanos(at)
		return h, err
	})
	if err != nil {
		return nil, s.internal("holds", err)
	}
	return out, nil
}
