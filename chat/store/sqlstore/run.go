package sqlstore

import (
	"context"

	"github.com/kindred-health/kindred/chat/store/sealer"
)

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// runner runs queries in one place: the read pool (reads) or a write
// transaction (txn). Methods take query texts as this package writes them
// (see Expand). queryBuilt is for texts built at run time, which it
// expands on every call and never caches.
type runner interface {
	query(ctx context.Context, q string, args ...any) (Rows, error)
	queryRow(ctx context.Context, q string, args ...any) Row
	queryBuilt(ctx context.Context, q string, args ...any) (Rows, error)
	// keys opens what the rows read hold sealed.
	keys() *sealer.Ring
}

// reads runs queries on the read pool, through prepared statements when
// the Store prepares reads.
type reads struct{ s *Store }

func (r reads) query(ctx context.Context, q string, args ...any) (Rows, error) {
	c, err := r.s.prepared(ctx, q, r.s.prepareReads)
	if err != nil {
		return nil, err
	}
	if c.stmt != nil {
		return c.stmt.Query(ctx, args...)
	}
	return r.s.r.Query(ctx, c.text, args...)
}

func (r reads) queryRow(ctx context.Context, q string, args ...any) Row {
	c, err := r.s.prepared(ctx, q, r.s.prepareReads)
	if err != nil {
		return errRow{err}
	}
	if c.stmt != nil {
		return c.stmt.QueryRow(ctx, args...)
	}
	return r.s.r.QueryRow(ctx, c.text, args...)
}

func (r reads) keys() *sealer.Ring { return r.s.keys }

func (r reads) queryBuilt(ctx context.Context, q string, args ...any) (Rows, error) {
	return r.s.r.Query(ctx, Expand(r.s.d, q), args...)
}

// txn is a write transaction (see Store.inTx).
type txn struct {
	s  *Store
	tx Tx
}

func (t *txn) query(ctx context.Context, q string, args ...any) (Rows, error) {
	return t.tx.Query(ctx, t.s.text(q), args...)
}

func (t *txn) queryRow(ctx context.Context, q string, args ...any) Row {
	return t.tx.QueryRow(ctx, t.s.text(q), args...)
}

func (t *txn) keys() *sealer.Ring { return t.s.keys }

func (t *txn) queryBuilt(ctx context.Context, q string, args ...any) (Rows, error) {
	return t.tx.Query(ctx, Expand(t.s.d, q), args...)
}

// exec runs a write and returns how many rows it changed.
func (t *txn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	return t.tx.Exec(ctx, t.s.text(q), args...)
}

func (t *txn) execBuilt(ctx context.Context, q string, args ...any) (int64, error) {
	return t.tx.Exec(ctx, Expand(t.s.d, q), args...)
}

// reads returns the runner of the read pool.
func (s *Store) reads() reads { return reads{s} }

// exec runs one write outside a transaction (it is one by itself) and
// returns how many rows it changed.
func (s *Store) exec(ctx context.Context, q string, args ...any) (int64, error) {
	return s.w.Exec(ctx, s.text(q), args...)
}

// collect scans every row with scan, closing rows; out is never nil.
func collect[T any](rows Rows, scan func(Row) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
