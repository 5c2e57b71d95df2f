package postgres

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/kindred-health/kindred/chat"
)

// UpsertUser records u or refreshes its name and role. An unchanged user is
// not rewritten, so a reconnect storm creates no dead tuples and no WAL.
func (s *Store) UpsertUser(ctx context.Context, u chat.User) error {
	if u.ID == "" {
		return chat.Errorf(chat.CodeInvalidField, "user id is empty")
	}
	if !storable(u.ID) || !storable(u.Name) || !storable(u.Role) {
		return errInvalidText("the user's id, name or role")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO users (id, name, role, updated_at) VALUES ($1, $2, $3, `+sqlNow+`)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, updated_at = excluded.updated_at
		WHERE users.name <> excluded.name OR users.role <> excluded.role`,
		u.ID, u.Name, u.Role)
	if err != nil {
		return internal("upsert user", err)
	}
	return nil
}

// User returns a known user, or chat.ErrNotFound.
func (s *Store) User(ctx context.Context, id string) (chat.User, error) {
	if !storable(id) {
		return chat.User{}, chat.ErrNotFound
	}
	u := chat.User{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT name, role FROM users WHERE id = $1`, id).Scan(&u.Name, &u.Role)
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, err := s.pool.Query(ctx, `SELECT id, name, role FROM users WHERE role = ANY($1) ORDER BY id`, roles)
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

// CreateRoom creates room c with c.CreatedBy as its first member. An empty
// c.ID gets a fresh "r_…" ID; a given ID that is taken is refused with
// CodeConflict. An empty CreatedBy makes a room with no members (rooms
// seeded by the operator).
//
// The room and its first membership are inserted by one statement, which
// is atomic by itself: one round trip, no explicit transaction.
func (s *Store) CreateRoom(ctx context.Context, c chat.Conversation) (chat.Conversation, error) {
	if !storable(c.ID) || !storable(c.Name) || !storable(c.Topic) || !storable(c.CreatedBy) {
		return chat.Conversation{}, errInvalidText("the room's id, name, topic or creator")
	}
	c.Kind = chat.KindRoom
	c.LastSeq = 0
	c.Members = 0
	generated := c.ID == ""
	for attempt := 0; ; attempt++ {
		if generated {
			c.ID = newID("r_")
		}
		var created int64
		err := s.pool.QueryRow(ctx, `WITH room AS (
				INSERT INTO conversations (id, kind, name, topic, created_by, created_at)
				VALUES ($1, 'room', $2, $3, $4, `+sqlNow+`)
				ON CONFLICT (id) DO NOTHING
				RETURNING id, created_at
			), creator AS (
				INSERT INTO members (conv_id, user_id, joined_at)
				SELECT id, $4, created_at FROM room WHERE $4 <> ''
			)
			SELECT created_at FROM room`,
			c.ID, c.Name, c.Topic, c.CreatedBy).Scan(&created)
		if err == nil {
			c.CreatedAt = fromNanos(created)
			if c.CreatedBy != "" {
				c.Members = 1
			}
			return c, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return chat.Conversation{}, internal("create room", err)
		}
		// The ID is taken. With 60 random bits a clash is all but
		// impossible; a few retries make it impossible in practice.
		if !generated || attempt == 3 {
			return chat.Conversation{}, chat.Errorf(chat.CodeConflict, "conversation %q already exists", c.ID)
		}
	}
}

// dmKey identifies the pair {a, b} whatever the order. The SQLite store
// joins the sorted IDs with a NUL, which PostgreSQL text cannot hold; here
// the first ID's length prefixes the key instead, which is just as
// unambiguous whatever characters the IDs contain.
func dmKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return strconv.Itoa(len(a)) + ":" + a + ":" + b
}

