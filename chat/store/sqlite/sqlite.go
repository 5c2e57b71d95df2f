// Package sqlite implements chat.Store on an embedded SQLite database, the
// default for single-node deployments. It uses modernc.org/sqlite, a pure Go
// translation of SQLite, so the server still builds without cgo.
//
// Layout: one database file in WAL mode, opened through two pools. Every
// write goes through a pool of exactly one connection, so writers queue in
// Go (cheaply, honouring contexts) instead of fighting over SQLite's lock,
// and Append can number events from conversations.last_seq without gaps.
// Reads use a separate pool of read-only connections which, thanks to WAL,
// never wait for the writer and always see the last committed state.
//
// Durability: every commit is fsynced (synchronous=FULL) before Append
// returns, so an acknowledged message survives a power cut and its sequence
// number is never handed out twice.
//
// What SQLite and PostgreSQL do alike (users, conversations, memberships,
// reading the event log, escalations) is package sqlstore, with this
// package's dialect; Append, migrations and the connections are here.
//
// The schema lives in migrations/*.sql, embedded in the binary and applied
// in order by Open.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sealer"
	"github.com/kindred-health/kindred/chat/store/sqlstore"
)

var _ chat.Store = (*Store)(nil)

// EscalationStore is the escalation.Store of a Store (see Escalations): the
// same file and connections, so escalations, the rota and the webhook
// outbox live next to the conversations they are about. Writes go through
// the single write connection like every other write; reads use the read
// pool.
type EscalationStore = sqlstore.EscalationStore

// busyTimeout is how long a connection waits for a lock held by another
// connection (another process on the same file, or a checkpoint) before
// failing with SQLITE_BUSY. Within this process writes never contend for
// the lock: they are serialized by the single write connection.
const busyTimeout = 5 * time.Second

// writeCacheKiB is the write connection's page cache. Pages are held only
// once used, so a small node never fills it. (Scattered appends, 200
// messages across 200 of 2,000 rooms, BenchmarkAppendScattered: CPU per
// message 213 µs with the default 2 MiB, 157 µs with 64 MiB.)
const writeCacheKiB = 64 << 10

// Store is a chat.Store backed by one SQLite database file. It is safe for
// concurrent use.
type Store struct {
	*sqlstore.Store // everything but Append, Ping and Close

	w *sql.DB // exactly one connection: every write goes through it
	r *sql.DB // read-only pool

	ws writeStmts // Append's, on w

	ck *checkpointer // WAL checkpoints, on a connection of its own

	// Append's memory of memberships and last_seq, and the count of
	// other writes that invalidates it (cache.go).
	cache writeCache
	wgen  writeGen

	// migrated is how many migrations this Open applied (tests check that a
	// reopen applies none).
	migrated int

	// afterApply, tests only, is called after Append has applied item i
	// of its batch, before the commit.
	afterApply func(i int)

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the database at path, brings its schema up
// to date and returns a Store ready for use. path is a file name; it is
// turned into an absolute SQLite URI, so it may contain any character.
// In-memory databases are not supported: the read pool and the write
// connection must share one file.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return open(ctx, path, o)
}

// Option configures Open.
type Option func(*options)

type options struct {
	keys *sealer.Ring
	upto int // tests only: migrate up to this version (0: all)
	// Tests only: the checkpointer's period and WAL bound (0: the
	// defaults, checkpointEvery and walMaxFrames).
	checkpointEvery time.Duration
	walMaxFrames    int
}

// WithKeys seals message bodies and escalation snapshots with keys' active
// key, and opens rows sealed with any of its keys (see package sealer).
func WithKeys(keys *sealer.Ring) Option {
	return func(o *options) { o.keys = keys }
}

