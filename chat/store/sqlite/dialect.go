package sqlite

import (
	"context"
	"database/sql/driver"

	msqlite "modernc.org/sqlite" // also registers the "sqlite" database/sql driver

	"github.com/kindred-health/kindred/chat/store/sqlstore"
)

// dialect is SQLite's sqlstore.Dialect. Every write goes through the one
// write connection and transactions begin IMMEDIATE (see dsn), so a write
// transaction excludes every other writer, in this process or another:
// nothing needs locking row by row.
type dialect struct{}

var _ sqlstore.Dialect = dialect{}

func (dialect) Name() string                                         { return "sqlite" }
func (dialect) Placeholder(int) string                               { return "?" }
func (dialect) Now() string                                          { return "kindred_now_ns()" }
func (dialect) RowOrder() string                                     { return "rowid" }
func (dialect) LockRows(bool) string                                 { return "" }
func (dialect) StoresText(string) bool                               { return true } // any Go string: TEXT holds NUL and invalid UTF-8
func (dialect) LockJoins(context.Context, sqlstore.Tx, string) error { return nil }

// DMKey joins the sorted IDs with a NUL, which cannot occur in an ID
// (OpenDM refuses it), so the key is unambiguous.
func (dialect) DMKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + "\x00" + b
}

// SQLite has no clock with nanoseconds; this Go one is what Now names.
// It is registered before any connection opens, so every connection has it.
func init() {
	msqlite.MustRegisterScalarFunction("kindred_now_ns", 0,
		func(*msqlite.FunctionContext, []driver.Value) (driver.Value, error) { return now(), nil })
}