// OpenDM returns the DM between a and b, creating it on first use. The
// unique dm_key makes concurrent first calls on any nodes agree: one INSERT
// wins, the others wait for it to commit and do nothing, then read the
// winner. The returned Name is empty (it depends on who looks; see
// UserConversations).
//
// A DM with oneself is refused with CodeInvalidField.
func (s *Store) OpenDM(ctx context.Context, a, b string) (chat.Conversation, error) {
	if a == "" || b == "" || !storable(a) || !storable(b) {
		return chat.Conversation{}, chat.Errorf(chat.CodeInvalidField, "invalid user id")
	}
	if a == b {
		return chat.Conversation{}, chat.Errorf(chat.CodeInvalidField, "cannot open a conversation with yourself")
	}
	key := dmKey(a, b)
	for attempt := 0; ; attempt++ {
		// The DM usually exists: a read is all it takes.
		c, err := scanConversation(s.pool.QueryRow(ctx, sqlDMByKey, key))
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return chat.Conversation{}, internal("open dm", err)
		}
		// No conflict target: a clash on dm_key (someone else created
		// the DM meanwhile) and one on the random id both do nothing,
		// and the next read tells them apart.
		id := newID("d_")
		var created int64
		err = s.pool.QueryRow(ctx, `WITH dm AS (
				INSERT INTO conversations (id, kind, created_by, created_at, dm_key)
				VALUES ($1, 'dm', $2, `+sqlNow+`, $4)
				ON CONFLICT DO NOTHING
				RETURNING id, created_at
			), pair AS (
				INSERT INTO members (conv_id, user_id, joined_at)
				SELECT id, $2, created_at FROM dm
				UNION ALL SELECT id, $3, created_at FROM dm
			)
			SELECT created_at FROM dm`, id, a, b, key).Scan(&created)
		if err == nil {
			return chat.Conversation{ID: id, Kind: chat.KindDM, CreatedBy: a, CreatedAt: fromNanos(created), Members: 2}, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return chat.Conversation{}, internal("open dm", err)
		}
		if attempt == 3 {
			return chat.Conversation{}, internal("open dm", errors.New("no DM after repeated conflicts"))
		}
	}
}

const (
	convColumns = `c.id, c.kind, c.name, c.topic, c.created_by, c.created_at, c.last_seq,
		(SELECT count(*) FROM members m WHERE m.conv_id = c.id)`
	sqlDMByKey = `SELECT ` + convColumns + ` FROM conversations c WHERE c.dm_key = $1`
)

// scanConversation reads one row of convColumns.
func scanConversation(row pgx.Row) (chat.Conversation, error) {
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
	if !storable(id) {
		return chat.Conversation{}, chat.ErrNotFound
	}
	c, err := scanConversation(s.pool.QueryRow(ctx, `SELECT `+convColumns+` FROM conversations c WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return chat.Conversation{}, chat.ErrNotFound
	}
	if err != nil {
		return chat.Conversation{}, internal("conversation", err)
	}
	return c, nil
}

// Rooms lists every room, oldest first, with member counts.
func (s *Store) Rooms(ctx context.Context) ([]chat.Conversation, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+convColumns+`
		FROM conversations c WHERE c.kind = 'room' ORDER BY c.created_at, c.ord`)
	if err != nil {
		return nil, internal("rooms", err)
	}
	return collectConversations(rows, "rooms")
}

// UserConversations lists the rooms and DMs userID belongs to, oldest
// first. A DM's Name is the other member's display name, empty if that user
// is unknown.
func (s *Store) UserConversations(ctx context.Context, userID string) ([]chat.Conversation, error) {
	if !storable(userID) {
		return []chat.Conversation{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT c.id, c.kind,
			CASE c.kind WHEN 'dm' THEN COALESCE((
				SELECT u.name FROM members o JOIN users u ON u.id = o.user_id
				WHERE o.conv_id = c.id AND o.user_id <> me.user_id LIMIT 1), '')
			ELSE c.name END,
			c.topic, c.created_by, c.created_at, c.last_seq,
			(SELECT count(*) FROM members m WHERE m.conv_id = c.id)
		FROM members me JOIN conversations c ON c.id = me.conv_id
		WHERE me.user_id = $1 ORDER BY c.created_at, c.ord`, userID)
	if err != nil {
		return nil, internal("user conversations", err)
	}
	return collectConversations(rows, "user conversations")
}

func collectConversations(rows pgx.Rows, op string) ([]chat.Conversation, error) {
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

// Join makes userID a member of room conv.
//
// With a room limit, the count and the insert must not interleave with
// another Join of the same user (on any node), or both could slip under
// the limit: READ COMMITTED would let each count without the other's
// uncommitted row. A transaction-scoped advisory lock keyed on the user
// serialises them; Joins of different users do not wait for each other.
func (s *Store) Join(ctx context.Context, conv, userID string, maxRooms int) error {
	if !storable(conv) {
		return chat.ErrNotFound
	}
	if userID == "" || !storable(userID) {
		return chat.Errorf(chat.CodeInvalidField, "invalid user id")
	}
	return s.inTx(ctx, "join", func(tx pgx.Tx) error {
		limited := maxRooms > 0
		if limited {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockJoin, userID); err != nil {
				return err
			}
		}
		// A statement after the lock, so its snapshot includes the
		// Joins that held the lock before us.
		var kind string
		var member bool
		var rooms int
		err := tx.QueryRow(ctx, `SELECT c.kind,
				EXISTS (SELECT 1 FROM members WHERE conv_id = c.id AND user_id = $2),
				CASE WHEN $3::bool THEN (SELECT count(*) FROM members m JOIN conversations r ON r.id = m.conv_id
					WHERE m.user_id = $2 AND r.kind = 'room') ELSE 0 END
			FROM conversations c WHERE c.id = $1`, conv, userID, limited).Scan(&kind, &member, &rooms)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && kind != string(chat.KindRoom)) {
			return chat.ErrNotFound
		}
		if err != nil {
			return err
		}
		if member {
			return nil
		}
		if limited && rooms >= maxRooms {
			return chat.Errorf(chat.CodeRoomLimit, "you can be in at most %d rooms; leave one first", maxRooms)
		}
		// DO NOTHING: an unlimited Join of the same pair may have won
		// the race; joining twice is not an error.
		_, err = tx.Exec(ctx, `INSERT INTO members (conv_id, user_id, joined_at) VALUES ($1, $2, `+sqlNow+`)
			ON CONFLICT DO NOTHING`, conv, userID)
		return err
	})
}

