package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kindred-health/kindred/chat"
)

// Pin pins message seq of room conv for by. The room's row is locked
// first (Append takes the same lock before it deletes or hides a message),
// so a message is never pinned after it was deleted, and concurrent pins
// never pass max.
func (s *Store) Pin(ctx context.Context, conv string, seq int64, by string, max int) (bool, error) {
	if !s.d.StoresText(conv) || !s.d.StoresText(by) {
		return false, chat.ErrNotFound
	}
	pinned := false
	err := s.inTx(ctx, "pin", func(t *txn) error {
		var kind string
		err := t.queryRow(ctx, `SELECT kind FROM conversations WHERE id = ?{lock}`, conv).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && kind != string(chat.KindRoom)) {
			return chat.ErrNotFound
		}
		if err != nil {
			return err
		}
		var deleted, already bool
		var count int
		err = t.queryRow(ctx, `SELECT e.deleted,
				EXISTS (SELECT 1 FROM pins p WHERE p.conv_id = e.conv_id AND p.seq = e.seq),
				(SELECT count(*) FROM pins p WHERE p.conv_id = e.conv_id)
			FROM events e WHERE e.conv_id = ? AND e.seq = ? AND e.kind = 'message'`, conv, seq).Scan(&deleted, &already, &count)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return chat.Errorf(chat.CodeNotFound, "no message %d in this room", seq)
		case err != nil:
			return err
		case deleted:
			return chat.Errorf(chat.CodeConflict, "a deleted or hidden message cannot be pinned")
		case already:
			return nil
		case count >= max:
			return chat.Errorf(chat.CodeConflict, "a room has at most %d pinned messages; unpin one first", max)
		}
		pinned = true
		_, err = t.exec(ctx, `INSERT INTO pins (conv_id, seq, pinned_by, pinned_at) VALUES (?, ?, ?, {now})`, conv, seq, by)
		return err
	})
	if err != nil {
		return false, err
	}
	return pinned, nil
}

// Unpin removes the pin of message seq of conv, if any.
func (s *Store) Unpin(ctx context.Context, conv string, seq int64) (bool, error) {
	if !s.d.StoresText(conv) {
		return false, nil
	}
	n, err := s.exec(ctx, `DELETE FROM pins WHERE conv_id = ? AND seq = ?`, conv, seq)
	if err != nil {
		return false, s.internal("unpin", err)
	}
	return n > 0, nil
}

// Pins lists room conv's pins, newest first.
func (s *Store) Pins(ctx context.Context, conv string) ([]chat.Pin, error) {
	if !s.d.StoresText(conv) {
		return []chat.Pin{}, nil
	}
	rows, err := s.reads().query(ctx, `SELECT seq, pinned_by, pinned_at FROM pins
		WHERE conv_id = ? ORDER BY pinned_at DESC, seq DESC`, conv)
	if err != nil {
		return nil, s.internal("pins", err)
	}
	out, err := collect(rows, func(r Row) (chat.Pin, error) {
		var p chat.Pin
		var at int64
		err := r.Scan(&p.Seq, &p.By, &at)
		p.At = FromNanos(at)
		return p, err
	})
	if err != nil {
		return nil, s.internal("pins", err)
	}
	return out, nil
}
