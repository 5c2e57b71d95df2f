package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"strings"

	"github.com/kindred-health/kindred/chat"
)

// UpsertUser records u or refreshes its name and role. updated_at records
// the last change; an unchanged user is not rewritten, so a reconnect storm
// costs no disk writes.
func (s *Store) UpsertUser(ctx context.Context, u chat.User) error {
	if u.ID == "" {
		return chat.Errorf(chat.CodeInvalidField, "user id is empty")
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO users (id, name, role, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, updated_at = excluded.updated_at
		WHERE name <> excluded.name OR role <> excluded.role`,
		u.ID, u.Name, u.Role, now())
	if err != nil {
		return internal("upsert user", err)
	}
	return nil
}

// User returns a known user, or chat.ErrNotFound.
func (s *Store) User(ctx context.Context, id string) (chat.User, error) {
	u := chat.User{ID: id}
	err := s.r.QueryRowContext(ctx, `SELECT name, role FROM users WHERE id = ?`, id).Scan(&u.Name, &u.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, chat.ErrNotFound
	}
	if err != nil {
		return chat.User{}, internal("user", err)
	}
	return u, nil
}

// UsersByRole lists the users with one of roles, ordered by ID.
func (s *Store) UsersByRole(ctx context.Context, roles ...string) ([]chat.User, error) {
	if len(roles) == 0 {
		return nil, nil
	}
	q := `SELECT id, name, role FROM users WHERE role IN (?` + strings.Repeat(",?", len(roles)-1) + `) ORDER BY id`
	args := make([]any, len(roles))
	for i, r := range roles {
		args[i] = r
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, internal("users by role", err)
	}
	defer rows.Close()
	var out []chat.User
	for rows.Next() {
		var u chat.User
		if err := rows.Scan(&u.ID, &u.Name, &u.Role); err != nil {
			return nil, internal("users by role", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("users by role", err)
	}
	return out, nil
}

// newID returns prefix followed by 12 random base32 characters (60 bits):
// short enough for URLs and logs, and unguessable enough that conversation
// IDs do not reveal how many exist.
func newID(prefix string) string {
	return prefix + strings.ToLower(rand.Text()[:12])
}

// CreateRoom creates room c with c.CreatedBy as its first member. An empty
// c.ID gets a fresh "r_…" ID; a given ID that is taken is refused with
// CodeConflict. An empty CreatedBy makes a room with no members (rooms
// seeded by the operator).
func (s *Store) CreateRoom(ctx context.Context, c chat.Conversation) (chat.Conversation, error) {
	c.Kind = chat.KindRoom
	c.LastSeq = 0
	c.Members = 0
	ts := now()
	c.CreatedAt = fromNanos(ts)

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return chat.Conversation{}, internal("create room", err)
	}
	defer rollback(tx)

	generated := c.ID == ""
	for attempt := 0; ; attempt++ {
		if generated {
			c.ID = newID("r_")
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO conversations (id, kind, name, topic, created_by, created_at)
			VALUES (?, 'room', ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			c.ID, c.Name, c.Topic, c.CreatedBy, ts)
		if err != nil {
			return chat.Conversation{}, internal("create room", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return chat.Conversation{}, internal("create room", err)
		} else if n == 1 {
			break
		}
		// With 60 random bits a clash is all but impossible; a few
		// retries make it impossible in practice.
		if !generated || attempt == 3 {
			return chat.Conversation{}, chat.Errorf(chat.CodeConflict, "conversation %q already exists", c.ID)
		}
	}
	if c.CreatedBy != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO members (conv_id, user_id, joined_at) VALUES (?, ?, ?)`,
			c.ID, c.CreatedBy, ts); err != nil {
			return chat.Conversation{}, internal("create room", err)
		}
		c.Members = 1
	}
	if err := tx.Commit(); err != nil {
		return chat.Conversation{}, internal("create room", err)
	}
	return c, nil
}

// dmKey identifies the pair {a, b} whatever the order. NUL cannot occur in
// an ID (OpenDM refuses it), so the key is unambiguous.
func dmKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + "\x00" + b
}

