package sqlite

import (
	"context"
	"errors"
)

// Checkpoint copies the write-ahead log into the database file and
// truncates it (PRAGMA wal_checkpoint(TRUNCATE)), so that text the purge
// or an erasure removed leaves the WAL as well as the tables. The server
// calls it after a purge and after an erasure.
func (s *Store) Checkpoint(ctx context.Context) error {
	var busy, logPages, done int
	if err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logPages, &done); err != nil {
		return internal("checkpoint", err)
	}
	if busy != 0 {
		return internal("checkpoint", errors.New("readers kept the write-ahead log from being truncated"))
	}
	return nil
}
