package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/webpush"
)

// PutPushSubscription implements webpush.Store (migration 0017). The
// user's row is locked first, so that two subscriptions of one user at
// once cannot both stay under the cap.
func (s *Store) PutPushSubscription(ctx context.Context, sub webpush.Subscription, limit int) error {
	for _, v := range []string{sub.User, sub.Endpoint, sub.P256DH, sub.Auth} {
		if !s.d.StoresText(v) {
			return ErrInvalidText("the subscription")
		}
	}
	if sub.User == "" || limit < 1 {
		return chat.Errorf(chat.CodeInvalidField, "a subscription needs a user and room for one")
	}
	return s.inTx(ctx, "put push subscription", func(t *txn) error {
		var one int
		err := t.queryRow(ctx, `SELECT 1 FROM users WHERE id = ?{lock}`, sub.User).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return chat.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO push_subscriptions (endpoint, user_id, p256dh, auth, created_at)
			VALUES (?, ?, ?, ?, {now}) ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id,
			p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at`,
			sub.Endpoint, sub.User, sub.P256DH, sub.Auth); err != nil {
			return err
		}
		_, err = t.exec(ctx, `DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint NOT IN (
			SELECT endpoint FROM push_subscriptions WHERE user_id = ?
			ORDER BY created_at DESC, endpoint DESC LIMIT ?)`, sub.User, sub.User, limit)
		return err
	})
}

// PushSubscriptions implements webpush.Store.
func (s *Store) PushSubscriptions(ctx context.Context, user string) ([]webpush.Subscription, error) {
	if !s.d.StoresText(user) {
		return nil, nil
	}
	rows, err := s.reads().query(ctx, `SELECT endpoint, p256dh, auth, created_at FROM push_subscriptions
		WHERE user_id = ? ORDER BY created_at, endpoint`, user)
	if err != nil {
		return nil, s.internal("push subscriptions", err)
	}
	out, err := collect(rows, func(r Row) (webpush.Subscription, error) {
		sub := webpush.Subscription{User: user}
		var at int64
		err := r.Scan(&sub.Endpoint, &sub.P256DH, &sub.Auth, &at)
		sub.Created = FromNanos(at)
		return sub, err
	})
	if err != nil {
		return nil, s.internal("push subscriptions", err)
	}
	return out, nil
}

// DeletePushSubscription implements webpush.Store.
func (s *Store) DeletePushSubscription(ctx context.Context, user, endpoint string) (bool, error) {
	if !s.d.StoresText(user) || !s.d.StoresText(endpoint) {
		return false, nil
	}
	n, err := s.exec(ctx, `DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint = ?`, user, endpoint)
	if err != nil {
		return false, s.internal("delete push subscription", err)
	}
	return n > 0, nil
}

// InitSetting implements webpush.Store: the insert that loses a race
// changes nothing, and the read that follows it sees the winner's value.
func (s *Store) InitSetting(ctx context.Context, name, value string) (string, error) {
	if !s.d.StoresText(name) || !s.d.StoresText(value) {
		return "", ErrInvalidText("the setting")
	}
	if _, err := s.exec(ctx, `INSERT INTO deployment_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		name, value); err != nil {
		return "", s.internal("init setting", err)
	}
	var stored string
	if err := s.reads().queryRow(ctx, `SELECT value FROM deployment_settings WHERE name = ?`, name).Scan(&stored); err != nil {
		return "", s.internal("init setting", err)
	}
	return stored, nil
}
