package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kindred-health/kindred/chat"
)

// One user's data: the export and the erasure (chat.Store).

// ExportUser returns everything the store keeps about user.
func (s *Store) ExportUser(ctx context.Context, user string) (chat.UserExport, error) {
	out := chat.UserExport{Memberships: []chat.Membership{}, Messages: []chat.Event{}, Reports: []chat.Report{},
		Blocks: []chat.Block{}, BlockedBy: []string{}, Push: []chat.PushMetadata{}, Support: []chat.SupportNote{},
		Audit: []chat.AuditEntry{}, Holds: []chat.Hold{}, Revocation: chat.Revocation{User: user}}
	if user == "" || !Storable(user) {
		return out, nil
	}
	u, err := s.User(ctx, user)
	if err == nil {
		out.User = &u
	} else if !errors.Is(err, chat.ErrNotFound) {
		return out, err
	}
	steps := []func() error{
		func() (err error) { out.Memberships, err = s.exportMemberships(ctx, user); return err },
		func() (err error) { out.Messages, err = s.exportMessages(ctx, user); return err },
		func() (err error) { out.Reports, err = s.exportReports(ctx, user); return err },
		func() (err error) { out.Blocks, err = s.Blocks(ctx, user); return err },
		func() (err error) { out.BlockedBy, err = s.BlockedBy(ctx, user); return err },
		func() (err error) { out.Push, err = s.exportPush(ctx, user); return err },
		func() (err error) { out.Support, err = s.exportSupport(ctx, user); return err },
		func() (err error) { out.Audit, err = s.exportAudit(ctx, user); return err },
		func() (err error) { out.Holds, err = s.Holds(ctx, user); return err },
		func() (err error) { out.Revocation, err = s.SessionRevocation(ctx, user); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return out, err
		}
	}
	return out, nil
}

// exportQuery runs a read of one user's rows and scans them.
func exportQuery[T any](s *Store, ctx context.Context, op, q string, scan func(Row) (T, error), args ...any) ([]T, error) {
	rows, err := s.reads().query(ctx, q, args...)
	if err != nil {
		return nil, s.internal(op, err)
	}
	out, err := collect(rows, scan)
	if err != nil {
		return nil, s.internal(op, err)
	}
	return out, nil
}

func (s *Store) exportMemberships(ctx context.Context, user string) ([]chat.Membership, error) {
	return exportQuery(s, ctx, "export memberships", `SELECT c.id, c.kind, c.name, m.role, m.joined_at
		FROM members m JOIN conversations c ON c.id = m.conv_id WHERE m.user_id = ? ORDER BY m.joined_at, c.id`,
		func(r Row) (m chat.Membership, err error) {
			var kind, role string
			var at int64
			err = r.Scan(&m.Conv, &kind, &m.Name, &role, &at)
			m.Kind, m.Role, m.JoinedAt = chat.ConversationKind(kind), chat.RoomRole(role), FromNanos(at)
			return m, err
		}, user)
}

func (s *Store) exportMessages(ctx context.Context, user string) ([]chat.Event, error) {
	var ad []byte
	return exportQuery(s, ctx, "export messages", `SELECT conv_id, seq, COALESCE(client_id, ''), body,
			created_at, edited_at, deleted, hidden, key_id
		FROM events WHERE `+bySender+` AND kind = 'message' ORDER BY created_at, conv_id, seq`,
		func(r Row) (e chat.Event, err error) {
			var created int64
			var edited sql.NullInt64
			var hidden int64
			var keyID string
			if err = r.Scan(&e.Conv, &e.Seq, &e.ClientID, &e.Body, &created, &edited, &e.Deleted, &hidden, &keyID); err != nil {
				return e, err
			}
			e.Body, err = OpenBody(s.keys, &ad, e.Conv, e.Seq, keyID, e.Body)
			e.Kind, e.Sender, e.Time, e.Hidden = chat.EventMessage, user, FromNanos(created), hidden > 0
			if edited.Valid {
				t := FromNanos(edited.Int64)
				e.EditedAt = &t
			}
			return e, err
		}, user, user)
}

func (s *Store) exportReports(ctx context.Context, user string) ([]chat.Report, error) {
	return exportQuery(s, ctx, "export reports", `SELECT `+reportCols+`
		WHERE r.reporter = ? OR r.reported = ? ORDER BY r.created_at, r.id`, scanReport, user, user)
}

