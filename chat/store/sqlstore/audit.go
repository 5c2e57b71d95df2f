package sqlstore

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// Audit log limits: an entry is never refused for its text, it is cut.
const (
	maxAuditField  = 200
	maxAuditReason = 2000
)

// auditText makes s storable on every engine (valid UTF-8, no NUL) and at
// most max bytes.
func auditText(s string, max int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "")
	}
	return s
}

const sqlInsertAudit = `INSERT INTO audit_log (at, actor, action, room, target, reason, detail, source, position, hash)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// auditStored is e as the store keeps it: the time set, the text repaired.
func auditStored(e chat.AuditEntry) chat.AuditEntry {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = FromNanos(e.At.UnixNano())
	for _, f := range []*string{&e.Actor, &e.Action, &e.Room, &e.Target, &e.Source} {
		*f = auditText(*f, maxAuditField)
	}
	e.Reason, e.Detail = auditText(e.Reason, maxAuditReason), auditText(e.Detail, maxAuditReason)
	return e
}

// SetAuditKey sets the key that chains the audit log (HMAC-SHA256); none:
// SHA-256, which anyone can recompute. Call it before the store is used.
func (s *Store) SetAuditKey(key []byte) { s.auditKey = key }

// AppendAudit adds es to the audit log, chained, in one transaction.
func (s *Store) AppendAudit(ctx context.Context, es ...chat.AuditEntry) error {
	if len(es) == 0 {
		return nil
	}
	return s.inTx(ctx, "append audit", func(t *txn) error { return appendAudit(ctx, t, es) })
}

// auditHead reads the chain's head in t, locking it until t ends: appends
// from every node take turns there (SQLite's write transactions take
// turns anyway).
func auditHead(ctx context.Context, t *txn) (head chat.AuditHead, legacy bool, err error) {
	var l int64
	err = t.queryRow(ctx, `SELECT position, hash, legacy FROM audit_head WHERE id = 1{lock}`).Scan(&head.Position, &head.Hash, &l)
	return head, l != 0, err
}

// appendAudit chains es after the head in t and moves the head.
func appendAudit(ctx context.Context, t *txn, es []chat.AuditEntry) error {
	head, legacy, err := auditHead(ctx, t)
	if err != nil {
		return err
	}
	if legacy {
		if head, err = chainLegacy(ctx, t, head); err != nil {
			return err
		}
	}
	for _, e := range es {
		e = auditStored(e)
		e.Position = head.Position + 1
		e.Hash = chat.AuditHash(t.s.auditKey, head.Hash, e)
		if _, err := t.exec(ctx, sqlInsertAudit, e.At.UnixNano(), e.Actor, e.Action, e.Room, e.Target,
			e.Reason, e.Detail, e.Source, e.Position, e.Hash); err != nil {
			return err
		}
		head = chat.AuditHead{Position: e.Position, Hash: e.Hash}
	}
	_, err = t.exec(ctx, `UPDATE audit_head SET position = ?, hash = ? WHERE id = 1`, head.Position, head.Hash)
	return err
}

// ChainLegacyAudit chains the entries written before the chain existed
// (migration 0021), in the order they were written, once: every node
// calls it at start, and the first one does it.
func (s *Store) ChainLegacyAudit(ctx context.Context) error {
	return s.inTx(ctx, "chain audit log", func(t *txn) error {
		head, legacy, err := auditHead(ctx, t)
		if err != nil || !legacy {
			return err
		}
		_, err = chainLegacy(ctx, t, head)
		return err
	})
}

// chainLegacy chains the unchained entries after head (which, the first
// time, is the empty chain) and clears the head's legacy mark.
func chainLegacy(ctx context.Context, t *txn, head chat.AuditHead) (chat.AuditHead, error) {
	rows, err := t.query(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE position = 0 ORDER BY id`)
	if err != nil {
		return head, err
	}
	old, err := collect(rows, scanAudit)
	if err != nil {
		return head, err
	}
	for _, e := range old {
		e.Position = head.Position + 1
		e.Hash = chat.AuditHash(t.s.auditKey, head.Hash, e)
		if _, err := t.exec(ctx, `UPDATE audit_log SET position = ?, hash = ? WHERE id = ?`, e.Position, e.Hash, e.ID); err != nil {
			return head, err
		}
		head = chat.AuditHead{Position: e.Position, Hash: e.Hash}
	}
	_, err = t.exec(ctx, `UPDATE audit_head SET position = ?, hash = ?, legacy = 0 WHERE id = 1`, head.Position, head.Hash)
	return head, err
}

const auditColumns = `id, position, hash, at, actor, action, room, target, reason, detail, source`

func scanAudit(r Row) (e chat.AuditEntry, err error) {
	var at int64
	err = r.Scan(&e.ID, &e.Position, &e.Hash, &at, &e.Actor, &e.Action, &e.Room, &e.Target, &e.Reason, &e.Detail, &e.Source)
	e.At = FromNanos(at)
	return e, err
}

// VerifyAudit walks the chain in position order, a page at a time.
func (s *Store) VerifyAudit(ctx context.Context, expect chat.AuditHead) (chat.AuditReport, error) {
	w := chat.NewAuditWalk(s.auditKey, expect)
	after := int64(0)
	for {
		rows, err := s.reads().query(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE position > ? ORDER BY position LIMIT 1000`, after)
		if err != nil {
			return chat.AuditReport{}, s.internal("verify audit", err)
		}
		page, err := collect(rows, scanAudit)
		if err != nil {
			return chat.AuditReport{}, s.internal("verify audit", err)
		}
		for _, e := range page {
			w.Add(e)
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].Position
	}
	var stored chat.AuditHead
	var unchained int64
	err := s.reads().queryRow(ctx, `SELECT h.position, h.hash, (SELECT count(*) FROM audit_log WHERE position = 0)
		FROM audit_head h WHERE h.id = 1`).Scan(&stored.Position, &stored.Hash, &unchained)
	if err != nil {
		return chat.AuditReport{}, s.internal("verify audit", err)
	}
	return w.Finish(stored, unchained), nil
}

// Audit lists the audit log as f selects it, newest first.
func (s *Store) Audit(ctx context.Context, f chat.AuditFilter) ([]chat.AuditEntry, error) {
	until, before := int64(math.MaxInt64), int64(math.MaxInt64)
	if !f.Until.IsZero() {
		until = f.Until.UnixNano()
	}
	if f.Before > 0 {
		before = f.Before
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	var where strings.Builder
	var args []any
	for _, c := range []struct{ col, v string }{{"room", f.Room}, {"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}, {"source", f.Source}} {
		if c.v != "" {
			where.WriteString(" AND " + c.col + " = ?")
			args = append(args, auditText(c.v, maxAuditField))
		}
	}
	args = append(args, nanosOrZero(f.Since), until, before, limit)
	rows, err := s.reads().queryBuilt(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE true`+where.String()+`
		AND at >= ? AND at < ? AND id < ? ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, s.internal("audit", err)
	}
	out, err := collect(rows, scanAudit)
	if err != nil {
		return nil, s.internal("audit", err)
	}
	return out, nil
}

func nanosOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
