package main

import (
	"context"
	"database/sql"
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
	// Let the store's own checkpointer (every second) copy the history
	// out of the WAL. Not drain: a commit or checkpoint from another
	// connection changes the file's data_version, and the store then
	// rightly forgets the memberships it remembers, which a node under
	// steady load would have known for long.
	time.Sleep(3 * time.Second)
	return nil
}

func (l *sqliteLog) append(ctx context.Context, items []chat.AppendItem) error {
	return l.s.Append(ctx, items)
}

// drain runs the checkpoint that the store's checkpointer would run next,
// from a connection of its own (the store keeps its own unexported).
func (l *sqliteLog) drain(ctx context.Context) error {
	db, err := sql.Open("sqlite", "file:"+l.path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

func (l *sqliteLog) close() error { return l.s.Close() }