func (s *Store) exportPush(ctx context.Context, user string) ([]chat.PushMetadata, error) {
	return exportQuery(s, ctx, "export push", `SELECT endpoint, created_at FROM push_subscriptions
		WHERE user_id = ? ORDER BY created_at, endpoint`,
		func(r Row) (p chat.PushMetadata, err error) {
			var at int64
			err = r.Scan(&p.Endpoint, &at)
			p.Created = FromNanos(at)
			return p, err
		}, user)
}

func (s *Store) exportSupport(ctx context.Context, user string) ([]chat.SupportNote, error) {
	return exportQuery(s, ctx, "export support notes", `SELECT `+supportCols+` FROM support_notes
		WHERE user_id = ? ORDER BY created_at, id`, scanSupport, user)
}

func (s *Store) exportAudit(ctx context.Context, user string) ([]chat.AuditEntry, error) {
	return exportQuery(s, ctx, "export audit", `SELECT id, at, actor, action, room, target, reason, detail
		FROM audit_log WHERE actor = ? OR target = ? ORDER BY id`,
		func(r Row) (e chat.AuditEntry, err error) {
			var at int64
			err = r.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Room, &e.Target, &e.Reason, &e.Detail)
			e.At = FromNanos(at)
			return e, err
		}, user, user)
}

// Reasons an erasure gives for what it keeps.
const (
	keptUserHold   = "a legal hold on the user"
	keptRoomHold   = "a legal hold on the room"
	keptOpen       = "an escalation still open or acknowledged keeps its record until it is resolved"
	keptDM         = "the conversation stays for the other person; the user's messages in it are erased"
	keptReports    = "moderation record of the user's conduct (it holds no message text)"
	keptReported   = "the record of a crisis about someone else"
	keptAudit      = "the audit trail is append-only and holds identifiers, never content"
	keptRevocation = "refuses the user's tokens issued before the erasure"
)

// notHeldRoom is true for a row whose conv_id is not under a room hold.
const notHeldRoom = `conv_id NOT IN (SELECT subject FROM legal_holds WHERE kind = 'room')`

// bySender selects the events user wrote, conversation by conversation
// (the conversations event_senders lists, each read by the primary key of
// events); it takes the user twice.
const bySender = `conv_id IN (SELECT conv_id FROM event_senders WHERE user_id = ?) AND sender_id = ?`

// EraseUser erases user's messages and personal data in one transaction.
func (s *Store) EraseUser(ctx context.Context, user string) (chat.Erasure, error) {
	out := chat.Erasure{User: user, Erased: map[string]int{}, Kept: []chat.Kept{}}
	if user == "" || !Storable(user) {
		return out, chat.Errorf(chat.CodeInvalidField, "the user id cannot name a user")
	}
	err := s.inTx(ctx, "erase user", func(t *txn) error {
		held, err := count(ctx, t, `SELECT count(*) FROM legal_holds WHERE kind = 'user' AND subject = ?`, user)
		if err != nil {
			return err
		}
		if held > 0 {
			return s.keepHeldUser(ctx, t, user, &out)
		}
		if err := s.eraseMessages(ctx, t, user, &out); err != nil {
			return err
		}
		if err := s.erasePersonal(ctx, t, user, &out); err != nil {
			return err
		}
		return s.keptRecords(ctx, t, user, &out)
	})
	if err != nil {
		return chat.Erasure{}, err
	}
	return out, nil
}

// count runs a SELECT count(*).
func count(ctx context.Context, t *txn, q string, args ...any) (int, error) {
	var n int
	err := t.queryRow(ctx, q, args...).Scan(&n)
	return n, err
}

// keepHeldUser says what a hold on user keeps: everything.
func (s *Store) keepHeldUser(ctx context.Context, t *txn, user string, out *chat.Erasure) error {
	n, err := count(ctx, t, `SELECT count(*) FROM events WHERE `+bySender+` AND kind = 'message' AND NOT deleted`, user, user)
	if err != nil {
		return err
	}
	out.Kept = append(out.Kept, chat.Kept{What: "messages", Count: n, Reason: keptUserHold},
		chat.Kept{What: "profile and personal data", Count: 1, Reason: keptUserHold})
	return nil
}

