// Package postgres implements chat.Store on PostgreSQL, the store for
// scale-out deployments where several nodes share one database. It uses
// pgx's connection pool (pgxpool) and PostgreSQL 12 or later (tested on 15).
// It needs a session-level connection (direct, or a pooler in session mode):
// WithSchema sets search_path when connections start.
//
// Concurrency across nodes: every node appends to the same conversations, so
// sequence numbers cannot come from a single in-process writer as in the
// SQLite store. Append instead locks the conversations a batch touches
// (SELECT ... FOR NO KEY UPDATE, in id order so that two batches never wait
// for each other in a cycle), numbers the batch's events from
// conversations.last_seq and bumps it in the same transaction. The row lock
// serialises writers of one conversation, on any node, and nothing else:
// batches for different conversations commit in parallel. A rolled-back
// batch leaves last_seq untouched, so numbering has no gaps.
//
// Round trips: Append costs two, whatever the batch size (measured by
// TestAppendRoundTrips). The first pipelines BEGIN, the locks and every read
// the batch needs (memberships, earlier copies of its client ids, the
// messages its edits target); the second pipelines all the writes, the
// inserts as one statement over arrays, and COMMIT. See Append. pgx prepares
// each statement once per connection (one more round trip the first time),
// and pgxpool pings a connection that sat idle for a second before handing
// it out.
//
// Times are unix nanoseconds read from PostgreSQL's clock, so the nodes
// agree on them, and within a conversation they never go backwards as
// sequence numbers go up (the clock is read after the conversation lock is
// taken). They are returned in UTC.
//
// Errors: refusals a client may see are *chat.Error values, exactly as the
// chat.Store contract lists them. Anything that goes wrong with PostgreSQL
// itself (unreachable, failover, timeouts) comes back as a plain error, which
// callers treat as retryable.
//
// What PostgreSQL and SQLite do alike (users, conversations, memberships,
// reading the event log, escalations) is package sqlstore, with this
// package's dialect, on the same pool (see pgxDB); Append and migrations
// are here.
//
// The schema lives in migrations/*.sql, embedded in the binary and applied by
// Open under an advisory lock, so that nodes starting together apply each
// migration exactly once. WithSchema keeps the tables in a schema of their
// own. Pool settings come from the URL (pool_max_conns, pool_min_conns, ...:
// see pgxpool.ParseConfig).
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sealer"
	"github.com/kindred-health/kindred/chat/store/sqlstore"
)

var _ chat.Store = (*Store)(nil)

// EscalationStore is the escalation.Store of a Store (see Escalations): the
// same pool and schema, shared by every node, which is what lets any
// node's engine take over an escalation whose node died.
type EscalationStore = sqlstore.EscalationStore

// Store is a chat.Store backed by PostgreSQL. It is safe for concurrent use,
// and any number of Stores (in one process or on many nodes) may share one
// database schema.
type Store struct {
	*sqlstore.Store // everything but Append, Ping and Close

	pool   *pgxpool.Pool
	schema string // "" when the URL's search_path decides

	// migrated is how many migrations this Open applied (tests check that
	// racing Opens apply each exactly once).
	migrated int
}

// Option configures Open.
type Option func(*options)

type options struct {
	schema   string
	poolHook func(*pgxpool.Config) // tests only: observe connections
	upto     int                   // tests only: migrate up to this version (0: all)
	keys     *sealer.Ring
}

// WithKeys seals message bodies and escalation snapshots with keys' active
// key, and opens rows sealed with any of its keys (see package sealer).
// Every node sharing the database needs every key still in use.
func WithKeys(keys *sealer.Ring) Option {
	return func(o *options) { o.keys = keys }
}

// WithSchema keeps the store's tables in schema name: Open creates the
// schema if it does not exist and sets search_path to it on every pooled
// connection. Several stores (tests, or tenants) can so share one database.
func WithSchema(name string) Option {
	return func(o *options) { o.schema = name }
}

// Open connects to the database at url (a postgres:// URL or a keyword/value
// string; see pgxpool.ParseConfig), brings the schema up to date and returns
// a Store ready for use. It fails, with a plain error, when PostgreSQL does
// not answer within ctx.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts passwords from parse errors only on a best-effort
		// basis, and a malformed URL is exactly where it may fail; the
		// text would end up in logs.
		return nil, errors.New("postgres: cannot parse the connection URL (details withheld: it may hold a password)")
	}
	rp := cfg.ConnConfig.RuntimeParams
	if o.schema != "" {
		if !storable(o.schema) {
			return nil, errors.New("postgres: invalid schema name")
		}
		// A startup parameter rather than a SET in AfterConnect: every
		// connection the pool ever opens gets it, without a round trip.
		// search_path takes a quoted identifier.
		rp["search_path"] = pgx.Identifier{o.schema}.Sanitize()
	}
	if _, ok := rp["application_name"]; !ok {
		// Names our sessions in pg_stat_activity, so an operator can
		// tell whose connection holds a lock.
		rp["application_name"] = "kindred"
	}
	if o.poolHook != nil {
		o.poolHook(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, internal("open", err)
	}
	s := &Store{pool: pool, schema: o.schema}
	if s.migrated, err = s.migrate(ctx, o.upto); err != nil {
		pool.Close()
		return nil, err
	}
	db := pgxDB{pgxQuerier{pool}, pool}
	s.Store = sqlstore.New(sqlstore.Config{Dialect: dialect{}, Read: db, Write: db, Keys: o.keys})
	return s, nil
}

// Ping reports whether PostgreSQL answers on a pooled connection.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return internal("ping", err)
	}
	return nil
}

// Close waits for connections in use to be released and closes them all.
// It is idempotent.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// sqlNow is PostgreSQL's current time in unix nanoseconds (microsecond
// resolution). clock_timestamp, not now(): now() is the transaction's start,
// which for Append is before the conversation lock was granted, and would
// let a later sequence number carry an earlier time.
const sqlNow = `((extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000)`

// fromNanos turns a stored time back into a UTC time.Time.
var fromNanos = sqlstore.FromNanos

// internal wraps a failure of the database itself. Callers treat such
// errors as retryable; the text is for logs, never for clients.
func internal(op string, err error) error {
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// storable reports whether s can be stored in a text column. PostgreSQL
// refuses NUL characters and invalid UTF-8 (which SQLite accepts); sending
// one would fail the whole statement, and for Append the whole batch, with
// an error that looks like an outage. Writes refuse such values with
// CodeInvalidField instead (sqlstore.ErrInvalidText); lookups treat them
// as naming nothing.
var storable = sqlstore.Storable

// inTx runs fn in a transaction and commits it. Errors fn returns as
// *chat.Error pass through unchanged (after a rollback); any other failure
// is wrapped as internal.
func (s *Store) inTx(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, fn)
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*chat.Error](err); ok {
		return err
	}
	return internal(op, err)
}
