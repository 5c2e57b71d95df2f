package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// Re-encryption: after a new key is put first in the ring, rows written
// before still hold text sealed with an older key, or stored as it is when
// encryption was just turned on. Reseal moves them to the active key, a
// bounded batch at a time, in key order (events by conversation and
// sequence, then escalations by id), so a pass reads each row once and a
// pass that stops can start again: rows already moved are passed over.
//
// Each row is rewritten only if it still holds what was read (the same key
// id and value): a message edited, deleted or re-encrypted by another node
// in between keeps what that write stored, which is sealed with the
// active key already. Reads open either, so rotation needs no downtime.

// KeyCount is how many rows of a table hold text sealed with one key (""
// for text stored as it is). Events count only rows with text: erased
// ones hold none.
type KeyCount struct {
	Table string `json:"table"`
	KeyID string `json:"key_id"`
	Rows  int64  `json:"rows"`
}

// KeyCounts counts the rows of events and escalations by key id.
func (s *Store) KeyCounts(ctx context.Context) ([]KeyCount, error) {
	rows, err := s.reads().query(ctx, `SELECT 'events', key_id, COUNT(*) FROM events WHERE body <> '' GROUP BY key_id
		UNION ALL SELECT 'escalations', key_id, COUNT(*) FROM escalations GROUP BY key_id
		ORDER BY 1 DESC, 2`)
	if err != nil {
		return nil, s.internal("key counts", err)
	}
	out, err := collect(rows, func(r Row) (KeyCount, error) {
		var c KeyCount
		return c, r.Scan(&c.Table, &c.KeyID, &c.Rows)
	})
	if err != nil {
		return nil, s.internal("key counts", err)
	}
	return out, nil
}

// ResealCursor is where a pass of Reseal has got to; the zero value is
// the start.
type ResealCursor struct {
	table int // 0 events, 1 escalations, 2 done
	conv  string
	seq   int64
	id    string
}

// Done reports whether the pass has been through every table.
func (c ResealCursor) Done() bool { return c.table >= 2 }

// Reseal re-encrypts with the active key up to limit rows after cur that
// hold text under another key or none, and returns where to continue and
// how many rows it rewrote. Without keys there is nothing to do. A row
// sealed with a key the ring lacks stops the pass with an error naming
// the key.
func (s *Store) Reseal(ctx context.Context, cur ResealCursor, limit int) (ResealCursor, int, error) {
	if s.keys == nil {
		return ResealCursor{table: 2}, 0, nil
	}
	limit = max(limit, 1)
	var (
		n    int
		more bool
		err  error
	)
	switch cur.table {
	case 0:
		n, more, err = s.resealEvents(ctx, &cur, limit)
	case 1:
		n, more, err = s.resealEscalations(ctx, &cur, limit)
	default:
		return cur, 0, nil
	}
	if err != nil {
		return cur, n, err
	}
	if !more {
		cur.table++
	}
	return cur, n, nil
}

type sealedEvent struct {
	conv        string
	seq         int64
	keyID, body string
}

// resealEvents rewrites the next batch of events, reporting whether
// there may be more.
func (s *Store) resealEvents(ctx context.Context, cur *ResealCursor, limit int) (int, bool, error) {
	active := s.keys.Active()
	rows, err := s.reads().query(ctx, `SELECT conv_id, seq, key_id, body FROM events
		WHERE (conv_id, seq) > (?, ?) AND key_id <> ? AND body <> ''
		ORDER BY conv_id, seq LIMIT ?`, cur.conv, cur.seq, active, limit)
	if err != nil {
		return 0, false, s.internal("reseal", err)
	}
	evs, err := collect(rows, func(r Row) (sealedEvent, error) {
		var e sealedEvent
		return e, r.Scan(&e.conv, &e.seq, &e.keyID, &e.body)
	})
	if err != nil {
		return 0, false, s.internal("reseal", err)
	}
	if len(evs) == 0 {
		return 0, false, nil
	}
	var ad []byte
	changed, err := rewrite(ctx, s, evs, func(t *txn, e sealedEvent) (int64, error) {
		plain, err := OpenBody(s.keys, &ad, e.conv, e.seq, e.keyID, e.body)
		if err != nil {
			return 0, err
		}
		keyID, body, err := SealBody(s.keys, &ad, e.conv, e.seq, plain)
		if err != nil {
			return 0, err
		}
		return t.exec(ctx, `UPDATE events SET body = ?, key_id = ?
			WHERE conv_id = ? AND seq = ? AND key_id = ? AND body = ?`,
			body, keyID, e.conv, e.seq, e.keyID, e.body)
	})
	if err != nil {
		return 0, false, err
	}
	last := evs[len(evs)-1]
	cur.conv, cur.seq = last.conv, last.seq
	return changed, len(evs) == limit, nil
}

