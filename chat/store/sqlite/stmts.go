package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// Append's statements are prepared once at Open. They live on the single
// write connection, so tx.StmtContext reuses them without preparing again;
// that matters for Append, which runs several per message. (The reads are
// sqlstore's, which prepares them on the read pool.)

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
	// Hides (a moderator's, so no membership lookup) and what deletes
	// and hides share.
	convSeq    *sql.Stmt
	findHidden *sql.Stmt
	applyHide  *sql.Stmt
	unpin      *sql.Stmt
	// dataVersion tells Append whether another connection committed
	// since its last batch (cache.go).
	dataVersion *sql.Stmt
}

const (
	sqlMemberSeq = `SELECT c.last_seq FROM members m JOIN conversations c ON c.id = m.conv_id
		WHERE m.conv_id = ? AND m.user_id = ?`
	sqlInsertEvent = `INSERT INTO events
		(conv_id, seq, kind, sender_id, client_id, body, key_id, target_seq, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (conv_id, sender_id, client_id)
			WHERE kind = 'message' AND client_id IS NOT NULL DO NOTHING`
	sqlFindClientID = `SELECT seq, body, key_id, created_at, edited_at, deleted FROM events
		WHERE conv_id = ? AND sender_id = ? AND client_id = ? AND kind = 'message'`
	// Comparisons are done in SQL so that no strings are scanned.
	sqlFindTarget = `SELECT kind = 'message', sender_id = ?, deleted FROM events
		WHERE conv_id = ? AND seq = ?`
	sqlApplyEdit   = `UPDATE events SET body = ?, key_id = ?, edited_at = ? WHERE conv_id = ? AND seq = ?`
	sqlApplyDelete = `UPDATE events SET body = '', deleted = 1 WHERE conv_id = ? AND seq = ?`
	// A deleted message's text must not survive in the edits that
	// changed it either.
	sqlBlankEdits = `UPDATE events SET body = '' WHERE conv_id = ? AND target_seq = ? AND kind = 'edit'`
	sqlSetLastSeq = `UPDATE conversations SET last_seq = ? WHERE id = ?`
	sqlConvSeq    = `SELECT last_seq FROM conversations WHERE id = ?`
	sqlFindHidden = `SELECT kind = 'message', deleted, hidden FROM events
		WHERE conv_id = ? AND seq = ?`
	sqlApplyHide = `UPDATE events SET body = '', deleted = 1, hidden = ? WHERE conv_id = ? AND seq = ?`
	// A deleted or hidden message is no longer pinned.
	sqlUnpin = `DELETE FROM pins WHERE conv_id = ? AND seq = ?`
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
	s.ws = writeStmts{
		memberSeq:    w(sqlMemberSeq),
		insertEvent:  w(sqlInsertEvent),
		findClientID: w(sqlFindClientID),
		findTarget:   w(sqlFindTarget),
		applyEdit:    w(sqlApplyEdit),
		applyDelete:  w(sqlApplyDelete),
		blankEdits:   w(sqlBlankEdits),
		setLastSeq:   w(sqlSetLastSeq),
		convSeq:      w(sqlConvSeq),
		findHidden:   w(sqlFindHidden),
		applyHide:    w(sqlApplyHide),
		unpin:        w(sqlUnpin),
		dataVersion:  w("PRAGMA data_version"),
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
		w.applyEdit, w.applyDelete, w.blankEdits, w.setLastSeq,
		w.convSeq, w.findHidden, w.applyHide, w.unpin, w.dataVersion)
}