// Leave removes userID from room conv. Leaving a DM is refused with
// CodeForbidden; an unknown conversation is chat.ErrNotFound. One
// statement: the delete runs only when the conversation is a room, and the
// kind it returns tells the caller which case it was.
func (s *Store) Leave(ctx context.Context, conv, userID string) error {
	if !storable(conv) {
		return chat.ErrNotFound
	}
	if !storable(userID) {
		return nil // no such member can exist
	}
	var kind string
	err := s.pool.QueryRow(ctx, `WITH c AS (
			SELECT kind FROM conversations WHERE id = $1
		), gone AS (
			DELETE FROM members WHERE conv_id = $1 AND user_id = $2 AND (SELECT kind FROM c) = 'room'
		)
		SELECT kind FROM c`, conv, userID).Scan(&kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return chat.ErrNotFound
	}
	if err != nil {
		return internal("leave", err)
	}
	if kind != string(chat.KindRoom) {
		return chat.Errorf(chat.CodeForbidden, "you cannot leave a direct conversation")
	}
	return nil
}

// IsMember reports whether userID belongs to conv (false for an unknown
// conversation).
func (s *Store) IsMember(ctx context.Context, conv, userID string) (bool, error) {
	if !storable(conv) || !storable(userID) {
		return false, nil
	}
	var ok bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM members WHERE conv_id = $1 AND user_id = $2)`,
		conv, userID).Scan(&ok); err != nil {
		return false, internal("is member", err)
	}
	return ok, nil
}

// Members lists conv's members, oldest membership first. Users the store
// has never seen appear with their ID only.
func (s *Store) Members(ctx context.Context, conv string) ([]chat.Member, error) {
	if !storable(conv) {
		return []chat.Member{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT m.user_id, COALESCE(u.name, ''), COALESCE(u.role, ''), m.joined_at
		FROM members m LEFT JOIN users u ON u.id = m.user_id
		WHERE m.conv_id = $1 ORDER BY m.joined_at, m.ord`, conv)
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
	if !storable(conv) {
		return chat.RoomPolicy{}, chat.ErrNotFound
	}
	var kind string
	var hold *bool
	err := s.pool.QueryRow(ctx, `SELECT c.kind, p.hold_imminent FROM conversations c
		LEFT JOIN room_policies p ON p.conv_id = c.id WHERE c.id = $1`, conv).Scan(&kind, &hold)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && kind != string(chat.KindRoom)) {
		return chat.RoomPolicy{}, chat.ErrNotFound
	}
	if err != nil {
		return chat.RoomPolicy{}, internal("room policy", err)
	}
	return chat.RoomPolicy{HoldImminent: hold != nil && *hold}, nil
}

// SetRoomPolicy replaces room conv's policy.
func (s *Store) SetRoomPolicy(ctx context.Context, conv string, p chat.RoomPolicy) error {
	if _, err := s.RoomPolicy(ctx, conv); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO room_policies (conv_id, hold_imminent) VALUES ($1, $2)
		ON CONFLICT (conv_id) DO UPDATE SET hold_imminent = EXCLUDED.hold_imminent`, conv, p.HoldImminent)
	if err != nil {
		return internal("set room policy", err)
	}
	return nil
}
