package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"time"

	"github.com/kindred-health/kindred/chat"
)

const reportCols = `r.id, r.conv_id, r.seq, r.reported, r.reporter, COALESCE(u.name, ''), r.category, r.reason,
	r.status, r.outcome, r.note, r.resolved_by, r.created_at, r.resolved_at
	FROM reports r LEFT JOIN users u ON u.id = r.reporter`

func scanReport(row Row) (chat.Report, error) {
	var r chat.Report
	var created, resolved int64
	err := row.Scan(&r.ID, &r.Conv, &r.Seq, &r.User, &r.Reporter, &r.ReporterName, &r.Category, &r.Reason,
		&r.Status, &r.Outcome, &r.Note, &r.ResolvedBy, &created, &resolved)
	r.CreatedAt = FromNanos(created)
	if resolved != 0 {
		at := FromNanos(resolved)
		r.ResolvedAt = &at
	}
	return r, err
}

// CreateReport stores a new open report in room r.Conv.
func (s *Store) CreateReport(ctx context.Context, r chat.Report) (chat.Report, error) {
	switch {
	case !s.d.StoresText(r.Conv):
		return chat.Report{}, chat.ErrNotFound
	case !r.Category.Valid():
		return chat.Report{}, chat.Errorf(chat.CodeInvalidField, "unknown report category")
	case r.User == "" || r.Reporter == "" || r.Seq < 0:
		return chat.Report{}, chat.Errorf(chat.CodeInvalidField, "a report needs the reported user, the reporter and a seq of 0 or more")
	case !s.d.StoresText(r.User) || !s.d.StoresText(r.Reporter) || !s.d.StoresText(r.Reason):
		return chat.Report{}, ErrInvalidText("report")
	}
	id, now := newID("rp_"), time.Now().UnixNano()
	var out chat.Report
	err := s.inTx(ctx, "create report", func(t *txn) error {
		var kind string
		err := t.queryRow(ctx, `SELECT kind FROM conversations WHERE id = ?`, r.Conv).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && kind != string(chat.KindRoom)) {
			return chat.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = t.exec(ctx, `INSERT INTO reports (id, conv_id, seq, reported, reporter, category, reason, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)`, id, r.Conv, r.Seq, r.User, r.Reporter, string(r.Category), r.Reason, now)
		if err == nil {
			out, err = s.reportIn(ctx, t, id)
		}
		return err
	})
	if err != nil {
		return chat.Report{}, err
	}
	return out, nil
}

// Report returns report id.
func (s *Store) Report(ctx context.Context, id string) (chat.Report, error) {
	return s.reportIn(ctx, s.reads(), id)
}

func (s *Store) reportIn(ctx context.Context, q runner, id string) (chat.Report, error) {
	if !s.d.StoresText(id) {
		return chat.Report{}, errNoReport
	}
	r, err := scanReport(q.queryRow(ctx, `SELECT `+reportCols+` WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Report{}, errNoReport
	}
	if err != nil {
		return chat.Report{}, s.internal("report", err)
	}
	return r, nil
}

var errNoReport = chat.Errorf(chat.CodeNotFound, "no such report")

// Reports lists the reports f selects, newest first.
func (s *Store) Reports(ctx context.Context, f chat.ReportFilter) ([]chat.Report, error) {
	beforeAt := int64(math.MaxInt64)
	if !f.BeforeAt.IsZero() {
		beforeAt = f.BeforeAt.UnixNano()
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	if !s.d.StoresText(f.Conv) || !s.d.StoresText(string(f.Status)) || !s.d.StoresText(f.NotAbout) || !s.d.StoresText(f.BeforeID) {
		return []chat.Report{}, nil
	}
	rows, err := s.reads().query(ctx, `SELECT `+reportCols+`
		WHERE (? = '' OR r.conv_id = ?) AND (? = '' OR r.status = ?) AND (? = '' OR r.reported <> ?)
			AND (r.created_at < ? OR (r.created_at = ? AND r.id < ?))
		ORDER BY r.created_at DESC, r.id DESC LIMIT ?`,
		f.Conv, f.Conv, string(f.Status), string(f.Status), f.NotAbout, f.NotAbout,
		beforeAt, beforeAt, f.BeforeID, limit)
	if err != nil {
		return nil, s.internal("reports", err)
	}
	out, err := collect(rows, scanReport)
	if err != nil {
		return nil, s.internal("reports", err)
	}
	return out, nil
}

// ResolveReport resolves open report id, in one statement, so that of
// concurrent resolves exactly one changes the row.
func (s *Store) ResolveReport(ctx context.Context, id, by string, outcome chat.ReportOutcome, note string) (chat.Report, error) {
	if !outcome.Valid() {
		return chat.Report{}, chat.Errorf(chat.CodeInvalidField, "unknown outcome")
	}
	if !s.d.StoresText(id) {
		return chat.Report{}, errNoReport
	}
	if by == "" || !s.d.StoresText(by) || !s.d.StoresText(note) {
		return chat.Report{}, ErrInvalidText("resolution")
	}
	var r chat.Report
	err := s.inTx(ctx, "resolve report", func(t *txn) error {
		n, err := t.exec(ctx, `UPDATE reports SET status = 'resolved', outcome = ?, note = ?, resolved_by = ?, resolved_at = {now}
			WHERE id = ? AND status = 'open'`, string(outcome), note, by, id)
		if err != nil {
			return err
		}
		if r, err = s.reportIn(ctx, t, id); err == nil && n == 0 {
			err = chat.Errorf(chat.CodeConflict, "this report is already resolved")
		}
		return err
	})
	if err != nil {
		return chat.Report{}, err
	}
	return r, nil
}
