package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kindred-health/kindred/chat"
)

// SetRoomSettings changes room conv's given settings in one statement. A
// change of the guidelines' text raises guidelines_version, so that every
// member must accept them again.
func (s *Store) SetRoomSettings(ctx context.Context, conv string, set chat.RoomSettings) error {
	if err := set.Check(); err != nil {
		return err
	}
	if !s.d.StoresText(conv) {
		return chat.ErrNotFound
	}
	var guide string
	if set.Guidelines != nil {
		if guide = *set.Guidelines; !s.d.StoresText(guide) {
			return ErrInvalidText("the guidelines")
		}
	}
	flag := func(b *bool) (bool, int) {
		if b == nil {
			return false, 0
		}
		if *b {
			return true, 1
		}
		return true, 0
	}
	num := func(n *int) (bool, int) {
		if n == nil {
			return false, 0
		}
		return true, *n
	}
	lockSet, lock := flag(set.Locked)
	roSet, ro := flag(set.ReadOnly)
	slowSet, slow := num(set.SlowModeSeconds)
	maxSet, maxN := num(set.MaxMembers)
	premodSet, premod := num(set.PremodMessages)
	retainSet, retain := num(set.RetainDays)
	guideSet := set.Guidelines != nil
	n, err := s.exec(ctx, `UPDATE conversations SET
			visibility = CASE WHEN ? = '' THEN visibility ELSE ? END,
			history = CASE WHEN ? = '' THEN history ELSE ? END,
			guidelines_version = CASE WHEN ? AND guidelines <> ? THEN guidelines_version + 1 ELSE guidelines_version END,
			guidelines = CASE WHEN ? THEN ? ELSE guidelines END,
			locked = CASE WHEN ? THEN ? ELSE locked END,
			read_only = CASE WHEN ? THEN ? ELSE read_only END,
			slow_mode_seconds = CASE WHEN ? THEN ? ELSE slow_mode_seconds END,
			max_members = CASE WHEN ? THEN ? ELSE max_members END,
			premod_messages = CASE WHEN ? THEN ? ELSE premod_messages END,
			retain_days = CASE WHEN ? THEN ? ELSE retain_days END
		WHERE id = ? AND kind = 'room'`,
		string(set.Visibility), string(set.Visibility), string(set.History), string(set.History),
		guideSet, guide, guideSet, guide, lockSet, lock, roSet, ro, slowSet, slow, maxSet, maxN, premodSet, premod, retainSet, retain, conv)
	if err != nil {
		return s.internal("set room settings", err)
	}
	if n == 0 {
		return chat.ErrNotFound
	}
	return nil
}

// AcceptGuidelines records that member userID of room conv accepted its
// guidelines as they are now, and returns their version.
func (s *Store) AcceptGuidelines(ctx context.Context, conv, userID string, version int64) (int64, error) {
	var current int64
	err := s.inTx(ctx, "accept guidelines", func(t *txn) error {
		if _, err := s.membership(ctx, t, conv, userID); err != nil {
			return err
		}
		err := t.queryRow(ctx, `SELECT guidelines_version FROM conversations WHERE id = ?`, conv).Scan(&current)
		if errors.Is(err, sql.ErrNoRows) {
			return chat.ErrNotFound
		}
		if err != nil {
			return err
		}
		if version != 0 && version != current {
			return chat.Errorf(chat.CodeConflict, "the guidelines changed; read them again")
		}
		_, err = t.exec(ctx, `UPDATE members SET guidelines_accepted = ? WHERE conv_id = ? AND user_id = ?`, current, conv, userID)
		return err
	})
	return current, err
}
