// Package sqlstore is the SQL that the SQLite and PostgreSQL stores share:
// users, conversations, memberships and room policies (chat.Store, all but
// Append), the reads of the event log (History, EventsAfter), and the whole
// escalation.Store (escalations, the on-call rota and the webhook outbox),
// and webpush.Store (browsers' push subscriptions, deployment settings).
// It is written once, against a small driver interface (DB: database/sql
// through SQLDB for SQLite, pgx directly for PostgreSQL) and a Dialect that
// answers, each in one place, the questions on which the engines differ.
//
// Queries are written with "?" for parameters and a few tokens, which
// Expand turns into the dialect's form once per query text:
//
//	{now}   the current time in unix nanoseconds (Dialect.Now)
//	{ord}   the insertion-order column (Dialect.RowOrder)
//	{lock}  lock the selected rows until the transaction ends (LockRows)
//	{skip}  the same, passing over rows another transaction holds
//
// What the engines do too differently to share stays in their packages:
// Append (the write path, tuned for each engine), migrations, opening,
// pinging and closing. Each store embeds a *Store, so the methods here are
// its own.
package sqlstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sealer"
)

// Dialect is what the shared queries need to know about one SQL engine.
//
// Contract: every method is safe for concurrent use, and all but LockJoins
// are pure: cheap, no I/O, and the same answer for the life of the store
// (query texts built from them are cached). The schema is the same on
// every engine (tables, columns, constraints, as each store's migrations
// create them) except where a method here names the difference. The
// engine must support ON CONFLICT upserts and INSERT ... RETURNING, and
// its DB must report "no rows" as an error matching sql.ErrNoRows.
type Dialect interface {
	// Name is the engine's name, which prefixes internal errors
	// ("sqlite", "postgres").
	Name() string
	// Placeholder returns the marker of the n-th parameter of a query,
	// counting from 1: "?" or "$n".
	Placeholder(n int) string
	// Now is an SQL expression without parameters for the current time
	// in unix nanoseconds, read from the clock every node agrees on.
	Now() string
	// RowOrder is the column that orders rows of conversations, members
	// and escalation_webhooks as they were inserted, for ties of their
	// timestamps ("rowid", or a column the migrations add).
	RowOrder() string
	// LockRows is the clause, with its leading space, that, ending a
	// SELECT in a write transaction, keeps the selected rows from other
	// writers until the transaction ends; with skipLocked it passes over
	// rows another transaction holds instead of waiting for them. It is
	// "" where a write transaction already excludes every other writer.
	LockRows(skipLocked bool) string
	// LockJoins makes concurrent Joins of userID take turns from this
	// point of tx until it ends, so that the room limit counted in tx
	// still holds at commit. It does nothing where a write transaction
	// already excludes every other writer.
	LockJoins(ctx context.Context, tx Tx, userID string) error
	// StoresText reports whether a text column can hold s. Writes refuse
	// what it cannot hold with chat.CodeInvalidField rather than failing
	// like an outage; lookups treat it as naming nothing.
	StoresText(s string) bool
	// DMKey identifies the pair {a, b} whatever the order (neither is
	// empty nor holds a NUL). It is stored, so it must never change.
	DMKey(a, b string) string
}

// Config is what New needs.
type Config struct {
	Dialect Dialect
	// Read serves reads outside transactions, Write the writes and
	// every transaction. They may be one pool.
	Read, Write DB
	// PrepareReads keeps every static read query prepared on Read,
	// which must then be a Preparer: for drivers that would otherwise
	// parse it on every call (modernc.org/sqlite). pgx caches prepared
	// statements by itself.
	PrepareReads bool
	// Keys seal message bodies and escalation snapshots as they are
	// written, and open them as they are read; nil stores them as they
	// are (and opens only rows stored so). See package sealer.
	Keys *sealer.Ring
}

// Store implements chat.Store, except Append, Ping and Close, and through
// Escalations the escalation.Store, on a database with the stores' schema.
// It is safe for concurrent use.
type Store struct {
	d            Dialect
	r, w         DB
	prepareReads bool
	keys         *sealer.Ring
	auditKey     []byte // see SetAuditKey

	mu      sync.Mutex // held while adding to queries
	queries sync.Map   // query text as written -> *query
}

// query is one static query text in the dialect's form.
type query struct {
	text string
	stmt Stmt // prepared on the read pool, with PrepareReads
}

