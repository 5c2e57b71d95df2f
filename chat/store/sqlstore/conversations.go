package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/kindred-health/kindred/chat"
)

// UpsertUser records u or refreshes its name and role. An unchanged user
// is not rewritten, so a reconnect storm costs no writes.
func (s *Store) UpsertUser(ctx context.Context, u chat.User) error {
	if u.ID == "" {
		return chat.Errorf(chat.CodeInvalidField, "user id is empty")
	}
	if !s.d.StoresText(u.ID) || !s.d.StoresText(u.Name) || !s.d.StoresText(u.Role) {
		return ErrInvalidText("the user's id, name or role")
	}
	_, err := s.exec(ctx, `INSERT INTO users (id, name, role, updated_at) VALUES (?, ?, ?, {now})
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, updated_at = excluded.updated_at
		WHERE users.name <> excluded.name OR users.role <> excluded.role`,
		u.ID, u.Name, u.Role)
	if err != nil {
		return s.internal("upsert user", err)
	}
	return nil
}

// User returns a known user, or chat.ErrNotFound.
func (s *Store) User(ctx context.Context, id string) (chat.User, error) {
	if !s.d.StoresText(id) {
		return chat.User{}, chat.ErrNotFound
	}
	u := chat.User{ID: id}
	err := s.reads().queryRow(ctx, `SELECT name, role FROM users WHERE id = ?`, id).Scan(&u.Name, &u.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, chat.ErrNotFound
	}
	if err != nil {
		return chat.User{}, s.internal("user", err)
	}
	return u, nil
}

