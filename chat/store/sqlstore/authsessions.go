package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// Browser sessions, refresh tokens and emailed sign-in links (migration
// 0022): see chat.Accounts. Secrets arrive hashed.

const authSessionCols = `id, user_id, created_at, expires_at, last_used_at, revoked_at`

func scanAuthSession(r Row) (chat.AuthSession, error) {
	var a chat.AuthSession
	var created, expires, used, revoked int64
	err := r.Scan(&a.ID, &a.User, &created, &expires, &used, &revoked)
	a.CreatedAt, a.ExpiresAt, a.LastUsed = FromNanos(created), FromNanos(expires), FromNanos(used)
	a.Revoked = revoked != 0
	return a, err
}

// CreateAuthSession stores session a and its first refresh token.
func (s *Store) CreateAuthSession(ctx context.Context, a chat.AuthSession, tokenHash string) error {
	for _, v := range []string{a.ID, a.User, tokenHash} {
		if v == "" || !s.d.StoresText(v) {
			return chat.Errorf(chat.CodeInvalidField, "a session needs an id, a user and a token")
		}
	}
	return s.inTx(ctx, "create auth session", func(t *txn) error {
		_, err := t.exec(ctx, `INSERT INTO auth_sessions (id, user_id, created_at, expires_at, last_used_at)
			VALUES (?, ?, ?, ?, ?)`, a.ID, a.User, a.CreatedAt.UnixNano(), a.ExpiresAt.UnixNano(), a.CreatedAt.UnixNano())
		if err != nil {
			return err
		}
		_, err = t.exec(ctx, `INSERT INTO refresh_tokens (hash, session_id, issued_at) VALUES (?, ?, ?)`,
			tokenHash, a.ID, a.CreatedAt.UnixNano())
		return err
	})
}