// New returns a Store on cfg's pools. It prepares statements lazily; the
// caller keeps ownership of the pools and closes them after Close.
func New(cfg Config) *Store {
	return &Store{d: cfg.Dialect, r: cfg.Read, w: cfg.Write, prepareReads: cfg.PrepareReads, keys: cfg.Keys}
}

// Keys returns the key ring the store seals and opens text with (nil:
// none), for the stores' Append.
func (s *Store) Keys() *sealer.Ring { return s.keys }

// Close closes the statements the Store prepared (with PrepareReads), not
// the pools.
func (s *Store) Close() error {
	var errs []error
	s.queries.Range(func(_, v any) bool {
		if st := v.(*query).stmt; st != nil {
			errs = append(errs, st.Close())
		}
		return true
	})
	return errors.Join(errs...)
}

// Expand turns a query written as this package writes them (see the
// package comment) into d's form.
func Expand(d Dialect, q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '?':
			n++
			b.WriteString(d.Placeholder(n))
		case c == '{':
			end := strings.IndexByte(q[i:], '}')
			if end < 0 {
				panic("sqlstore: unterminated token in " + q)
			}
			b.WriteString(expandToken(d, q[i+1:i+end]))
			i += end
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func expandToken(d Dialect, tok string) string {
	switch tok {
	case "now":
		return d.Now()
	case "ord":
		return d.RowOrder()
	case "lock":
		return d.LockRows(false)
	case "skip":
		return d.LockRows(true)
	}
	panic("sqlstore: unknown token {" + tok + "}")
}

// prepared returns static query q in the dialect's form, expanding it on
// first use and, when prepare is set, preparing it on the read pool.
// Queries built at run time go through Expand instead: they would fill
// the cache. Cached entries are never changed, only replaced.
func (s *Store) prepared(ctx context.Context, q string, prepare bool) (*query, error) {
	if v, ok := s.queries.Load(q); ok {
		if c := v.(*query); !prepare || c.stmt != nil {
			return c, nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &query{}
	if v, ok := s.queries.Load(q); ok {
		c = v.(*query)
	} else {
		c.text = Expand(s.d, q)
	}
	if prepare && c.stmt == nil {
		st, err := s.r.(Preparer).Prepare(ctx, c.text)
		if err != nil {
			return nil, err
		}
		c = &query{text: c.text, stmt: st}
	}
	s.queries.Store(q, c)
	return c, nil
}

// text returns static query q in the dialect's form.
func (s *Store) text(q string) string {
	c, _ := s.prepared(context.Background(), q, false) // cannot fail without preparing
	return c.text
}

// internal wraps a failure of the database itself. Callers treat such
// errors as retryable; the text is for logs, never for clients.
func (s *Store) internal(op string, err error) error {
	return fmt.Errorf("%s: %s: %w", s.d.Name(), op, err)
}

// inTx runs fn in a write transaction and commits it. Errors fn returns
// as *chat.Error pass through unchanged (after a rollback); any other
// failure is wrapped as internal.
func (s *Store) inTx(ctx context.Context, op string, fn func(t *txn) error) error {
	tx, err := s.w.Begin(ctx)
	if err != nil {
		return s.internal(op, err)
	}
	if err := fn(&txn{s: s, tx: tx}); err != nil {
		_ = tx.Rollback(ctx) // the failure that caused it is what matters
		if _, ok := errors.AsType[*chat.Error](err); ok {
			return err
		}
		return s.internal(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return s.internal(op, err)
	}
	return nil
}

// FromNanos turns a stored time back into a UTC time.Time.
func FromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// Storable reports whether every engine can store s in a text column:
// PostgreSQL refuses NUL characters and invalid UTF-8, which SQLite
// accepts. It is the rule of the escalation store on every engine, and of
// the chat store on PostgreSQL (see Dialect.StoresText).
func Storable(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// ErrInvalidText is the refusal of a value that Storable rejects; what
// names the value.
func ErrInvalidText(what string) *chat.Error {
	return chat.Errorf(chat.CodeInvalidField, "%s contains a NUL character or invalid UTF-8", what)
}

// newID returns prefix followed by 12 random base32 characters (60 bits):
// short enough for URLs and logs, and unguessable enough that IDs do not
// reveal how many conversations exist.
func newID(prefix string) string {
	return prefix + strings.ToLower(rand.Text()[:12])
}
