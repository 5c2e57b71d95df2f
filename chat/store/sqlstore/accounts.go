package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// The people directory (migration 0022): see chat.Accounts.

const accountCols = `id, name, role, email, source, status, created_at, last_sign_in_at`

func scanAccount(r Row) (chat.Account, error) {
	var a chat.Account
	var source, status string
	var created, signedIn int64
	err := r.Scan(&a.ID, &a.Name, &a.Role, &a.Email, &source, &status, &created, &signedIn)
	a.Source, a.Status = chat.AccountSource(source), chat.AccountStatus(status)
	a.CreatedAt = FromNanos(created)
	if signedIn != 0 {
		a.LastSignIn = FromNanos(signedIn)
	}
	return a, err
}

// Account returns one account.
func (s *Store) Account(ctx context.Context, id string) (chat.Account, error) {
	if !s.d.StoresText(id) {
		return chat.Account{}, chat.ErrNotFound
	}
	return s.oneAccount(ctx, `SELECT `+accountCols+` FROM users WHERE id = ?`, id)
}

// AccountByEmail returns the account with email (compared lower-cased).
func (s *Store) AccountByEmail(ctx context.Context, email string) (chat.Account, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || !s.d.StoresText(email) {
		return chat.Account{}, chat.ErrNotFound
	}
	return s.oneAccount(ctx, `SELECT `+accountCols+` FROM users WHERE email = ?`, email)
}

func (s *Store) oneAccount(ctx context.Context, q string, arg string) (chat.Account, error) {
	a, err := scanAccount(s.reads().queryRow(ctx, q, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Account{}, chat.ErrNotFound
	}
	if err != nil {
		return chat.Account{}, s.internal("account", err)
	}
	return a, nil
}

// SaveAccount creates or updates a.ID (see chat.Accounts).
func (s *Store) SaveAccount(ctx context.Context, a chat.Account, signedIn time.Time) (chat.Account, error) {
	a.Email = strings.ToLower(strings.TrimSpace(a.Email))
	if a.ID == "" {
		return chat.Account{}, chat.Errorf(chat.CodeInvalidField, "user id is empty")
	}
	for _, v := range []string{a.ID, a.Name, a.Role, a.Email, string(a.Source)} {
		if !s.d.StoresText(v) {
			return chat.Account{}, ErrInvalidText("the account's id, name, role, email or source")
		}
	}
	if a.Source == "" {
		a.Source = chat.SourceToken
	}
	var at int64
	if !signedIn.IsZero() {
		at = signedIn.UnixNano()
	}
	var out chat.Account
	err := s.inTx(ctx, "save account", func(t *txn) error {
		if a.Email != "" {
			var other string
			err := t.queryRow(ctx, `SELECT id FROM users WHERE email = ? AND id <> ?`, a.Email, a.ID).Scan(&other)
			if err == nil {
				return chat.Errorf(chat.CodeConflict, "another account has this email address")
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		_, err := t.exec(ctx, `INSERT INTO users (id, name, role, email, source, status, created_at, updated_at, last_sign_in_at)
			VALUES (?, ?, ?, ?, ?, 'active', {now}, {now}, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role,
				email = CASE WHEN excluded.email = '' THEN users.email ELSE excluded.email END,
				source = excluded.source, updated_at = excluded.updated_at,
				last_sign_in_at = CASE WHEN excluded.last_sign_in_at = 0 THEN users.last_sign_in_at
					ELSE excluded.last_sign_in_at END`,
			a.ID, a.Name, a.Role, a.Email, string(a.Source), at)
		if err != nil {
			return err
		}
		out, err = scanAccount(t.queryRow(ctx, `SELECT `+accountCols+` FROM users WHERE id = ?`, a.ID))
		return err
	})
	if err != nil {
		return chat.Account{}, err
	}
	return out, nil
}

// ListAccounts lists accounts by id (see chat.AccountQuery).
func (s *Store) ListAccounts(ctx context.Context, q chat.AccountQuery) ([]chat.Account, error) {
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > 200 {
		return nil, chat.Errorf(chat.CodeInvalidField, "limit must be 1 to 200")
	}
	if q.Status != "" && !q.Status.Valid() {
		return nil, chat.Errorf(chat.CodeInvalidField, "status must be active or deactivated")
	}
	for _, v := range []string{q.Search, q.Role, q.After} {
		if !s.d.StoresText(v) {
			return []chat.Account{}, nil
		}
	}
	pattern := "%" + likeEscaper.Replace(strings.ToLower(q.Search)) + "%"
	rows, err := s.reads().query(ctx, `SELECT `+accountCols+` FROM users
		WHERE (lower(id) LIKE ? ESCAPE '\' OR lower(name) LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\')
			AND (? = '' OR role = ?) AND (? = '' OR status = ?) AND id > ?
		ORDER BY id LIMIT ?`,
		pattern, pattern, pattern, q.Role, q.Role, string(q.Status), string(q.Status), q.After, q.Limit)
	if err != nil {
		return nil, s.internal("list accounts", err)
	}
	out, err := collect(rows, scanAccount)
	if err != nil {
		return nil, s.internal("list accounts", err)
	}
	if out == nil {
		out = []chat.Account{}
	}
	return out, nil
}

// likeEscaper escapes LIKE's wildcards (and the escape character).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// SetAccountRole sets an account's role.
func (s *Store) SetAccountRole(ctx context.Context, id, role string) error {
	if !s.d.StoresText(id) {
		return chat.ErrNotFound
	}
	if !s.d.StoresText(role) {
		return ErrInvalidText("the role")
	}
	n, err := s.exec(ctx, `UPDATE users SET role = ?, updated_at = {now} WHERE id = ?`, role, id)
	if err != nil {
		return s.internal("set account role", err)
	}
	if n == 0 {
		return chat.ErrNotFound
	}
	return nil
}

// SetAccountStatus sets an account's status; deactivating it also ends
// its browser sessions, in the same transaction.
func (s *Store) SetAccountStatus(ctx context.Context, id string, status chat.AccountStatus) error {
	if !status.Valid() {
		return chat.Errorf(chat.CodeInvalidField, "status must be active or deactivated")
	}
	if !s.d.StoresText(id) {
		return chat.ErrNotFound
	}
	return s.inTx(ctx, "set account status", func(t *txn) error {
		n, err := t.exec(ctx, `UPDATE users SET status = ?, updated_at = {now} WHERE id = ?`, string(status), id)
		if err != nil {
			return err
		}
		if n == 0 {
			return chat.ErrNotFound
		}
		if status == chat.StatusDeactivated {
			_, err = t.exec(ctx, `UPDATE auth_sessions SET revoked_at = {now}, revoke_reason = 'deactivated'
				WHERE user_id = ? AND revoked_at = 0`, id)
		}
		return err
	})
}

// Setting returns a deployment setting, "" when unset.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	if !s.d.StoresText(name) {
		return "", nil
	}
	var v string
	err := s.reads().queryRow(ctx, `SELECT value FROM deployment_settings WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", s.internal("setting", err)
	}
	return v, nil
}

// PutSetting sets a deployment setting.
func (s *Store) PutSetting(ctx context.Context, name, value string) error {
	if !s.d.StoresText(name) || !s.d.StoresText(value) {
		return ErrInvalidText("the setting")
	}
	_, err := s.exec(ctx, `INSERT INTO deployment_settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return s.internal("put setting", err)
	}
	return nil
}
