package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kindred-health/kindred/chat"
)

// Block records that blocker blocks blocked (migration 0014).
func (s *Store) Block(ctx context.Context, blocker, blocked string) error {
	if blocker == "" || !s.d.StoresText(blocker) || blocker == blocked {
		return chat.Errorf(chat.CodeInvalidField, "choose someone else to block")
	}
	if !s.d.StoresText(blocked) {
		return chat.ErrNotFound
	}
	// The blocked user's row is what makes them known; a block of
	// someone unknown inserts nothing and is told apart below.
	n, err := s.exec(ctx, `INSERT INTO blocks (blocker, blocked, created_at)
		SELECT ?, id, {now} FROM users WHERE id = ?
		ON CONFLICT DO NOTHING`, blocker, blocked)
	if err != nil {
		return s.internal("block", err)
	}
	if n == 0 {
		if _, err := s.User(ctx, blocked); err != nil {
			return err // unknown: not_found
		}
	}
	return nil
}

// Unblock lifts blocker's block of blocked.
func (s *Store) Unblock(ctx context.Context, blocker, blocked string) (bool, error) {
	if !s.d.StoresText(blocker) || !s.d.StoresText(blocked) {
		return false, nil
	}
	n, err := s.exec(ctx, `DELETE FROM blocks WHERE blocker = ? AND blocked = ?`, blocker, blocked)
	if err != nil {
		return false, s.internal("unblock", err)
	}
	return n > 0, nil
}

// Blocks lists whom blocker blocks, oldest first.
func (s *Store) Blocks(ctx context.Context, blocker string) ([]chat.Block, error) {
	if !s.d.StoresText(blocker) {
		return []chat.Block{}, nil
	}
	rows, err := s.reads().query(ctx, `SELECT b.blocked, COALESCE(u.name, ''), COALESCE(u.role, ''), b.created_at
		FROM blocks b LEFT JOIN users u ON u.id = b.blocked
		WHERE b.blocker = ? ORDER BY b.created_at, b.blocked`, blocker)
	if err != nil {
		return nil, s.internal("blocks", err)
	}
	out, err := collect(rows, func(r Row) (chat.Block, error) {
		var b chat.Block
		var since int64
		err := r.Scan(&b.User, &b.Name, &b.Role, &since)
		b.Since = FromNanos(since)
		return b, err
	})
	if err != nil {
		return nil, s.internal("blocks", err)
	}
	return out, nil
}

// BlockedBy lists who blocks user.
func (s *Store) BlockedBy(ctx context.Context, user string) ([]string, error) {
	if !s.d.StoresText(user) {
		return []string{}, nil
	}
	rows, err := s.reads().query(ctx, `SELECT blocker FROM blocks WHERE blocked = ? ORDER BY blocker`, user)
	if err != nil {
		return nil, s.internal("blocked by", err)
	}
	out, err := collect(rows, func(r Row) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
	if err != nil {
		return nil, s.internal("blocked by", err)
	}
	return out, nil
}

// Blocking reports the blocks between a and b, each way.
func (s *Store) Blocking(ctx context.Context, a, b string) (aBlocksB, bBlocksA bool, err error) {
	if !s.d.StoresText(a) || !s.d.StoresText(b) {
		return false, false, nil
	}
	err = s.reads().queryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM blocks WHERE blocker = ? AND blocked = ?),
			EXISTS (SELECT 1 FROM blocks WHERE blocker = ? AND blocked = ?)`, a, b, b, a).Scan(&aBlocksB, &bBlocksA)
	if err != nil {
		return false, false, s.internal("blocking", err)
	}
	return aBlocksB, bBlocksA, nil
}

// ShareRoom reports whether a and b are members of a common room.
func (s *Store) ShareRoom(ctx context.Context, a, b string) (bool, error) {
	if !s.d.StoresText(a) || !s.d.StoresText(b) {
		return false, nil
	}
	var shared bool
	err := s.reads().queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM members x
			JOIN members y ON y.conv_id = x.conv_id AND y.user_id = ?
			JOIN conversations c ON c.id = x.conv_id AND c.kind = 'room'
			WHERE x.user_id = ?)`, b, a).Scan(&shared)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, s.internal("share room", err)
	}
	return shared, nil
}