// OpenDM returns the DM between a and b, creating it on first use. The
// unique dm_key makes concurrent first calls agree: one INSERT wins, the
// others do nothing, and all read the winner back. The returned Name is
// empty (it depends on who looks; see UserConversations).
//
// A DM with oneself is refused with CodeInvalidField.
func (s *Store) OpenDM(ctx context.Context, a, b string) (chat.Conversation, error) {
	if a == "" || b == "" || strings.ContainsRune(a, 0) || strings.ContainsRune(b, 0) {
		return chat.Conversation{}, chat.Errorf(chat.CodeInvalidField, "invalid user id")
	}
	if a == b {
		return chat.Conversation{}, chat.Errorf(chat.CodeInvalidField, "cannot open a conversation with yourself")
	}
	key := dmKey(a, b)

	// Fast path: the DM usually exists, and reading it needs no write
	// lock and no fsync.
	c, err := scanConversation(s.rs.dmByKey.QueryRowContext(ctx, key))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return chat.Conversation{}, internal("open dm", err)
	}

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return chat.Conversation{}, internal("open dm", err)
	}
	defer rollback(tx)
	ts := now()
	for attempt := 0; ; attempt++ {
		// No conflict target: a clash on dm_key (someone else created
		// the DM) and a clash on the random id both do nothing; the
		// SELECT below tells them apart.
		res, err := tx.ExecContext(ctx, `INSERT INTO conversations (id, kind, created_by, created_at, dm_key)
			VALUES (?, 'dm', ?, ?, ?) ON CONFLICT DO NOTHING`,
			newID("d_"), a, ts, key)
		if err != nil {
			return chat.Conversation{}, internal("open dm", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return chat.Conversation{}, internal("open dm", err)
		}
		if n == 1 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO members (conv_id, user_id, joined_at)
				SELECT id, ?, ? FROM conversations WHERE dm_key = ?
				UNION ALL SELECT id, ?, ? FROM conversations WHERE dm_key = ?`,
				a, ts, key, b, ts, key); err != nil {
				return chat.Conversation{}, internal("open dm", err)
			}
		}
		c, err = scanConversation(tx.QueryRowContext(ctx, sqlDMByKey, key))
		if err == nil {
			break
		}
		if !errors.Is(err, sql.ErrNoRows) || attempt == 3 {
			return chat.Conversation{}, internal("open dm", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return chat.Conversation{}, internal("open dm", err)
	}
	return c, nil
}

// scanConversation reads one row of convColumns.
func scanConversation(row interface{ Scan(...any) error }) (chat.Conversation, error) {
	var c chat.Conversation
	var kind string
	var created int64
	if err := row.Scan(&c.ID, &kind, &c.Name, &c.Topic, &c.CreatedBy, &created, &c.LastSeq, &c.Members); err != nil {
		return chat.Conversation{}, err
	}
	c.Kind = chat.ConversationKind(kind)
	c.CreatedAt = fromNanos(created)
	return c, nil
}

// Conversation returns conversation id with LastSeq and Members, or
// chat.ErrNotFound. A DM's Name is empty.
func (s *Store) Conversation(ctx context.Context, id string) (chat.Conversation, error) {
	c, err := scanConversation(s.rs.conversation.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Conversation{}, chat.ErrNotFound
	}
	if err != nil {
		return chat.Conversation{}, internal("conversation", err)
	}
	return c, nil
}

// Rooms lists every room, oldest first, with member counts.
func (s *Store) Rooms(ctx context.Context) ([]chat.Conversation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+convColumns+`
		FROM conversations c WHERE c.kind = 'room' ORDER BY c.created_at, c.rowid`)
	if err != nil {
		return nil, internal("rooms", err)
	}
	return collectConversations(rows, "rooms")
}

// UserConversations lists the rooms and DMs userID belongs to, oldest
// first. A DM's Name is the other member's display name, empty if that user
// is unknown.
func (s *Store) UserConversations(ctx context.Context, userID string) ([]chat.Conversation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.kind,
			CASE c.kind WHEN 'dm' THEN COALESCE((
				SELECT u.name FROM members o JOIN users u ON u.id = o.user_id
				WHERE o.conv_id = c.id AND o.user_id <> me.user_id LIMIT 1), '')
			ELSE c.name END,
			c.topic, c.created_by, c.created_at, c.last_seq,
			(SELECT COUNT(*) FROM members m WHERE m.conv_id = c.id)
		FROM members me JOIN conversations c ON c.id = me.conv_id
		WHERE me.user_id = ? ORDER BY c.created_at, c.rowid`, userID)
	if err != nil {
		return nil, internal("user conversations", err)
	}
	return collectConversations(rows, "user conversations")
}

