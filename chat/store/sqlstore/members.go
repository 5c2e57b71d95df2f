package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kindred-health/kindred/chat"
)

// Join makes userID a member of room conv, with chat.RoomMember.
//
// With a room limit, the count and the insert must not interleave with
// another Join of the same user (in any process or on any node), or both
// could slip under the limit: Dialect.LockJoins makes them take turns.
// The statements after it see the Joins that went before.
func (s *Store) Join(ctx context.Context, conv, userID string, maxRooms int) error {
	if !s.d.StoresText(conv) {
		return chat.ErrNotFound
	}
	if userID == "" || !s.d.StoresText(userID) {
		return chat.Errorf(chat.CodeInvalidField, "invalid user id")
	}
	return s.inTx(ctx, "join", func(t *txn) error {
		limited := maxRooms > 0
		if limited {
			if err := s.d.LockJoins(ctx, t.tx, userID); err != nil {
				return err
			}
		}
		var kind string
		var member bool
		var rooms int
		var lastSeq, banned int64
		err := t.queryRow(ctx, `SELECT c.kind, c.last_seq,
				EXISTS (SELECT 1 FROM members WHERE conv_id = c.id AND user_id = ?),
				CASE WHEN ? THEN (SELECT count(*) FROM members m WHERE m.user_id = ?
					AND EXISTS (SELECT 1 FROM conversations r WHERE r.id = m.conv_id AND r.kind = 'room')) ELSE 0 END,
				COALESCE((SELECT b.until FROM room_bans b WHERE b.conv_id = c.id AND b.user_id = ? AND b.until > {now}), 0)
			FROM conversations c WHERE c.id = ?`, userID, limited, userID, userID, conv).Scan(&kind, &lastSeq, &member, &rooms, &banned)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && kind != string(chat.KindRoom)) {
			return chat.ErrNotFound
		}
		if err != nil || member {
			return err // joining twice keeps the role one has
		}
		if banned > 0 {
			return chat.ErrBanned(banned)
		}
		if limited && rooms >= maxRooms {
			return chat.Errorf(chat.CodeRoomLimit, "you can be in at most %d rooms; leave one first", maxRooms)
		}
		// DO NOTHING: an unlimited Join of the same pair may have won
		// the race; joining twice is not an error. The join point is
		// last_seq as this transaction read it: an event committed
		// meanwhile falls after it, and its new member may read it.
		// A mute kept when the user left (dropMember) comes back.
		_, err = t.exec(ctx, `INSERT INTO members (conv_id, user_id, joined_at, joined_seq, muted_until)
			VALUES (?, ?, {now}, ?, COALESCE((SELECT k.until FROM kept_mutes k
				WHERE k.conv_id = ? AND k.user_id = ? AND k.until > {now}), 0))
			ON CONFLICT DO NOTHING`, conv, userID, lastSeq, conv, userID)
		if err == nil {
			_, err = t.exec(ctx, `DELETE FROM kept_mutes WHERE conv_id = ? AND user_id = ?`, conv, userID)
		}
		return err
	})
}

// Leave removes userID from room conv. Leaving a DM is refused with
// CodeForbidden; an unknown conversation is chat.ErrNotFound. A
// conversation's kind never changes, so the read needs no transaction
// around it; a mute still in force is kept for the next Join (dropMember).
func (s *Store) Leave(ctx context.Context, conv, userID string) error {
	if !s.d.StoresText(conv) {
		return chat.ErrNotFound
	}
	var kind string
	err := s.reads().queryRow(ctx, `SELECT kind FROM conversations WHERE id = ?`, conv).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.ErrNotFound
	}
	if err != nil {
		return s.internal("leave", err)
	}
	if kind != string(chat.KindRoom) {
		return chat.Errorf(chat.CodeForbidden, "you cannot leave a direct conversation")
	}
	if !s.d.StoresText(userID) {
		return nil // no such member can exist
	}
	return s.inTx(ctx, "leave", func(t *txn) error { return dropMember(ctx, t, conv, userID) })
}

// dropMember ends userID's membership of conv in t, keeping a mute still
// in force in kept_mutes, so that leaving and joining again does not lift
// it.
func dropMember(ctx context.Context, t *txn, conv, userID string) error {
	_, err := t.exec(ctx, `INSERT INTO kept_mutes (conv_id, user_id, until)
		SELECT conv_id, user_id, muted_until FROM members
		WHERE conv_id = ? AND user_id = ? AND muted_until > {now}
		ON CONFLICT (conv_id, user_id) DO UPDATE SET until = excluded.until`, conv, userID)
	if err == nil {
		_, err = t.exec(ctx, `DELETE FROM members WHERE conv_id = ? AND user_id = ?`, conv, userID)
	}
	return err
}