// RotateRefresh exchanges token old for next (see chat.Accounts). The
// token's row is read locked, so concurrent rotations take turns.
func (s *Store) RotateRefresh(ctx context.Context, old, next string, now time.Time, reuse time.Duration) (chat.AuthSession, error) {
	if !s.d.StoresText(old) || !s.d.StoresText(next) || old == "" || next == "" {
		return chat.AuthSession{}, chat.ErrRefreshInvalid
	}
	var out chat.AuthSession
	var reused bool
	err := s.inTx(ctx, "rotate refresh token", func(t *txn) error {
		var sid, status string
		var used int64
		err := t.queryRow(ctx, `SELECT session_id, used_at FROM refresh_tokens WHERE hash = ?{lock}`, old).Scan(&sid, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return chat.ErrRefreshInvalid
		}
		if err != nil {
			return err
		}
		out, err = scanAuthSession(t.queryRow(ctx, `SELECT `+authSessionCols+` FROM auth_sessions WHERE id = ?{lock}`, sid))
		if err != nil {
			return err
		}
		err = t.queryRow(ctx, `SELECT status FROM users WHERE id = ?`, out.User).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return chat.ErrRefreshInvalid
		}
		switch {
		case err != nil:
			return err
		case status != string(chat.StatusActive):
			return chat.ErrDeactivated // its sessions were revoked too: say why
		case out.Revoked, !now.Before(out.ExpiresAt):
			return chat.ErrRefreshInvalid
		case used != 0 && now.Sub(FromNanos(used)) >= reuse:
			reused = true
			_, err = t.exec(ctx, `UPDATE auth_sessions SET revoked_at = ?, revoke_reason = 'reuse' WHERE id = ?`,
				now.UnixNano(), out.ID)
			return err
		}
		if used == 0 {
			if _, err = t.exec(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE hash = ?`, now.UnixNano(), old); err != nil {
				return err
			}
		}
		if _, err = t.exec(ctx, `INSERT INTO refresh_tokens (hash, session_id, issued_at) VALUES (?, ?, ?)`,
			next, out.ID, now.UnixNano()); err != nil {
			return err
		}
		out.LastUsed = now.UTC()
		_, err = t.exec(ctx, `UPDATE auth_sessions SET last_used_at = ? WHERE id = ?`, now.UnixNano(), out.ID)
		return err
	})
	if err != nil {
		return chat.AuthSession{}, err
	}
	if reused {
		return chat.AuthSession{}, chat.ErrRefreshReused
	}
	return out, nil
}

// RevokeAuthSession ends the session of the token with tokenHash.
func (s *Store) RevokeAuthSession(ctx context.Context, tokenHash, reason string) (string, error) {
	if !s.d.StoresText(tokenHash) || !s.d.StoresText(reason) {
		return "", nil
	}
	var user string
	err := s.inTx(ctx, "revoke auth session", func(t *txn) error {
		err := t.queryRow(ctx, `SELECT s.user_id FROM refresh_tokens r JOIN auth_sessions s ON s.id = r.session_id
			WHERE r.hash = ?`, tokenHash).Scan(&user)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = t.exec(ctx, `UPDATE auth_sessions SET revoked_at = {now}, revoke_reason = ?
			WHERE id = (SELECT session_id FROM refresh_tokens WHERE hash = ?) AND revoked_at = 0`, reason, tokenHash)
		return err
	})
	if err != nil {
		return "", err
	}
	return user, nil
}

// RevokeAuthSessions ends every session of user.
func (s *Store) RevokeAuthSessions(ctx context.Context, user, reason string) (int, error) {
	if !s.d.StoresText(user) || !s.d.StoresText(reason) {
		return 0, nil
	}
	n, err := s.exec(ctx, `UPDATE auth_sessions SET revoked_at = {now}, revoke_reason = ?
		WHERE user_id = ? AND revoked_at = 0`, reason, user)
	if err != nil {
		return 0, s.internal("revoke auth sessions", err)
	}
	return int(n), nil
}

// AuthSessions lists user's sessions in force, newest first.
func (s *Store) AuthSessions(ctx context.Context, user string) ([]chat.AuthSession, error) {
	if !s.d.StoresText(user) {
		return []chat.AuthSession{}, nil
	}
	rows, err := s.reads().query(ctx, `SELECT `+authSessionCols+` FROM auth_sessions
		WHERE user_id = ? AND revoked_at = 0 AND expires_at > {now} ORDER BY created_at DESC, id`, user)
	if err != nil {
		return nil, s.internal("auth sessions", err)
	}
	out, err := collect(rows, scanAuthSession)
	if err != nil {
		return nil, s.internal("auth sessions", err)
	}
	if out == nil {
		out = []chat.AuthSession{}
	}
	return out, nil
}

// CreateSignInLink stores link l.
func (s *Store) CreateSignInLink(ctx context.Context, l chat.SignInLink) error {
	for _, v := range []string{l.Hash, l.Email, l.Invite} {
		if !s.d.StoresText(v) {
			return ErrInvalidText("the sign-in link")
		}
	}
	if l.Hash == "" || l.Email == "" {
		return chat.Errorf(chat.CodeInvalidField, "a sign-in link needs a hash and an email")
	}
	_, err := s.exec(ctx, `INSERT INTO signin_links (hash, email, invite, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		l.Hash, l.Email, l.Invite, l.CreatedAt.UnixNano(), l.ExpiresAt.UnixNano())
	if err != nil {
		return s.internal("create sign-in link", err)
	}
	return nil
}

// CountSignInLinks counts the links made for email since since.
func (s *Store) CountSignInLinks(ctx context.Context, email string, since time.Time) (int, error) {
	if !s.d.StoresText(email) {
		return 0, nil
	}
	var n int
	err := s.reads().queryRow(ctx, `SELECT COUNT(*) FROM signin_links WHERE email = ? AND created_at >= ?`,
		email, since.UnixNano()).Scan(&n)
	if err != nil {
		return 0, s.internal("count sign-in links", err)
	}
	return n, nil
}

// UseSignInLink marks the link used (see chat.Accounts).
func (s *Store) UseSignInLink(ctx context.Context, hash string, now time.Time) (chat.SignInLink, error) {
	if hash == "" || !s.d.StoresText(hash) {
		return chat.SignInLink{}, chat.ErrNotFound
	}
	var l chat.SignInLink
	err := s.inTx(ctx, "use sign-in link", func(t *txn) error {
		var created, expires, used int64
		err := t.queryRow(ctx, `SELECT hash, email, invite, created_at, expires_at, used_at FROM signin_links
			WHERE hash = ?{lock}`, hash).Scan(&l.Hash, &l.Email, &l.Invite, &created, &expires, &used)
		l.CreatedAt, l.ExpiresAt = FromNanos(created), FromNanos(expires)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return chat.ErrNotFound
		case err != nil:
			return err
		case used != 0:
			return chat.ErrLinkUsed
		case !now.Before(l.ExpiresAt):
			return chat.ErrLinkExpired
		}
		_, err = t.exec(ctx, `UPDATE signin_links SET used_at = ? WHERE hash = ?`, now.UnixNano(), hash)
		return err
	})
	if err != nil {
		return chat.SignInLink{}, err
	}
	return l, nil
}