// resealEscalations rewrites the snapshots of the next batch of
// escalations, reporting whether there may be more.
func (s *Store) resealEscalations(ctx context.Context, cur *ResealCursor, limit int) (int, bool, error) {
	rows, err := s.reads().query(ctx, `SELECT id, key_id, evidence, message, context FROM escalations
		WHERE id > ? AND key_id <> ? ORDER BY id LIMIT ?`, cur.id, s.keys.Active(), limit)
	if err != nil {
		return 0, false, s.internal("reseal", err)
	}
	type esc struct {
		id string
		j  escJSON
	}
	es, err := collect(rows, func(r Row) (esc, error) {
		var e esc
		return e, r.Scan(&e.id, &e.j.keyID, &e.j.evid, &e.j.msg, &e.j.ctx)
	})
	if err != nil {
		return 0, false, s.internal("reseal", err)
	}
	if len(es) == 0 {
		return 0, false, nil
	}
	changed, err := rewrite(ctx, s, es, func(t *txn, e esc) (int64, error) {
		j := e.j
		if err := j.open(s.keys, e.id); err != nil {
			return 0, err
		}
		j, err := j.seal(s.keys, e.id)
		if err != nil {
			return 0, err
		}
		return t.exec(ctx, `UPDATE escalations SET evidence = ?, message = ?, context = ?, key_id = ?
			WHERE id = ? AND key_id = ? AND evidence = ? AND message = ? AND context = ?`,
			j.evid, j.msg, j.ctx, j.keyID, e.id, e.j.keyID, e.j.evid, e.j.msg, e.j.ctx)
	})
	if err != nil {
		return 0, false, err
	}
	cur.id = es[len(es)-1].id
	return changed, len(es) == limit, nil
}

// rewrite runs update for each of items in one write transaction and
// returns how many rows the updates changed.
func rewrite[T any](ctx context.Context, s *Store, items []T, update func(t *txn, it T) (int64, error)) (int, error) {
	changed := 0
	err := s.inTx(ctx, "reseal", func(t *txn) error {
		changed = 0
		for _, it := range items {
			n, err := update(t, it)
			if err != nil {
				return err
			}
			changed += int(n)
		}
		return nil
	})
	return changed, err
}

// ResealAll runs Reseal passes of batch rows until every row is sealed
// with the active key, or ctx ends. It waits pause between batches (so a
// server keeps most of its database time for its users) and calls
// progress, when not nil, with the rows rewritten so far after each
// batch. It returns how many rows it rewrote.
func (s *Store) ResealAll(ctx context.Context, batch int, pause time.Duration, progress func(rows int64)) (int64, error) {
	var (
		cur   ResealCursor
		total int64
		timer *time.Timer
	)
	for !cur.Done() {
		next, n, err := s.Reseal(ctx, cur, batch)
		total += int64(n)
		if err != nil {
			return total, err
		}
		cur = next
		if progress != nil {
			progress(total)
		}
		if pause <= 0 || cur.Done() {
			continue
		}
		if timer == nil {
			timer = time.NewTimer(pause)
			defer timer.Stop()
		} else {
			timer.Reset(pause)
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-timer.C:
		}
	}
	return total, nil
}

// CheckKeys makes sure the store can read what it holds: every key id
// rows are sealed with is in the ring, and one row of each opens with
// it (so a key given under the right id with the wrong bytes is found
// too). Servers call it at start-up, so that a wrong key stops them
// there instead of failing reads later. The error names key ids only.
func (s *Store) CheckKeys(ctx context.Context) error {
	counts, err := s.KeyCounts(ctx)
	if err != nil {
		return err
	}
	for _, c := range counts {
		if c.KeyID == "" {
			continue
		}
		if !s.keys.Has(c.KeyID) {
			return fmt.Errorf("%d rows of %s are sealed with key %q, which is not among the configured encryption keys", c.Rows, c.Table, c.KeyID)
		}
		if err := s.openSample(ctx, c.Table, c.KeyID); err != nil {
			return fmt.Errorf("a row of %s sealed with key %q does not open with the configured key of that id (wrong key?): %w", c.Table, c.KeyID, err)
		}
	}
	return nil
}

// openSample opens one row of table sealed with key keyID.
func (s *Store) openSample(ctx context.Context, table, keyID string) error {
	if table == "events" {
		var e sealedEvent
		err := s.reads().queryRow(ctx, `SELECT conv_id, seq, body FROM events WHERE key_id = ? AND body <> '' LIMIT 1`, keyID).
			Scan(&e.conv, &e.seq, &e.body)
		if err != nil {
			return err
		}
		_, err = s.keys.Open(keyID, e.body, EventAD(nil, e.conv, e.seq))
		return err
	}
	var id string
	j := escJSON{keyID: keyID}
	err := s.reads().queryRow(ctx, `SELECT id, evidence, message, context FROM escalations WHERE key_id = ? LIMIT 1`, keyID).
		Scan(&id, &j.evid, &j.msg, &j.ctx)
	if err != nil {
		return err
	}
	return j.open(s.keys, id)
}
