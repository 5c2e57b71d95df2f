package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// Support notes (migration 0016): see chat.Store.

const supportCols = `id, user_id, conv_id, seq, state, created_at, updated_at, dismissed_at`

func scanSupport(r Row) (chat.SupportNote, error) {
	var n chat.SupportNote
	var state string
	var created, updated, dismissed int64
	err := r.Scan(&n.ID, &n.User, &n.Conv, &n.Seq, &state, &created, &updated, &dismissed)
	n.State, n.Created, n.Updated, n.Dismissed = chat.SupportState(state), FromNanos(created), FromNanos(updated), dismissed != 0
	return n, err
}

// checkSupport refuses a note's key or state the table cannot hold.
func (s *Store) checkSupport(user, conv string, seq int64, state chat.SupportState) error {
	switch {
	case user == "" || conv == "" || seq < 0:
		return chat.Errorf(chat.CodeInvalidField, "a support note needs a user, a conversation and a seq of 0 or more")
	case !state.Valid():
		return chat.Errorf(chat.CodeInvalidField, "unknown support note state %.20q", state)
	case !s.d.StoresText(user) || !s.d.StoresText(conv):
		return ErrInvalidText("support note")
	}
	return nil
}

// AddSupportNote records n unless its message already has a note, which
// it returns as it is.
func (s *Store) AddSupportNote(ctx context.Context, n chat.SupportNote) (chat.SupportNote, bool, error) {
	if err := s.checkSupport(n.User, n.Conv, n.Seq, n.State); err != nil {
		return chat.SupportNote{}, false, err
	}
	now := time.Now().UnixNano()
	var out chat.SupportNote
	var added bool
	err := s.inTx(ctx, "add support note", func(t *txn) error {
		k, err := t.exec(ctx, `INSERT INTO support_notes (id, user_id, conv_id, seq, state, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, conv_id, seq) DO NOTHING`,
			newID("sn_"), n.User, n.Conv, n.Seq, string(n.State), now, now)
		if err != nil {
			return err
		}
		added = k == 1
		out, err = scanSupport(t.queryRow(ctx, `SELECT `+supportCols+` FROM support_notes
			WHERE user_id = ? AND conv_id = ? AND seq = ?`, n.User, n.Conv, n.Seq))
		return err
	})
	if err != nil {
		return chat.SupportNote{}, false, err // inTx says what failed
	}
	return out, added, nil
}

// SetSupportState moves the note of (user, conv, seq) to state, creating
// it when missing; only from the states in from (default: any but seen).
func (s *Store) SetSupportState(ctx context.Context, user, conv string, seq int64, state chat.SupportState, from ...chat.SupportState) (chat.SupportNote, bool, error) {
	if err := s.checkSupport(user, conv, seq, state); err != nil {
		return chat.SupportNote{}, false, err
	}
	movable, err := supportFrom(from)
	if err != nil {
		return chat.SupportNote{}, false, err
	}
	now := time.Now().UnixNano()
	var out chat.SupportNote
	var changed bool
	err = s.inTx(ctx, "set support state", func(t *txn) error {
		k, err := t.exec(ctx, `INSERT INTO support_notes (id, user_id, conv_id, seq, state, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, conv_id, seq)
			DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
			WHERE support_notes.state <> excluded.state AND support_notes.state IN (?, ?, ?, ?)`,
			newID("sn_"), user, conv, seq, string(state), now, now, movable[0], movable[1], movable[2], movable[3])
		if err != nil {
			return err
		}
		changed = k == 1
		out, err = scanSupport(t.queryRow(ctx, `SELECT `+supportCols+` FROM support_notes
			WHERE user_id = ? AND conv_id = ? AND seq = ?`, user, conv, seq))
		return err
	})
	if err != nil {
		return chat.SupportNote{}, false, err // inTx says what failed
	}
	return out, changed, nil
}

// supportFrom is the states a note may move from, as the four values of
// an IN list ("" matches none): from, or every state but seen, which is
// final.
func supportFrom(from []chat.SupportState) ([4]string, error) {
	if len(from) == 0 {
		from = []chat.SupportState{chat.SupportPending, chat.SupportTold, chat.SupportUnreached, chat.SupportUnanswered}
	}
	var out [4]string
	i := 0
	for _, st := range from {
		switch {
		case !st.Valid():
			return out, chat.Errorf(chat.CodeInvalidField, "unknown support note state %.20q", st)
		case st == chat.SupportSeen:
			continue
		case i == len(out):
			return out, chat.Errorf(chat.CodeInvalidField, "too many support note states")
		}
		out[i] = string(st)
		i++
	}
	return out, nil
}

// DismissSupportNote dismisses user's note id.
func (s *Store) DismissSupportNote(ctx context.Context, user, id string) (chat.SupportNote, bool, error) {
	if !s.d.StoresText(user) || !s.d.StoresText(id) {
		return chat.SupportNote{}, false, chat.ErrNotFound
	}
	var out chat.SupportNote
	var changed bool
	err := s.inTx(ctx, "dismiss support note", func(t *txn) error {
		k, err := t.exec(ctx, `UPDATE support_notes SET dismissed_at = ?
			WHERE id = ? AND user_id = ? AND dismissed_at = 0`, time.Now().UnixNano(), id, user)
		if err != nil {
			return err
		}
		changed = k == 1
		out, err = scanSupport(t.queryRow(ctx, `SELECT `+supportCols+` FROM support_notes
			WHERE id = ? AND user_id = ?`, id, user))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return chat.SupportNote{}, false, chat.ErrNotFound
	}
	if err != nil {
		return chat.SupportNote{}, false, err // inTx says what failed
	}
	return out, changed, nil
}

// SupportNotes lists user's notes not dismissed, oldest first.
func (s *Store) SupportNotes(ctx context.Context, user string) ([]chat.SupportNote, error) {
	if !s.d.StoresText(user) {
		return []chat.SupportNote{}, nil
	}
	rows, err := s.reads().query(ctx, `SELECT `+supportCols+` FROM support_notes
		WHERE user_id = ? AND dismissed_at = 0 ORDER BY created_at, id`, user)
	if err != nil {
		return nil, s.internal("support notes", err)
	}
	out, err := collect(rows, scanSupport)
	if err != nil {
		return nil, s.internal("support notes", err)
	}
	return out, nil
}
