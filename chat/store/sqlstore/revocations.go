package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// Session revocations (migration 0018): see chat.Store.

// RevokeSessions bumps user's session generation.
func (s *Store) RevokeSessions(ctx context.Context, user string) (chat.Revocation, error) {
	if user == "" || !Storable(user) {
		return chat.Revocation{}, ErrInvalidText("user id")
	}
	var out chat.Revocation
	err := s.inTx(ctx, "revoke sessions", func(t *txn) error {
		// The upsert always writes the row, so it returns what it wrote.
		var at int64
		err := t.queryRow(ctx, `INSERT INTO session_revocations (user_id, generation, revoked_at) VALUES (?, 1, ?)
			ON CONFLICT (user_id) DO UPDATE SET generation = session_revocations.generation + 1,
			revoked_at = CASE WHEN excluded.revoked_at > session_revocations.revoked_at
				THEN excluded.revoked_at ELSE session_revocations.revoked_at END
			RETURNING generation, revoked_at`,
			user, time.Now().UnixNano()).Scan(&out.Generation, &at)
		out.User, out.At = user, FromNanos(at)
		return err
	})
	if err != nil {
		return chat.Revocation{}, err // inTx says what failed
	}
	return out, nil
}

// SessionRevocation returns user's latest revocation.
func (s *Store) SessionRevocation(ctx context.Context, user string) (chat.Revocation, error) {
	out := chat.Revocation{User: user}
	if !Storable(user) {
		return out, nil
	}
	var at int64
	err := s.reads().queryRow(ctx, `SELECT generation, revoked_at FROM session_revocations WHERE user_id = ?`, user).Scan(&out.Generation, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return chat.Revocation{}, s.internal("session revocation", err)
	}
	out.At = FromNanos(at)
	return out, nil
}