// open is Open with its options.
func open(ctx context.Context, path string, o options) (*Store, error) {
	upto := o.upto
	if path == "" || path == ":memory:" {
		return nil, errors.New("sqlite: a database file path is required")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}

	if err := private(abs); err != nil {
		return nil, err
	}
	s := &Store{}
	s.w, err = sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	// One connection, kept forever: it serializes writers and keeps the
	// prepared statements warm.
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)

	// Migrate through the write connection before any reader opens, so
	// the file is in WAL mode and has its schema by the time they do.
	if s.migrated, err = migrate(ctx, s.w, upto); err != nil {
		s.w.Close()
		return nil, err
	}
	// SQLite creates -wal and -shm with the main file's mode; files an
	// older version left readable by others are made private here.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Chmod(abs+suffix, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.w.Close()
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}

	s.ck, err = startCheckpointer(abs, s.w, cmp.Or(o.checkpointEvery, checkpointEvery), cmp.Or(o.walMaxFrames, walMaxFrames))
	if err != nil {
		s.w.Close()
		return nil, err
	}
	s.r, err = sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		s.ck.stop()
		s.w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	s.r.SetConnMaxIdleTime(5 * time.Minute)
	// modernc parses a query on every call it was not prepared for.
	s.Store = sqlstore.New(sqlstore.Config{Dialect: dialect{},
		Read: sqlstore.NewSQLDB(s.r), Write: writeDB{sqlstore.NewSQLDB(s.w), &s.wgen}, PrepareReads: true, Keys: o.keys})

	// A store held at an older version (tests of migrations seed it
	// with plain SQL) cannot prepare statements naming later columns.
	if upto > 0 {
		return s, nil
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// private creates the database file at abs if it does not exist, with
// mode 0600 whatever the umask, and makes an existing one 0600: it holds
// conversations. SQLite gives the -wal and -shm files it creates the
// same mode.
func private(abs string) error {
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("sqlite: %w", err)
	}
	return f.Close()
}

// dsn builds the modernc.org/sqlite data source name for the file at abs.
//
// The "file:" URI form lets the path hold '?', '#' or '%' (they are
// escaped; SQLite decodes them), while the driver still reads its own
// underscore parameters from the query. Each _pragma value runs as
// "PRAGMA <value>" on every new connection, busy_timeout first.
func dsn(abs string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	// Text that is deleted or overwritten (edits, deletions, erasure)
	// is overwritten with zeros in the page, so it does not linger in
	// the database file's free space. Old page images in the -wal file
	// last until a checkpoint resets it (see docs/security.md).
	q.Add("_pragma", "secure_delete(1)")
	if readOnly {
		// A guard, not a permission: nothing on the read pool should
		// ever write.
		q.Add("_pragma", "query_only(1)")
	} else {
		// WAL lets readers run while the writer commits, and makes a
		// commit a sequential append to the -wal file. journal_mode is
		// persistent, so setting it on the writer is enough.
		q.Add("_pragma", "journal_mode(WAL)")
		// In WAL mode synchronous=NORMAL only fsyncs at checkpoints: a
		// committed transaction can be lost on power failure. Append
		// acknowledges messages after commit, and a lost commit would
		// also let the next writer reuse its sequence numbers for other
		// messages, breaking loss-free resume. FULL fsyncs the WAL at
		// every commit; batching (many messages per Append) pays for it.
		q.Add("_pragma", "synchronous(FULL)")
		// Take the write lock at BEGIN rather than at the first write:
		// with another process on the same file a deferred transaction
		// that read first could fail with SQLITE_BUSY mid-way instead
		// of waiting for busy_timeout.
		q.Set("_txlock", "immediate")
		// The store's checkpointer moves the WAL into the database
		// file, off the commit path (checkpoint.go).
		q.Add("_pragma", "wal_autocheckpoint(0)")
		// The pages a busy node writes to (the newest of each
		// conversation's events and of their indexes, memberships,
		// conversations) stay in memory: with SQLite's default of 2 MiB
		// every commit read most of them back from the file first.
		q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -writeCacheKiB))
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	if u.Path != "" && u.Path[0] != '/' {
		u.Path = "/" + u.Path // Windows drive letters: file:///C:/...
	}
	return u.String()
}

// Ping reports whether the store can serve reads and get the write
// connection (waiting, within ctx, for a write in progress).
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close closes the statements and connections. The last connection to
// close checkpoints the WAL into the main file. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		errs = append(errs, s.ws.close())
		if s.ck != nil {
			// Before the last connection closes: that one
			// checkpoints what is left and removes the WAL.
			errs = append(errs, s.ck.stop())
		}
		if s.Store != nil {
			errs = append(errs, s.Store.Close())
		}
		if s.r != nil {
			errs = append(errs, s.r.Close())
		}
		if s.w != nil {
			// Keep the planner's statistics fresh; cheap when
			// nothing changed. Best effort: failing to optimize is
			// no reason to report a failed Close.
			_, _ = s.w.Exec("PRAGMA optimize")
			errs = append(errs, s.w.Close())
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return s.closeErr
}

// now returns the current time as stored: unix nanoseconds.
func now() int64 { return time.Now().UnixNano() }

// fromNanos turns a stored time back into a UTC time.Time.
var fromNanos = sqlstore.FromNanos

// internal wraps an unexpected failure. Callers treat such errors as
// retryable internal errors; the text is for logs, never for clients.
func internal(op string, err error) error {
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// rollback ends a transaction that did not commit. Its error is dropped:
// the caller already returns the failure that caused the rollback.
func rollback(tx *sql.Tx) { _ = tx.Rollback() }