func collectConversations(rows *sql.Rows, op string) ([]chat.Conversation, error) {
	defer rows.Close()
	out := []chat.Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, internal(op, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	return out, nil
}

// Join makes userID a member of room conv. The membership check, the room
// count and the insert share one write transaction, so two concurrent Joins
// cannot both slip under the limit.
func (s *Store) Join(ctx context.Context, conv, userID string, maxRooms int) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return internal("join", err)
	}
	defer rollback(tx)

	var kind string
	err = tx.QueryRowContext(ctx, `SELECT kind FROM conversations WHERE id = ?`, conv).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && kind != string(chat.KindRoom)) {
		return chat.ErrNotFound
	}
	if err != nil {
		return internal("join", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM members WHERE conv_id = ? AND user_id = ?`,
		conv, userID).Scan(&n); err != nil {
		return internal("join", err)
	}
	if n > 0 {
		return nil
	}
	if maxRooms > 0 {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM members m
			JOIN conversations c ON c.id = m.conv_id
			WHERE m.user_id = ? AND c.kind = 'room'`, userID).Scan(&n); err != nil {
			return internal("join", err)
		}
		if n >= maxRooms {
			return chat.Errorf(chat.CodeRoomLimit, "you can be in at most %d rooms; leave one first", maxRooms)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO members (conv_id, user_id, joined_at) VALUES (?, ?, ?)`,
		conv, userID, now()); err != nil {
		return internal("join", err)
	}
	if err := tx.Commit(); err != nil {
		return internal("join", err)
	}
	return nil
}

// Leave removes userID from room conv. Leaving a DM is refused with
// CodeForbidden; an unknown conversation is chat.ErrNotFound.
func (s *Store) Leave(ctx context.Context, conv, userID string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return internal("leave", err)
	}
	defer rollback(tx)
	var kind string
	err = tx.QueryRowContext(ctx, `SELECT kind FROM conversations WHERE id = ?`, conv).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.ErrNotFound
	}
	if err != nil {
		return internal("leave", err)
	}
	if kind != string(chat.KindRoom) {
		return chat.Errorf(chat.CodeForbidden, "you cannot leave a direct conversation")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM members WHERE conv_id = ? AND user_id = ?`, conv, userID); err != nil {
		return internal("leave", err)
	}
	if err := tx.Commit(); err != nil {
		return internal("leave", err)
	}
	return nil
}

// IsMember reports whether userID belongs to conv (false for an unknown
// conversation).
func (s *Store) IsMember(ctx context.Context, conv, userID string) (bool, error) {
	var n int
	if err := s.rs.isMember.QueryRowContext(ctx, conv, userID).Scan(&n); err != nil {
		return false, internal("is member", err)
	}
	return n > 0, nil
}

// Members lists conv's members, oldest membership first. Users the store
// has never seen appear with their ID only.
func (s *Store) Members(ctx context.Context, conv string) ([]chat.Member, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT m.user_id, COALESCE(u.name, ''), COALESCE(u.role, ''), m.joined_at
		FROM members m LEFT JOIN users u ON u.id = m.user_id
		WHERE m.conv_id = ? ORDER BY m.joined_at, m.rowid`, conv)
	if err != nil {
		return nil, internal("members", err)
	}
	defer rows.Close()
	out := []chat.Member{}
	for rows.Next() {
		var m chat.Member
		var joined int64
		if err := rows.Scan(&m.ID, &m.Name, &m.Role, &joined); err != nil {
			return nil, internal("members", err)
		}
		m.JoinedAt = fromNanos(joined)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("members", err)
	}
	return out, nil
}

// RoomPolicy returns room conv's policy.
func (s *Store) RoomPolicy(ctx context.Context, conv string) (chat.RoomPolicy, error) {
	var kind string
	var hold sql.NullBool
	err := s.r.QueryRowContext(ctx, `SELECT c.kind, p.hold_imminent FROM conversations c
		LEFT JOIN room_policies p ON p.conv_id = c.id WHERE c.id = ?`, conv).Scan(&kind, &hold)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && kind != string(chat.KindRoom)) {
		return chat.RoomPolicy{}, chat.ErrNotFound
	}
	if err != nil {
		return chat.RoomPolicy{}, internal("room policy", err)
	}
	return chat.RoomPolicy{HoldImminent: hold.Valid && hold.Bool}, nil
}

// SetRoomPolicy replaces room conv's policy.
func (s *Store) SetRoomPolicy(ctx context.Context, conv string, p chat.RoomPolicy) error {
	if _, err := s.RoomPolicy(ctx, conv); err != nil {
		return err
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO room_policies (conv_id, hold_imminent) VALUES (?, ?)
		ON CONFLICT (conv_id) DO UPDATE SET hold_imminent = excluded.hold_imminent`, conv, p.HoldImminent)
	if err != nil {
		return internal("set room policy", err)
	}
	return nil
}
