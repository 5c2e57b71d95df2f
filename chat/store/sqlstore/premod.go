package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/kindred-health/kindred/chat"
)

// Pre-moderation: messages held for a room's moderators
// (docs/moderation.md#pre-moderation).

const pendingCols = `id, conv_id, sender_id, name, client_id, body, created_at, state`

func scanPending(r Row) (chat.PendingMessage, error) {
	var p chat.PendingMessage
	var created int64
	var state string
	err := r.Scan(&p.ID, &p.Conv, &p.Sender, &p.Name, &p.ClientID, &p.Body, &created, &state)
	p.Time, p.State = FromNanos(created), chat.PendingState(state)
	return p, err
}

// HoldMessage stores p as waiting for a moderator, unless the same send
// was held (or stored in the log) before.
func (s *Store) HoldMessage(ctx context.Context, p chat.PendingMessage) (chat.PendingMessage, bool, error) {
	if !s.d.StoresText(p.Body) || !s.d.StoresText(p.Name) || !s.d.StoresText(p.ClientID) {
		return chat.PendingMessage{}, false, ErrInvalidText("the message")
	}
	created := false
	err := s.inTx(ctx, "hold message", func(t *txn) error {
		_, err := s.membership(ctx, t, p.Conv, p.Sender)
		if errors.Is(err, chat.ErrNotFound) {
			return chat.ErrNotMember
		}
		if err != nil {
			return err
		}
		var logged bool
		if err := t.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events
			WHERE conv_id = ? AND sender_id = ? AND client_id = ? AND kind = 'message')`,
			p.Conv, p.Sender, p.ClientID).Scan(&logged); err != nil {
			return err
		}
		if logged {
			p = chat.PendingMessage{Conv: p.Conv, Sender: p.Sender, ClientID: p.ClientID, State: chat.PendingApproved}
			return nil
		}
		n, err := t.exec(ctx, `INSERT INTO pending_messages (id, conv_id, sender_id, name, client_id, body, created_at)
			VALUES (?, ?, ?, ?, ?, ?, {now}) ON CONFLICT (conv_id, sender_id, client_id) DO NOTHING`,
			newID("p_"), p.Conv, p.Sender, p.Name, p.ClientID, p.Body)
		if err != nil {
			return err
		}
		created = n == 1
		p, err = scanPending(t.queryRow(ctx, `SELECT `+pendingCols+` FROM pending_messages
			WHERE conv_id = ? AND sender_id = ? AND client_id = ?`, p.Conv, p.Sender, p.ClientID))
		return err
	})
	if err != nil {
		return chat.PendingMessage{}, false, err
	}
	return p, created, nil
}

// PendingMessages lists room conv's undecided messages, oldest first.
func (s *Store) PendingMessages(ctx context.Context, conv string) ([]chat.PendingMessage, error) {
	if !s.d.StoresText(conv) {
		return []chat.PendingMessage{}, nil
	}
	rows, err := s.reads().query(ctx, `SELECT `+pendingCols+` FROM pending_messages
		WHERE conv_id = ? AND state IN ('pending', 'approving') ORDER BY created_at, id LIMIT 500`, conv)
	if err != nil {
		return nil, s.internal("pending messages", err)
	}
	out, err := collect(rows, scanPending)
	if err != nil {
		return nil, s.internal("pending messages", err)
	}
	return out, nil
}

// FindPending returns the message held for sender's send clientID in conv.
func (s *Store) FindPending(ctx context.Context, conv, sender, clientID string) (chat.PendingMessage, error) {
	if !s.d.StoresText(conv) || !s.d.StoresText(sender) || !s.d.StoresText(clientID) {
		return chat.PendingMessage{}, chat.ErrNotFound
	}
	p, err := scanPending(s.reads().queryRow(ctx, `SELECT `+pendingCols+` FROM pending_messages
		WHERE conv_id = ? AND sender_id = ? AND client_id = ?`, conv, sender, clientID))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.PendingMessage{}, chat.ErrNotFound
	}
	if err != nil {
		return chat.PendingMessage{}, s.internal("find pending", err)
	}
	return p, nil
}

// pendingMoves says, for each state a held message may be moved to, the
// states it may come from (see chat.Store.DecidePending).
var pendingMoves = map[chat.PendingState][]chat.PendingState{
	chat.PendingApproving: {chat.PendingWaiting, chat.PendingApproving},
	chat.PendingWaiting:   {chat.PendingApproving},
	chat.PendingApproved:  {chat.PendingApproving},
	chat.PendingRejected:  {chat.PendingWaiting},
}

// DecidePending moves held message id of conv to state to, reading it
// with its row locked (or under SQLite's one writer), so that concurrent
// decisions take turns and only one of them settles it.
func (s *Store) DecidePending(ctx context.Context, conv, id string, to chat.PendingState) (chat.PendingMessage, int, error) {
	from, ok := pendingMoves[to]
	if !ok {
		return chat.PendingMessage{}, 0, chat.Errorf(chat.CodeInvalidField, "no such state of a held message")
	}
	if !s.d.StoresText(conv) || !s.d.StoresText(id) {
		return chat.PendingMessage{}, 0, errNoPending
	}
	var p chat.PendingMessage
	approved := 0
	err := s.inTx(ctx, "decide pending", func(t *txn) error {
		var err error
		p, err = scanPending(t.queryRow(ctx, `SELECT `+pendingCols+` FROM pending_messages
			WHERE conv_id = ? AND id = ?{lock}`, conv, id))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return errNoPending
		case err != nil:
			return err
		case !slices.Contains(from, p.State):
			return pendingConflict(p.State)
		}
		// A settled message keeps no text: an approved one lives on in
		// the log (where hiding it must erase it), a rejected one nowhere.
		settled := to == chat.PendingApproved || to == chat.PendingRejected
		if _, err := t.exec(ctx, `UPDATE pending_messages SET state = ?,
				body = CASE WHEN ? THEN '' ELSE body END,
				decided_at = CASE WHEN ? THEN {now} ELSE decided_at END WHERE id = ?`,
			string(to), settled, settled, id); err != nil {
			return err
		}
		if to != chat.PendingApproved {
			return nil
		}
		if _, err := t.exec(ctx, `UPDATE members SET approved_messages = approved_messages + 1
			WHERE conv_id = ? AND user_id = ?`, conv, p.Sender); err != nil {
			return err
		}
		err = t.queryRow(ctx, `SELECT approved_messages FROM members WHERE conv_id = ? AND user_id = ?`,
			conv, p.Sender).Scan(&approved)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // the sender left meanwhile
		}
		return err
	})
	if err != nil {
		return chat.PendingMessage{}, 0, err
	}
	return p, approved, nil
}

var errNoPending = chat.Errorf(chat.CodeNotFound, "no such message waiting in this room")

// pendingConflict is the refusal of a move from state.
func pendingConflict(state chat.PendingState) error {
	switch state {
	case chat.PendingApproved:
		return chat.Errorf(chat.CodeConflict, "this message was already approved")
	case chat.PendingRejected:
		return chat.Errorf(chat.CodeConflict, "this message was already rejected")
	case chat.PendingApproving:
		return chat.Errorf(chat.CodeConflict, "this message is being approved")
	}
	return chat.Errorf(chat.CodeConflict, "this message is not being approved")
}