// eraseMessages makes user's messages outside held rooms tombstones, as a
// delete does: no body, the edits of them blanked, their pins gone.
func (s *Store) eraseMessages(ctx context.Context, t *txn, user string, out *chat.Erasure) error {
	const mine = `SELECT conv_id, seq FROM events WHERE ` + bySender + ` AND kind = 'message' AND ` + notHeldRoom
	kept, err := count(ctx, t, `SELECT count(*) FROM events WHERE `+bySender+` AND kind = 'message' AND NOT deleted
		AND NOT (`+notHeldRoom+`)`, user, user)
	if err != nil {
		return err
	}
	if kept > 0 {
		out.Kept = append(out.Kept, chat.Kept{What: "messages", Count: kept, Reason: keptRoomHold})
	}
	// Only a message's author edits it: the user's edits are the edits of
	// their messages.
	edits, err := t.exec(ctx, `UPDATE events SET body = '' WHERE `+bySender+` AND kind = 'edit' AND body <> ''
		AND `+notHeldRoom, user, user)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM pins WHERE (conv_id, seq) IN (`+mine+`)`, user, user); err != nil {
		return err
	}
	msgs, err := t.exec(ctx, `UPDATE events SET body = '', deleted = ?
		WHERE `+bySender+` AND kind = 'message' AND (NOT deleted OR body <> '') AND `+notHeldRoom, true, user, user)
	if err != nil {
		return err
	}
	pending, err := t.exec(ctx, `DELETE FROM pending_messages WHERE sender_id = ? AND `+notHeldRoom, user)
	out.Erased["messages"], out.Erased["edits"], out.Erased["held_messages"] = int(msgs), int(edits), int(pending)
	return err
}

// erasePersonal removes user's memberships of rooms not held, blocks,
// push subscriptions, support notes, closed escalations about them, the
// words of the reports they filed, and their profile.
func (s *Store) erasePersonal(ctx context.Context, t *txn, user string, out *chat.Erasure) error {
	closed := `SELECT id FROM escalations WHERE subject_id = ? AND status = 'resolved'`
	if _, err := t.exec(ctx, `DELETE FROM escalation_webhooks WHERE state <> 'pending' AND escalation_id IN (`+closed+`)`, user); err != nil {
		return err
	}
	for _, st := range []struct{ what, q string }{
		{"room_memberships", `DELETE FROM members WHERE user_id = ? AND ` + notHeldRoom + `
			AND conv_id IN (SELECT id FROM conversations WHERE kind = 'room')`},
		{"blocks", `DELETE FROM blocks WHERE blocker = ? OR blocked = ?`},
		{"push_subscriptions", `DELETE FROM push_subscriptions WHERE user_id = ?`},
		{"support_notes", `DELETE FROM support_notes WHERE user_id = ?`},
		{"escalations", `DELETE FROM escalations WHERE id IN (` + closed + `)`},
		{"report_reasons", `UPDATE reports SET reason = '' WHERE reporter = ? AND reason <> ''`},
		{"profile", `DELETE FROM users WHERE id = ?`},
	} {
		args := []any{user}
		if st.what == "blocks" {
			args = append(args, user)
		}
		n, err := t.exec(ctx, st.q, args...)
		if err != nil {
			return err
		}
		out.Erased[st.what] = int(n)
	}
	return nil
}

// keptRecords counts what the erasure keeps on purpose, and why.
func (s *Store) keptRecords(ctx context.Context, t *txn, user string, out *chat.Erasure) error {
	for _, k := range []struct{ what, reason, q string }{
		{"room_memberships", keptRoomHold, `SELECT count(*) FROM members WHERE user_id = ?
			AND conv_id IN (SELECT id FROM conversations WHERE kind = 'room')`},
		{"dm_memberships", keptDM, `SELECT count(*) FROM members WHERE user_id = ?
			AND conv_id IN (SELECT id FROM conversations WHERE kind = 'dm')`},
		{"escalations", keptOpen, `SELECT count(*) FROM escalations WHERE subject_id = ? AND status <> 'resolved'`},
		{"escalations_reported", keptReported, `SELECT count(*) FROM escalations WHERE reported_by = ? AND subject_id <> reported_by`},
		{"reports_about", keptReports, `SELECT count(*) FROM reports WHERE reported = ?`},
		{"audit_entries", keptAudit, `SELECT count(*) FROM audit_log WHERE actor = ? OR target = ?`},
		{"session_revocation", keptRevocation, `SELECT count(*) FROM session_revocations WHERE user_id = ?`},
	} {
		args := []any{user}
		if k.what == "audit_entries" {
			args = append(args, user)
		}
		n, err := count(ctx, t, k.q, args...)
		if err != nil {
			return err
		}
		if n > 0 {
			out.Kept = append(out.Kept, chat.Kept{What: k.what, Count: n, Reason: k.reason})
		}
	}
	return nil
}
