package main

import (
	"context"
	"strconv"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sealer"
	"github.com/kindred-health/kindred/chat/store/sqlite"
)

// sqliteLog is the embedded default's store, as the server opens it.
type sqliteLog struct {
	s    *sqlite.Store
	path string
}

func openSQLite(ctx context.Context, path string, keys *sealer.Ring) (*sqliteLog, error) {
	s, err := sqlite.Open(ctx, path, sqlite.WithKeys(keys))
	if err != nil {
		return nil, err
	}
	return &sqliteLog{s: s, path: path}, nil
}

func (l *sqliteLog) seed(ctx context.Context, w *workload) error {
	w.ids = make([]string, w.rooms)
	w.users = make([][]string, w.rooms)
	for r := range w.ids {
		c, err := l.s.CreateRoom(ctx, chat.Conversation{Name: "room " + strconv.Itoa(r), CreatedBy: user(r, 0)})
		if err != nil {
			return err
		}
		w.ids[r] = c.ID
		w.users[r] = []string{user(r, 0)}
		for m := 1; m < w.members; m++ {
			if err := l.s.Join(ctx, c.ID, user(r, m), 0); err != nil {
				return err
			}
			w.users[r] = append(w.users[r], user(r, m))
		}
	}
	for h := range w.history {
		if err := l.s.Append(ctx, w.historyBatch(h)); err != nil {
			return err
		}
	}
	// Checkpoint on the store's write connection, as the benchmark this
	// mirrors does: a checkpoint that resets the WAL from another
	// connection changes the file's data_version, and the store would then
	// rightly forget the memberships it remembers, which a node under
	// steady load has known for long.
	return l.drain(ctx)
}

func (l *sqliteLog) append(ctx context.Context, items []chat.AppendItem) error {
	return l.s.Append(ctx, items)
}

// drain runs the checkpoint the store's checkpointer would run next,
// truncating the WAL. The checkpointer's own PASSIVE run blocks it while
// it reads, so it is tried again for up to a second; it fails rather
// than skips.
func (l *sqliteLog) drain(ctx context.Context) error {
	var err error
	for range 20 {
		if err = l.s.Checkpoint(ctx); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

func (l *sqliteLog) close() error { return l.s.Close() }
