package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"
)

// WAL checkpoints, off the commit path.
//
// A commit appends the pages it changed to the -wal file; a checkpoint
// copies the newest version of each into the database file. SQLite's
// default runs one inside the commit that takes the WAL past 1,000 pages:
// under the rooms workload, where a batch of 200 messages touches some 600
// pages in 200 conversations, that was every other commit, on the
// committer's time, and copied nearly every page version once. The write
// connection runs with wal_autocheckpoint=0 instead, and the store's
// checkpointer does it on a connection of its own:
//
//   - every checkpointEvery, a PASSIVE checkpoint, which never blocks the
//     writer or readers. A page changed by many commits in between is
//     copied once.
//   - when the WAL holds walMaxFrames pages or more, a RESTART checkpoint
//     right after, on the write connection: it takes its turn among the
//     commits (on a connection of its own it would wait for a gap between
//     them, which a busy committer never leaves), waits for readers of
//     older pages, copies the few pages committed since the PASSIVE one,
//     and makes the next commit write from the start of the file again.
//     Without it the WAL would only ever grow under continuous writes: a
//     PASSIVE checkpoint lets the writer start over only if no commit came
//     while it ran. The file is reused, not truncated: growing it again
//     costs every commit's fsync a journal update of the file system.
//
// So the WAL stays under about walMaxFrames pages plus what a checkpoint
// period adds (docs/security.md: old page images live there until then;
// Store.Checkpoint, after a purge or an erasure, still truncates it).
const (
	checkpointEvery = time.Second
	walMaxFrames    = 16384 // 64 MiB of 4 KiB pages
)

// checkpointer owns the goroutine that checkpoints; Store.Close stops it
// before closing the connections.
type checkpointer struct {
	db        *sql.DB // one connection of its own
	w         *sql.DB // the write connection, for RESTART
	every     time.Duration
	maxFrames int
	cancel    context.CancelFunc
	done      chan struct{}

	// runs counts the checkpoints tried, for tests. One that fails is
	// tried again at the next tick: the WAL holds every commit meanwhile.
	runs atomic.Int64
}

// startCheckpointer opens the checkpoint connection on the file at abs and
// starts its goroutine.
func startCheckpointer(abs string, w *sql.DB, every time.Duration, maxFrames int) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, w: w, every: every, maxFrames: maxFrames, cancel: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = c.once(ctx)
			c.runs.Add(1)
		}
	}
}

// once runs a PASSIVE checkpoint, and a RESTART one when the WAL is past
// its bound.
func (c *checkpointer) once(ctx context.Context) error {
	frames, err := c.checkpoint(ctx, c.db, "PASSIVE")
	if err != nil || frames < c.maxFrames {
		return err
	}
	_, err = c.checkpoint(ctx, c.w, "RESTART")
	return err
}

// checkpoint runs one checkpoint of mode and returns how many frames the
// WAL held (-1 when SQLite could not tell). A checkpoint that found the
// writer or a reader in its way (busy) is not an error: the next one
// carries on.
func (c *checkpointer) checkpoint(ctx context.Context, db *sql.DB, mode string) (frames int, err error) {
	var busy, copied int
	if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied); err != nil {
		return 0, fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return frames, nil
}

// stop ends the goroutine (interrupting a checkpoint in progress) and
// closes the connection.
func (c *checkpointer) stop() error {
	c.cancel()
	<-c.done
	return c.db.Close()
}
