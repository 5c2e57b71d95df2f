package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"

	"github.com/kindred-health/kindred/chat/store/sqlstore"
)

// Append's memory of memberships and sequence numbers.
//
// Under load each message of a batch lands in a conversation of its own,
// and looking up the sender's membership and the conversation's last_seq
// cost Append a fifth of its time. This store is the only writer of its
// file's events, so last_seq is known after each commit; memberships change
// only through writes, which either go through this Store (Join, Leave,
// kicks, bans, erasure: all sqlstore's, on the write connection) or come
// from another process on the file. Append trusts what it remembers only
// when it can tell that neither happened since it learnt it:
//
//   - sqlstore's writes go through writeDB, which counts them (writeGen);
//   - another connection's commits change PRAGMA data_version, read in
//     Append's own transaction.
//
// Any such write forgets everything, as does a failed Append. The answer
// used is the one the database would give at Append's transaction: a
// membership revoked before it is never taken for a current one.
type writeCache struct {
	mu sync.Mutex // held through an Append (they take turns anyway)

	gen, dataVersion int64 // what the entries are valid for
	members          map[memberKey]struct{}
	lastSeq          map[string]int64 // as committed
}

type memberKey struct{ conv, user string }

// cacheMax bounds the entries: past it Append starts over (the rooms
// workload has 19,000 memberships).
const cacheMax = 1 << 18

// writeGen counts sqlstore's writes on the write connection. A write in a
// transaction counts before its commit, while it still holds the one
// connection: an Append after it sees the count, one before it saw the
// database without it. A write outside a transaction commits as it runs,
// and counts after: inflight is raised for its whole run, and Append
// trusts nothing while it is.
type writeGen struct {
	gen, inflight atomic.Int64
}

// begin returns the cache for an Append whose transaction is tx, or nil
// when it cannot be trusted for this one (a write outside a transaction is
// in flight). The caller holds c.mu.
func (c *writeCache) begin(ctx context.Context, tx *sql.Tx, dv *sql.Stmt, g *writeGen) (*writeCache, error) {
	// inflight first: a write that ends between the two reads has
	// counted in gen by then.
	inflight := g.inflight.Load()
	gen := g.gen.Load()
	var version int64
	if err := tx.StmtContext(ctx, dv).QueryRowContext(ctx).Scan(&version); err != nil {
		return nil, err
	}
	if inflight != 0 {
		c.reset()
		return nil, nil
	}
	if c.members == nil || gen != c.gen || version != c.dataVersion || len(c.members) > cacheMax {
		c.members = make(map[memberKey]struct{}, len(c.members))
		c.lastSeq = make(map[string]int64, len(c.lastSeq))
		c.gen, c.dataVersion = gen, version
	}
	return c, nil
}

// reset forgets everything. The caller holds c.mu.
func (c *writeCache) reset() { c.members, c.lastSeq = nil, nil }

// lookup reports whether user is known to be a member of conv, and conv's
// last_seq.
func (c *writeCache) lookup(conv, user string) (last int64, ok bool) {
	if _, ok := c.members[memberKey{conv, user}]; !ok {
		return 0, false
	}
	last, ok = c.lastSeq[conv]
	return last, ok
}

// writeDB is the write connection as sqlstore sees it: every write it
// makes is counted in g.
type writeDB struct {
	sqlstore.SQLDB
	g *writeGen
}

func (d writeDB) Begin(ctx context.Context) (sqlstore.Tx, error) {
	tx, err := d.SQLDB.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return countedTx{tx, d.g}, nil
}

func (d writeDB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	d.g.inflight.Add(1)
	defer d.g.done()
	return d.SQLDB.Exec(ctx, query, args...)
}

// QueryRow runs a write with RETURNING: it commits when its row is read.
func (d writeDB) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	d.g.inflight.Add(1)
	return countedRow{d.SQLDB.QueryRow(ctx, query, args...), d.g}
}

func (d writeDB) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	d.g.inflight.Add(1)
	rows, err := d.SQLDB.Query(ctx, query, args...)
	if err != nil {
		d.g.done()
		return nil, err
	}
	return &countedRows{Rows: rows, g: d.g}, nil
}

// done counts a write outside a transaction once it has ended.
func (g *writeGen) done() {
	g.gen.Add(1)
	g.inflight.Add(-1)
}

type countedTx struct {
	sqlstore.Tx
	g *writeGen
}

func (t countedTx) Commit(ctx context.Context) error {
	t.g.gen.Add(1)
	return t.Tx.Commit(ctx)
}

type countedRow struct {
	sqlstore.Row
	g *writeGen
}

func (r countedRow) Scan(dest ...any) error {
	defer r.g.done()
	return r.Row.Scan(dest...)
}

type countedRows struct {
	sqlstore.Rows
	g    *writeGen
	once sync.Once
}

func (r *countedRows) Close() {
	r.Rows.Close()
	r.once.Do(r.g.done)
}