// IsMember reports whether userID belongs to conv (false for an unknown
// conversation).
func (s *Store) IsMember(ctx context.Context, conv, userID string) (bool, error) {
	if !s.d.StoresText(conv) || !s.d.StoresText(userID) {
		return false, nil
	}
	var ok bool
	err := s.reads().queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM members WHERE conv_id = ? AND user_id = ?)`,
		conv, userID).Scan(&ok)
	if err != nil {
		return false, s.internal("is member", err)
	}
	return ok, nil
}

// MemberRole returns userID's role in conv: chat.RoomNone when userID is
// not a member or conv is unknown.
func (s *Store) MemberRole(ctx context.Context, conv, userID string) (chat.RoomRole, error) {
	if !s.d.StoresText(conv) || !s.d.StoresText(userID) {
		return chat.RoomNone, nil
	}
	var role string
	err := s.reads().queryRow(ctx, `SELECT role FROM members WHERE conv_id = ? AND user_id = ?`,
		conv, userID).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.RoomNone, nil
	}
	if err != nil {
		return chat.RoomNone, s.internal("member role", err)
	}
	return chat.RoomRole(role), nil
}

// MemberSince returns where userID's reading of conv starts: the join
// point in a room with joined history, else 0.
func (s *Store) MemberSince(ctx context.Context, conv, userID string) (int64, error) {
	if !s.d.StoresText(conv) || !s.d.StoresText(userID) {
		return 0, nil
	}
	var since, purged int64
	err := s.reads().queryRow(ctx, `SELECT COALESCE((SELECT m.joined_seq FROM members m
			WHERE m.conv_id = c.id AND m.user_id = ? AND c.history = 'joined' AND c.kind = 'room'), 0), c.purged_seq
		FROM conversations c WHERE c.id = ?`, userID, conv).Scan(&since, &purged)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, s.internal("member since", err)
	}
	return max(since, purged), nil
}

// Members lists conv's members, oldest membership first, with their mute
// in force. Users the store has never seen appear with their ID only.
func (s *Store) Members(ctx context.Context, conv string) ([]chat.Member, error) {
	if !s.d.StoresText(conv) {
		return []chat.Member{}, nil
	}
	rows, err := s.reads().query(ctx, `SELECT m.user_id, COALESCE(u.name, ''), COALESCE(u.role, ''), m.role, m.joined_at,
			CASE WHEN m.muted_until > {now} THEN m.muted_until ELSE 0 END
		FROM members m LEFT JOIN users u ON u.id = m.user_id
		WHERE m.conv_id = ? ORDER BY m.joined_at, m.{ord}`, conv)
	if err != nil {
		return nil, s.internal("members", err)
	}
	out, err := collect(rows, func(r Row) (m chat.Member, err error) {
		var joined int64
		err = r.Scan(&m.ID, &m.Name, &m.Role, &m.RoomRole, &joined, &m.MutedUntil)
		m.JoinedAt = FromNanos(joined)
		return m, err
	})
	if err != nil {
		return nil, s.internal("members", err)
	}
	return out, nil
}

// RoomPolicy returns room conv's policy.
func (s *Store) RoomPolicy(ctx context.Context, conv string) (chat.RoomPolicy, error) {
	if !s.d.StoresText(conv) {
		return chat.RoomPolicy{}, chat.ErrNotFound
	}
	var kind string
	var hold sql.NullBool
	err := s.reads().queryRow(ctx, `SELECT c.kind, p.hold_imminent FROM conversations c
		LEFT JOIN room_policies p ON p.conv_id = c.id WHERE c.id = ?`, conv).Scan(&kind, &hold)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && kind != string(chat.KindRoom)) {
		return chat.RoomPolicy{}, chat.ErrNotFound
	}
	if err != nil {
		return chat.RoomPolicy{}, s.internal("room policy", err)
	}
	return chat.RoomPolicy{HoldImminent: hold.Valid && hold.Bool}, nil
}

// SetRoomPolicy replaces room conv's policy.
func (s *Store) SetRoomPolicy(ctx context.Context, conv string, p chat.RoomPolicy) error {
	if _, err := s.RoomPolicy(ctx, conv); err != nil {
		return err
	}
	_, err := s.exec(ctx, `INSERT INTO room_policies (conv_id, hold_imminent) VALUES (?, ?)
		ON CONFLICT (conv_id) DO UPDATE SET hold_imminent = excluded.hold_imminent`, conv, p.HoldImminent)
	if err != nil {
		return s.internal("set room policy", err)
	}
	return nil
}