// UsersByRole lists the users with one of roles, ordered by ID.
func (s *Store) UsersByRole(ctx context.Context, roles ...string) ([]chat.User, error) {
	args := make([]any, 0, len(roles))
	for _, r := range roles {
		if s.d.StoresText(r) {
			args = append(args, r)
		}
	}
	if len(args) == 0 {
		return nil, nil
	}
	q := `SELECT id, name, role FROM users WHERE role IN (?` + strings.Repeat(",?", len(args)-1) + `) ORDER BY id`
	rows, err := s.reads().queryBuilt(ctx, q, args...)
	if err != nil {
		return nil, s.internal("users by role", err)
	}
	out, err := collect(rows, func(r Row) (u chat.User, err error) {
		return u, r.Scan(&u.ID, &u.Name, &u.Role)
	})
	if err != nil {
		return nil, s.internal("users by role", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// CreateRoom creates room c with c.CreatedBy as its first member and
// owner. An empty c.ID gets a fresh "r_…" ID; a given ID that is taken is
// refused with CodeConflict. An empty CreatedBy makes a room with no
// members (rooms seeded by the operator). Empty settings get their
// defaults (chat.RoomSettings.WithDefaults).
func (s *Store) CreateRoom(ctx context.Context, c chat.Conversation) (chat.Conversation, error) {
	if !s.d.StoresText(c.ID) || !s.d.StoresText(c.Name) || !s.d.StoresText(c.Topic) || !s.d.StoresText(c.CreatedBy) {
		return chat.Conversation{}, ErrInvalidText("the room's id, name, topic or creator")
	}
	set := chat.RoomSettings{Visibility: c.Visibility, History: c.History}
	if err := set.Check(); err != nil {
		return chat.Conversation{}, err
	}
	set = set.WithDefaults()
	c.Visibility, c.History = set.Visibility, set.History
	c.Kind = chat.KindRoom
	c.LastSeq = 0
	c.Members = 0
	generated := c.ID == ""
	err := s.inTx(ctx, "create room", func(t *txn) error {
		var created int64
		for attempt := 0; ; attempt++ {
			if generated {
				c.ID = newID("r_")
			}
			err := t.queryRow(ctx, `INSERT INTO conversations (id, kind, name, topic, created_by, created_at, visibility, history)
				VALUES (?, 'room', ?, ?, ?, {now}, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING created_at`,
				c.ID, c.Name, c.Topic, c.CreatedBy, string(c.Visibility), string(c.History)).Scan(&created)
			if err == nil {
				break
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			// The ID is taken. With 60 random bits a clash is all but
			// impossible; a few retries make it impossible in practice.
			if !generated || attempt == 3 {
				return chat.Errorf(chat.CodeConflict, "conversation %q already exists", c.ID)
			}
		}
		c.CreatedAt = FromNanos(created)
		if c.CreatedBy == "" {
			return nil
		}
		c.Members = 1
		_, err := t.exec(ctx, `INSERT INTO members (conv_id, user_id, joined_at, role) VALUES (?, ?, ?, 'owner')`,
			c.ID, c.CreatedBy, created)
		return err
	})
	if err != nil {
		return chat.Conversation{}, err
	}
	return c, nil
}

// OpenDM returns the DM between a and b, creating it on first use. The
// unique dm_key makes concurrent first calls (on any nodes) agree: one
// INSERT wins, the others do nothing and read the winner. The returned
// Name is empty (it depends on who looks; see UserConversations).
//
// A DM with oneself is refused with CodeInvalidField.
func (s *Store) OpenDM(ctx context.Context, a, b string) (chat.Conversation, error) {
	if a == "" || b == "" || strings.ContainsRune(a, 0) || strings.ContainsRune(b, 0) ||
		!s.d.StoresText(a) || !s.d.StoresText(b) {
		return chat.Conversation{}, chat.Errorf(chat.CodeInvalidField, "invalid user id")
	}
	if a == b {
		return chat.Conversation{}, chat.Errorf(chat.CodeInvalidField, "cannot open a conversation with yourself")
	}
	key := s.d.DMKey(a, b)
	// The DM usually exists: a read is all it takes.
	c, err := scanConversation(s.reads().queryRow(ctx, sqlDMByKey, key))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return chat.Conversation{}, s.internal("open dm", err)
	}
	err = s.inTx(ctx, "open dm", func(t *txn) error {
		c, err = createDM(ctx, t, a, b, key)
		return err
	})
	if err != nil {
		return chat.Conversation{}, err
	}
	return c, nil
}

// createDM inserts the DM of a and b unless it exists, and reads it.
func createDM(ctx context.Context, t *txn, a, b, key string) (chat.Conversation, error) {
	for attempt := 0; ; attempt++ {
		// No conflict target: a clash on dm_key (someone else created
		// the DM meanwhile) and one on the random id both do nothing,
		// and the read below tells them apart.
		id := newID("d_")
		var created int64
		err := t.queryRow(ctx, `INSERT INTO conversations (id, kind, created_by, created_at, dm_key)
			VALUES (?, 'dm', ?, {now}, ?) ON CONFLICT DO NOTHING RETURNING created_at`, id, a, key).Scan(&created)
		switch {
		case err == nil:
			if _, err := t.exec(ctx, `INSERT INTO members (conv_id, user_id, joined_at) VALUES (?, ?, ?), (?, ?, ?)`,
				id, a, created, id, b, created); err != nil {
				return chat.Conversation{}, err
			}
		case !errors.Is(err, sql.ErrNoRows):
			return chat.Conversation{}, err
		}
		c, err := scanConversation(t.queryRow(ctx, sqlDMByKey, key))
		if err == nil || !errors.Is(err, sql.ErrNoRows) || attempt == 3 {
			return c, err
		}
	}
}

const (
	convColumns = `c.id, c.kind, c.name, c.topic, c.created_by, c.created_at, c.last_seq,
		(SELECT count(*) FROM members m WHERE m.conv_id = c.id), c.visibility, c.history,
		c.guidelines, c.guidelines_version, c.locked, c.read_only, c.slow_mode_seconds, c.max_members,
		c.premod_messages, c.retain_days, c.purged_seq`
	sqlConversation = `SELECT ` + convColumns + ` FROM conversations c WHERE c.id = ?`
	sqlDMByKey      = `SELECT ` + convColumns + ` FROM conversations c WHERE c.dm_key = ?`
)

// scanConversation reads one row of convColumns, followed by extra. A
// DM has no settings.
func scanConversation(r Row, extra ...any) (chat.Conversation, error) {
	var c chat.Conversation
	var kind, vis, hist string
	var created int64
	var locked, readOnly int
	dest := []any{&c.ID, &kind, &c.Name, &c.Topic, &c.CreatedBy, &created, &c.LastSeq, &c.Members, &vis, &hist,
		&c.Guidelines, &c.GuidelinesVersion, &locked, &readOnly, &c.SlowModeSeconds, &c.MaxMembers, &c.PremodMessages, &c.RetainDays, &c.PurgedSeq}
	if err := r.Scan(append(dest, extra...)...); err != nil {
		return chat.Conversation{}, err
	}
	c.Kind = chat.ConversationKind(kind)
	c.CreatedAt = FromNanos(created)
	c.Locked, c.ReadOnly = locked != 0, readOnly != 0
	if c.Kind == chat.KindRoom {
		c.Visibility, c.History = chat.Visibility(vis), chat.HistoryMode(hist)
	}
	return c, nil
}

// Conversation returns conversation id with LastSeq and Members, or
// chat.ErrNotFound. A DM's Name is empty.
func (s *Store) Conversation(ctx context.Context, id string) (chat.Conversation, error) {
	if !s.d.StoresText(id) {
		return chat.Conversation{}, chat.ErrNotFound
	}
	c, err := scanConversation(s.reads().queryRow(ctx, sqlConversation, id))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Conversation{}, chat.ErrNotFound
	}
	if err != nil {
		return chat.Conversation{}, s.internal("conversation", err)
	}
	return c, nil
}

// Rooms lists the public rooms and the private rooms viewer belongs to,
// oldest first, with member counts.
func (s *Store) Rooms(ctx context.Context, viewer string) ([]chat.Conversation, error) {
	if !s.d.StoresText(viewer) {
		viewer = "" // names nobody: public rooms only
	}
	rows, err := s.reads().query(ctx, `SELECT `+convColumns+`
		FROM conversations c WHERE c.kind = 'room' AND (c.visibility = 'public'
			OR EXISTS (SELECT 1 FROM members v WHERE v.conv_id = c.id AND v.user_id = ?))
		ORDER BY c.created_at, c.{ord}`, viewer)
	if err != nil {
		return nil, s.internal("rooms", err)
	}
	out, err := collect(rows, func(r Row) (chat.Conversation, error) { return scanConversation(r) })
	if err != nil {
		return nil, s.internal("rooms", err)
	}
	return out, nil
}

// UserConversations lists the rooms and DMs userID belongs to, oldest
// first, with userID's role in each. A DM's Name is the other member's
// display name, empty if that user is unknown.
func (s *Store) UserConversations(ctx context.Context, userID string) ([]chat.Conversation, error) {
	if !s.d.StoresText(userID) {
		return []chat.Conversation{}, nil
	}
	rows, err := s.reads().query(ctx, `SELECT c.id, c.kind,
			CASE c.kind WHEN 'dm' THEN COALESCE((
				SELECT u.name FROM members o JOIN users u ON u.id = o.user_id
				WHERE o.conv_id = c.id AND o.user_id <> me.user_id LIMIT 1), '')
			ELSE c.name END,
			c.topic, c.created_by, c.created_at, c.last_seq,
			(SELECT count(*) FROM members m WHERE m.conv_id = c.id), c.visibility, c.history,
			c.guidelines, c.guidelines_version, c.locked, c.read_only, c.slow_mode_seconds, c.max_members,
			c.premod_messages, c.retain_days, c.purged_seq,
			me.role, me.joined_seq, CASE WHEN me.muted_until > {now} THEN me.muted_until ELSE 0 END,
			me.guidelines_accepted, me.approved_messages,
			CASE c.kind WHEN 'dm' THEN COALESCE((SELECT o.user_id FROM members o
				WHERE o.conv_id = c.id AND o.user_id <> me.user_id LIMIT 1), '') ELSE '' END
		FROM members me JOIN conversations c ON c.id = me.conv_id
		WHERE me.user_id = ? ORDER BY c.created_at, c.{ord}`, userID)
	if err != nil {
		return nil, s.internal("user conversations", err)
	}
	out, err := collect(rows, func(r Row) (chat.Conversation, error) {
		var role string
		var joined, muted, accepted int64
		var approved int
		var peer string
		c, err := scanConversation(r, &role, &joined, &muted, &accepted, &approved, &peer)
		c.Role, c.JoinedSeq, c.MutedUntil, c.GuidelinesAccepted = chat.RoomRole(role), joined, muted, accepted
		c.ApprovedMessages, c.Peer = approved, peer
		return c, err
	})
	if err != nil {
		return nil, s.internal("user conversations", err)
	}
	return out, nil
}
