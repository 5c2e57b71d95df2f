package postgres

import (
	"context"
	"strconv"

	"github.com/kindred-health/kindred/chat/store/sqlstore"
)

// dialect is PostgreSQL's sqlstore.Dialect. Writers on several nodes run
// at once, so what must not interleave is locked: rows (FOR UPDATE) or,
// for what has no row yet, a transaction-scoped advisory lock.
type dialect struct{}

var _ sqlstore.Dialect = dialect{}

func (dialect) Name() string             { return "postgres" }
func (dialect) Placeholder(n int) string { return "$" + strconv.Itoa(n) }
func (dialect) Now() string              { return sqlNow }
func (dialect) RowOrder() string         { return "ord" } // see 0001_init.sql: there is no rowid
func (dialect) StoresText(s string) bool { return sqlstore.Storable(s) }

func (dialect) LockRows(skipLocked bool) string {
	if skipLocked {
		return " FOR UPDATE SKIP LOCKED"
	}
	return " FOR UPDATE"
}

// LockJoins takes the advisory lock of the user's Joins. READ COMMITTED
// gives every later statement of tx a snapshot that includes the Joins
// that held the lock before.
func (dialect) LockJoins(ctx context.Context, tx sqlstore.Tx, userID string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockJoin, userID)
	return err
}

// DMKey prefixes the sorted pair with the first ID's length, which is as
// unambiguous as SQLite's NUL separator, which PostgreSQL text cannot hold.
func (dialect) DMKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return strconv.Itoa(len(a)) + ":" + a + ":" + b
}
