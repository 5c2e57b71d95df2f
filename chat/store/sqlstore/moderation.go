package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kindred-health/kindred/chat"
)

// membership reads userID's role in room conv inside t: chat.ErrNotFound
// for a non-member, a DM or an unknown room.
func (s *Store) membership(ctx context.Context, t *txn, conv, userID string) (chat.RoomRole, error) {
	if !s.d.StoresText(conv) || !s.d.StoresText(userID) {
		return chat.RoomNone, chat.ErrNotFound
	}
	var role string
	err := t.queryRow(ctx, `SELECT m.role FROM members m JOIN conversations c ON c.id = m.conv_id
		WHERE m.conv_id = ? AND m.user_id = ? AND c.kind = 'room'{lock}`, conv, userID).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.RoomNone, chat.ErrNotFound
	}
	return chat.RoomRole(role), err
}

// SetMemberRole makes userID a moderator or a member of room conv.
func (s *Store) SetMemberRole(ctx context.Context, conv, userID string, role chat.RoomRole) error {
	if role != chat.RoomModerator && role != chat.RoomMember {
		return chat.Errorf(chat.CodeInvalidField, "a member's role is moderator or member")
	}
	return s.inTx(ctx, "set member role", func(t *txn) error {
		was, err := s.membership(ctx, t, conv, userID)
		if err != nil {
			return err
		}
		if was == chat.RoomOwner {
			return chat.Errorf(chat.CodeForbidden, "the room's owner stays its owner")
		}
		_, err = t.exec(ctx, `UPDATE members SET role = ? WHERE conv_id = ? AND user_id = ?`, string(role), conv, userID)
		return err
	})
}

// SetMute sets until when userID is muted in room conv (0: not muted).
func (s *Store) SetMute(ctx context.Context, conv, userID string, until int64) error {
	return s.inTx(ctx, "set mute", func(t *txn) error {
		if _, err := s.membership(ctx, t, conv, userID); err != nil {
			return err
		}
		_, err := t.exec(ctx, `UPDATE members SET muted_until = ? WHERE conv_id = ? AND user_id = ?`, max(until, 0), conv, userID)
		return err
	})
}

// MutedUntil returns userID's mute in conv, 0 when there is none in force.
func (s *Store) MutedUntil(ctx context.Context, conv, userID string) (int64, error) {
	if !s.d.StoresText(conv) || !s.d.StoresText(userID) {
		return 0, nil
	}
	var until int64
	err := s.reads().queryRow(ctx, `SELECT CASE WHEN muted_until > {now} THEN muted_until ELSE 0 END
		FROM members WHERE conv_id = ? AND user_id = ?`, conv, userID).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, s.internal("muted until", err)
	}
	return until, nil
}

// Ban removes userID from room conv and records the ban, in one
// transaction, so that no Join slips between the two.
func (s *Store) Ban(ctx context.Context, conv, userID, by string, until int64) error {
	if !s.d.StoresText(conv) {
		return chat.ErrNotFound
	}
	if userID == "" || !s.d.StoresText(userID) || !s.d.StoresText(by) {
		return chat.Errorf(chat.CodeInvalidField, "invalid user id")
	}
	return s.inTx(ctx, "ban", func(t *txn) error {
		var kind string
		err := t.queryRow(ctx, `SELECT kind FROM conversations WHERE id = ?{lock}`, conv).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && kind != string(chat.KindRoom)) {
			return chat.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO room_bans (conv_id, user_id, until, banned_by, banned_at) VALUES (?, ?, ?, ?, {now})
			ON CONFLICT (conv_id, user_id) DO UPDATE SET until = excluded.until, banned_by = excluded.banned_by,
				banned_at = excluded.banned_at`, conv, userID, until, by); err != nil {
			return err
		}
		return dropMember(ctx, t, conv, userID)
	})
}

// Unban lifts userID's ban from room conv.
func (s *Store) Unban(ctx context.Context, conv, userID string) error {
	if !s.d.StoresText(conv) || !s.d.StoresText(userID) {
		return chat.ErrNotFound
	}
	n, err := s.exec(ctx, `DELETE FROM room_bans WHERE conv_id = ? AND user_id = ? AND until > {now}`, conv, userID)
	if err != nil {
		return s.internal("unban", err)
	}
	if n == 0 {
		return chat.Errorf(chat.CodeNotFound, "no ban of this user in this room")
	}
	return nil
}

// Bans lists the bans from room conv in force, newest first.
func (s *Store) Bans(ctx context.Context, conv string) ([]chat.Ban, error) {
	if !s.d.StoresText(conv) {
		return []chat.Ban{}, nil
	}
	rows, err := s.reads().query(ctx, `SELECT b.user_id, COALESCE(u.name, ''), b.until, b.banned_by, b.banned_at
		FROM room_bans b LEFT JOIN users u ON u.id = b.user_id
		WHERE b.conv_id = ? AND b.until > {now} ORDER BY b.banned_at DESC, b.user_id`, conv)
	if err != nil {
		return nil, s.internal("bans", err)
	}
	out, err := collect(rows, func(r Row) (b chat.Ban, err error) {
		var until, at int64
		err = r.Scan(&b.User, &b.Name, &until, &b.By, &at)
		if until != chat.MutedForever {
			t := FromNanos(until)
			b.Until = &t
		}
		b.At = FromNanos(at)
		return b, err
	})
	if err != nil {
		return nil, s.internal("bans", err)
	}
	return out, nil
}
