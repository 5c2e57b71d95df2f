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

const sqlInsertAudit = `INSERT INTO audit_log (at, actor, action, room, target, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`

func auditArgs(e chat.AuditEntry) []any {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	return []any{e.At.UnixNano(), auditText(e.Actor, maxAuditField), auditText(e.Action, maxAuditField),
		auditText(e.Room, maxAuditField), auditText(e.Target, maxAuditField),
		auditText(e.Reason, maxAuditReason), auditText(e.Detail, maxAuditReason)}
}

// AppendAudit adds e to the audit log.
func (s *Store) AppendAudit(ctx context.Context, e chat.AuditEntry) error {
	if _, err := s.exec(ctx, sqlInsertAudit, auditArgs(e)...); err != nil {
		return s.internal("append audit", err)
	}
	return nil
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
	room, actor := auditText(f.Room, maxAuditField), auditText(f.Actor, maxAuditField)
	rows, err := s.reads().query(ctx, `SELECT id, at, actor, action, room, target, reason, detail FROM audit_log
		WHERE (? = '' OR room = ?) AND (? = '' OR actor = ?) AND at >= ? AND at < ? AND id < ?
		ORDER BY id DESC LIMIT ?`,
		room, room, actor, actor, nanosOrZero(f.Since), until, before, limit)
	if err != nil {
		return nil, s.internal("audit", err)
	}
	out, err := collect(rows, func(r Row) (e chat.AuditEntry, err error) {
		var at int64
		err = r.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Room, &e.Target, &e.Reason, &e.Detail)
		e.At = FromNanos(at)
		return e, err
	})
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
