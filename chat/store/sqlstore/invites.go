package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"time"

	"github.com/kindred-health/kindred/chat"
)

const inviteCols = `id, code, conv_id, created_by, created_at, expires_at, max_uses, uses, revoked_at`

func scanInvite(r Row) (chat.Invite, error) {
	var inv chat.Invite
	var created, expires, revoked int64
	err := r.Scan(&inv.ID, &inv.Code, &inv.Conv, &inv.CreatedBy, &created, &expires, &inv.MaxUses, &inv.Uses, &revoked)
	inv.CreatedAt, inv.ExpiresAt, inv.Revoked = FromNanos(created), FromNanos(expires), revoked != 0
	return inv, err
}

// CreateInvite stores a new invite to room inv.Conv with a random code.
func (s *Store) CreateInvite(ctx context.Context, inv chat.Invite) (chat.Invite, error) {
	if inv.MaxUses < 1 || !inv.ExpiresAt.After(time.Now()) {
		return chat.Invite{}, chat.Errorf(chat.CodeInvalidField, "an invite needs at least one use and an end in the future")
	}
	if !s.d.StoresText(inv.Conv) {
		return chat.Invite{}, chat.ErrNotFound
	}
	if !s.d.StoresText(inv.CreatedBy) {
		return chat.Invite{}, chat.Errorf(chat.CodeInvalidField, "invalid user id")
	}
	inv.ID, inv.Code, inv.CreatedAt = newID("i_"), rand.Text(), time.Now().UTC()
	inv.Uses, inv.Revoked = 0, false
	err := s.inTx(ctx, "create invite", func(t *txn) error {
		var kind string
		err := t.queryRow(ctx, `SELECT kind FROM conversations WHERE id = ?`, inv.Conv).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && kind != string(chat.KindRoom)) {
			return chat.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = t.exec(ctx, `INSERT INTO room_invites (id, code, conv_id, created_by, created_at, expires_at, max_uses)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, inv.ID, inv.Code, inv.Conv, inv.CreatedBy,
			inv.CreatedAt.UnixNano(), inv.ExpiresAt.UnixNano(), inv.MaxUses)
		return err
	})
	if err != nil {
		return chat.Invite{}, err
	}
	return inv, nil
}

// InviteByCode returns the invite with code.
func (s *Store) InviteByCode(ctx context.Context, code string) (chat.Invite, error) {
	if code == "" || !s.d.StoresText(code) {
		return chat.Invite{}, chat.ErrNotFound
	}
	inv, err := scanInvite(s.reads().queryRow(ctx, `SELECT `+inviteCols+` FROM room_invites WHERE code = ?`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Invite{}, chat.ErrNotFound
	}
	if err != nil {
		return chat.Invite{}, s.internal("invite by code", err)
	}
	return inv, nil
}

// Invites lists room conv's newest 100 invites.
func (s *Store) Invites(ctx context.Context, conv string) ([]chat.Invite, error) {
	if !s.d.StoresText(conv) {
		return []chat.Invite{}, nil
	}
	rows, err := s.reads().query(ctx, `SELECT `+inviteCols+` FROM room_invites
		WHERE conv_id = ? ORDER BY created_at DESC, id LIMIT 100`, conv)
	if err != nil {
		return nil, s.internal("invites", err)
	}
	out, err := collect(rows, scanInvite)
	if err != nil {
		return nil, s.internal("invites", err)
	}
	return out, nil
}

// RevokeInvite revokes invite id of room conv.
func (s *Store) RevokeInvite(ctx context.Context, conv, id string) error {
	if !s.d.StoresText(conv) || !s.d.StoresText(id) {
		return chat.ErrNotFound
	}
	n, err := s.exec(ctx, `UPDATE room_invites SET revoked_at = CASE WHEN revoked_at = 0 THEN {now} ELSE revoked_at END
		WHERE conv_id = ? AND id = ?`, conv, id)
	if err != nil {
		return s.internal("revoke invite", err)
	}
	if n == 0 {
		return chat.Errorf(chat.CodeNotFound, "no such invite in this room")
	}
	return nil
}

// UseInvite counts one use of the invite with code for userID, reading
// and counting it with its row locked (or under SQLite's one writer), so
// that concurrent uses take turns.
func (s *Store) UseInvite(ctx context.Context, code, userID string) (inv chat.Invite, used bool, err error) {
	if !s.d.StoresText(code) || !s.d.StoresText(userID) {
		return chat.Invite{}, false, chat.ErrNotFound
	}
	err = s.inTx(ctx, "use invite", func(t *txn) error {
		var member, live bool
		var created, expires, revoked int64
		err := t.queryRow(ctx, `SELECT i.id, i.code, i.conv_id, i.created_by, i.created_at, i.expires_at, i.max_uses, i.uses,
				i.revoked_at, i.expires_at > {now},
				EXISTS (SELECT 1 FROM members m WHERE m.conv_id = i.conv_id AND m.user_id = ?)
			FROM room_invites i WHERE i.code = ?{lock}`, userID, code).Scan(&inv.ID, &inv.Code, &inv.Conv,
			&inv.CreatedBy, &created, &expires, &inv.MaxUses, &inv.Uses, &revoked, &live, &member)
		inv.CreatedAt, inv.ExpiresAt, inv.Revoked = FromNanos(created), FromNanos(expires), revoked != 0
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return chat.Errorf(chat.CodeNotFound, "no such invite")
		case err != nil:
			return err
		case member:
			return nil
		case inv.Revoked:
			return chat.ErrInviteInvalid("was revoked")
		case !live:
			return chat.ErrInviteInvalid("has expired")
		case inv.Uses >= inv.MaxUses:
			return chat.ErrInviteInvalid("has been used up")
		}
		used = true
		inv.Uses++
		_, err = t.exec(ctx, `UPDATE room_invites SET uses = uses + 1 WHERE id = ?`, inv.ID)
		return err
	})
	if err != nil {
		return chat.Invite{}, false, err
	}
	return inv, used, nil
}

// ReleaseInvite gives back one use of the invite with code.
func (s *Store) ReleaseInvite(ctx context.Context, code string) error {
	if !s.d.StoresText(code) {
		return nil
	}
	if _, err := s.exec(ctx, `UPDATE room_invites SET uses = uses - 1 WHERE code = ? AND uses > 0`, code); err != nil {
		return s.internal("release invite", err)
	}
	return nil
}
