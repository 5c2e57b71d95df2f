package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// Statements are prepared once at Open. On the write side they live on the
// single write connection, so tx.StmtContext reuses them without preparing
// again; that matters for Append, which runs several per message.

// writeStmts are used inside Append transactions.
type writeStmts struct {
	// memberSeq reports membership and, in the same lookup, the
	// conversation's last_seq.
	memberSeq *sql.Stmt
	// insertEvent does nothing (0 rows affected) when the message is a
	// duplicate on (conv_id, sender_id, client_id).
	insertEvent  *sql.Stmt
	findClientID *sql.Stmt
	findTarget   *sql.Stmt
	applyEdit    *sql.Stmt
	applyDelete  *sql.Stmt
	blankEdits   *sql.Stmt
	setLastSeq   *sql.Stmt
}

// readStmts serve the hot read paths on the read pool.
type readStmts struct {
	historyDesc  *sql.Stmt
	historyAsc   *sql.Stmt
	eventsAfter  *sql.Stmt
	isMember     *sql.Stmt
	conversation *sql.Stmt
	dmByKey      *sql.Stmt
}

const (
	sqlMemberSeq = `SELECT c.last_seq FROM members m JOIN conversations c ON c.id = m.conv_id
		WHERE m.conv_id = ? AND m.user_id = ?`
	sqlInsertEvent = `INSERT INTO events
		(conv_id, seq, kind, sender_id, client_id, body, target_seq, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (conv_id, sender_id, client_id)
			WHERE kind = 'message' AND client_id IS NOT NULL DO NOTHING`
	sqlFindClientID = `SELECT seq, body, created_at, edited_at, deleted FROM events
		WHERE conv_id = ? AND sender_id = ? AND client_id = ? AND kind = 'message'`
	// Comparisons are done in SQL so that no strings are scanned.
	sqlFindTarget = `SELECT kind = 'message', sender_id = ?, deleted FROM events
		WHERE conv_id = ? AND seq = ?`
	sqlApplyEdit   = `UPDATE events SET body = ?, edited_at = ? WHERE conv_id = ? AND seq = ?`
	sqlApplyDelete = `UPDATE events SET body = '', deleted = 1 WHERE conv_id = ? AND seq = ?`
	// A deleted message's text must not survive in the edits that
	// changed it either.
	sqlBlankEdits = `UPDATE events SET body = '' WHERE conv_id = ? AND target_seq = ? AND kind = 'edit'`
	sqlSetLastSeq = `UPDATE conversations SET last_seq = ? WHERE id = ?`

	eventColumns = `e.seq, e.kind, e.sender_id, COALESCE(u.name, ''), COALESCE(e.client_id, ''),
		e.body, COALESCE(e.target_seq, 0), e.created_at, e.edited_at, e.deleted
		FROM events e LEFT JOIN users u ON u.id = e.sender_id`
	// Newest messages in (after, before), newest first; History reverses.
	sqlHistoryDesc = `SELECT ` + eventColumns + `
		WHERE e.conv_id = ? AND e.kind = 'message' AND e.seq < ? AND e.seq > ?
		ORDER BY e.seq DESC LIMIT ?`
	sqlHistoryAsc = `SELECT ` + eventColumns + `
		WHERE e.conv_id = ? AND e.kind = 'message' AND e.seq > ?
		ORDER BY e.seq LIMIT ?`
	sqlEventsAfter = `SELECT ` + eventColumns + `
		WHERE e.conv_id = ? AND e.seq > ?
		ORDER BY e.seq LIMIT ?`
	sqlIsMember = `SELECT COUNT(*) FROM members WHERE conv_id = ? AND user_id = ?`

	convColumns = `c.id, c.kind, c.name, c.topic, c.created_by, c.created_at, c.last_seq,
		(SELECT COUNT(*) FROM members m WHERE m.conv_id = c.id)`
	sqlConversation = `SELECT ` + convColumns + ` FROM conversations c WHERE c.id = ?`
	sqlDMByKey      = `SELECT ` + convColumns + ` FROM conversations c WHERE c.dm_key = ?`
)

func (s *Store) prepare(ctx context.Context) error {
	var err error
	w := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = s.w.PrepareContext(ctx, q)
		return st
	}
	r := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = s.r.PrepareContext(ctx, q)
		return st
	}
	s.ws = writeStmts{
		memberSeq:    w(sqlMemberSeq),
		insertEvent:  w(sqlInsertEvent),
		findClientID: w(sqlFindClientID),
		findTarget:   w(sqlFindTarget),
		applyEdit:    w(sqlApplyEdit),
		applyDelete:  w(sqlApplyDelete),
		blankEdits:   w(sqlBlankEdits),
		setLastSeq:   w(sqlSetLastSeq),
	}
	s.rs = readStmts{
		historyDesc:  r(sqlHistoryDesc),
		historyAsc:   r(sqlHistoryAsc),
		eventsAfter:  r(sqlEventsAfter),
		isMember:     r(sqlIsMember),
		conversation: r(sqlConversation),
		dmByKey:      r(sqlDMByKey),
	}
	if err != nil {
		return internal("prepare", err)
	}
	return nil
}

func closeStmts(sts ...*sql.Stmt) error {
	var errs []error
	for _, st := range sts {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

func (w *writeStmts) close() error {
	return closeStmts(w.memberSeq, w.insertEvent, w.findClientID, w.findTarget,
		w.applyEdit, w.applyDelete, w.blankEdits, w.setLastSeq)
}

func (r *readStmts) close() error {
	return closeStmts(r.historyDesc, r.historyAsc, r.eventsAfter, r.isMember,
		r.conversation, r.dmByKey)
}
