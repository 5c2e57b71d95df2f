package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sqlstore"
)

// The steps of Append (see its comment): read, decide, write, apply.

// Append's statements look keys up in tables that grow by the second, and
// the planner must not get a chance to scan them whole. Two measures, both
// found necessary by measuring (a batch of 64 went from 2 ms to over 10 ms
// within seconds of a fresh schema):
//
//   - Arrays of keys are looked up one key at a time, in a LATERAL subquery
//     with LIMIT (which the planner cannot flatten into a join), or with one
//     statement per key. A join against the array instead is planned as a
//     hash join over the whole table whenever the statistics make the table
//     look small, and without statistics the default selectivity of
//     kind = 'message' (0.5%) always does.
//   - Custom plans (plan_cache_mode, for Append's transaction only): a
//     cached generic plan is costed on the table sizes of the day it was
//     made and kept until autovacuum next analyzes; a custom plan sees the
//     current sizes. Planning these statements costs microseconds.
const (
	sqlCustomPlans = `SET LOCAL plan_cache_mode = force_custom_plan`
	// ORDER BY makes every batch lock in the same order, so two batches
	// sharing conversations queue instead of deadlocking: the row locks
	// are taken as rows leave the sort. NO KEY UPDATE is the lock an
	// UPDATE of last_seq needs anyway, and it leaves the foreign-key
	// checks of concurrent Joins (KEY SHARE) unblocked.
	sqlLockConvs = `SELECT id, last_seq FROM conversations WHERE id = ANY($1::text[])
		ORDER BY id FOR NO KEY UPDATE`
	sqlMembers = `SELECT p.i FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS p(conv, usr, i)
		CROSS JOIN LATERAL (SELECT 1 FROM members m
			WHERE m.conv_id = p.conv AND m.user_id = p.usr LIMIT 1) AS m`
	// Both return rows of eventState, plus the position in the request.
	eventState = `e.seq, e.kind = 'message', e.sender_id, e.body, e.created_at, e.edited_at, e.deleted, e.hidden, e.key_id`
	sqlDups    = `SELECT k.i, e.* FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS k(conv, usr, cid, i)
		CROSS JOIN LATERAL (SELECT ` + eventState + ` FROM events e
			WHERE e.conv_id = k.conv AND e.sender_id = k.usr AND e.client_id = k.cid
				AND e.kind = 'message' AND e.client_id IS NOT NULL LIMIT 1) AS e`
	sqlTargets = `SELECT t.i, e.* FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS t(conv, seq, i)
		CROSS JOIN LATERAL (SELECT ` + eventState + ` FROM events e
			WHERE e.conv_id = t.conv AND e.seq = t.seq LIMIT 1) AS e`

	// Empty client ids, zero targets and unedited messages are NULL in
	// the table; arrays of plain values encode without reflection. No
	// lookup here, and so no plan to get wrong.
	sqlInsertEvents = `INSERT INTO events
		(conv_id, seq, kind, sender_id, client_id, body, target_seq, created_at, edited_at, deleted, hidden, key_id)
		SELECT conv, seq, kind, sender, NULLIF(client, ''), body, NULLIF(target, 0), created,
			CASE WHEN has_edit THEN edited END, deleted, hidden, key_id
		FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::bigint[], $8::bigint[], $9::bigint[], $10::bool[], $11::bool[], $12::bigint[], $13::text[])
			AS r(conv, seq, kind, sender, client, body, target, created, edited, has_edit, deleted, hidden, key_id)`
	// One statement per stored message a batch edits or deletes (few: most
	// batches have none), so each is a primary-key update.
	sqlUpdateMessage = `UPDATE events SET body = $3, edited_at = $4, deleted = $5, hidden = $6, key_id = $7
		WHERE conv_id = $1 AND seq = $2`
	// A deleted message's text must not survive in the edits that
	// changed it either.
	sqlBlankEdits = `UPDATE events SET body = ''
		WHERE conv_id = $1 AND target_seq = $2 AND kind = 'edit' AND body <> ''`
	// Nor is it pinned any more.
	sqlUnpin = `DELETE FROM pins WHERE conv_id = $1 AND seq = $2`
	// One statement for every conversation of the batch, each row already
	// locked (step 1), so the new last_seq is known: a batch spread over
	// 200 conversations used to send (and, with custom plans, plan) 200
	// UPDATEs. conversations is looked up by primary key; it grows with
	// rooms and DMs, not with messages.
	sqlBumpSeqs = `UPDATE conversations c SET last_seq = d.last
		FROM unnest($1::text[], $2::bigint[]) AS d(id, last) WHERE c.id = d.id`
)

// read is step 1: one pipelined round trip.
func (b *appendBatch) read(ctx context.Context, conn *pgxpool.Conn) error {
	var q pgx.Batch
	q.Queue("BEGIN")
	q.Queue(sqlCustomPlans)
	q.Queue(sqlLockConvs, b.convIDs).Query(func(rows pgx.Rows) error {
		var id string
		var last int64
		for rows.Next() {
			if err := rows.Scan(&id, &last); err != nil {
				return err
			}
			if c := b.convs[id]; c != nil {
				c.locked, c.last, c.next = true, last, last+1
			}
		}
		return rows.Err()
	})
	// After the locks, so that times follow sequence numbers.
	q.Queue(`SELECT ` + sqlNow).QueryRow(func(row pgx.Row) error { return row.Scan(&b.now) })

	convs, users := make([]string, len(b.pairs)), make([]string, len(b.pairs))
	for i, p := range b.pairs {
		convs[i], users[i] = p.conv, p.user
	}
	q.Queue(sqlMembers, convs, users).Query(func(rows pgx.Rows) error {
		var i int64
		for rows.Next() {
			if err := rows.Scan(&i); err != nil {
				return err
			}
			b.member[i-1] = true
		}
		return rows.Err()
	})

	if len(b.clients) > 0 {
		cc, cu, ci := make([]string, len(b.clients)), make([]string, len(b.clients)), make([]string, len(b.clients))
		for i, k := range b.clients {
			cc[i], cu[i], ci[i] = k.conv, k.user, k.client
		}
		q.Queue(sqlDups, cc, cu, ci).Query(func(rows pgx.Rows) error {
			return b.scanStates(rows, func(i int, seq int64) msgKey {
				k := b.clients[i]
				b.byClient[k] = seq
				return msgKey{k.conv, seq}
			})
		})
	}
	if len(b.targets) > 0 {
		tc, ts := make([]string, len(b.targets)), make([]int64, len(b.targets))
		for i, k := range b.targets {
			tc[i], ts[i] = k.conv, k.seq
		}
		q.Queue(sqlTargets, tc, ts).Query(func(rows pgx.Rows) error {
			return b.scanStates(rows, func(i int, _ int64) msgKey { return b.targets[i] })
		})
	}
	return conn.SendBatch(ctx, &q).Close()
}

// scanStates reads rows of (position, eventState) into b.msgs; key maps a
// 0-based position to the event it names.
func (b *appendBatch) scanStates(rows pgx.Rows, key func(i int, seq int64) msgKey) error {
	var (
		i      int64
		edited pgtype.Int8
		keyID  string
	)
	for rows.Next() {
		m := &msgState{stored: true}
		var seq int64
		if err := rows.Scan(&i, &seq, &m.isMessage, &m.sender, &m.body, &m.created, &edited, &m.deleted, &m.hidden, &keyID); err != nil {
			return err
		}
		m.edited, m.hasEdit = edited.Int64, edited.Valid
		k := key(int(i-1), seq)
		var err error
		if m.body, err = sqlstore.OpenBody(b.keys, &b.ad, k.conv, k.seq, keyID, m.body); err != nil {
			return err
		}
		// A message may be both a duplicate's original and a target;
		// both reads saw the same locked state.
		if _, ok := b.msgs[k]; !ok {
			b.msgs[k] = m
		}
	}
	return rows.Err()
}

// decide walks the items in order, as the SQLite store applies them one by
// one, and fills b.out and the rows to write.
func (b *appendBatch) decide() {
	for i := range b.items {
		o := &b.out[i]
		if o.err != nil {
			continue
		}
		e := &b.items[i].Event
		c := b.convs[e.Conv]
		if e.Kind == chat.EventHide {
			b.decideHide(o, e, c, i)
			continue
		}
		// An unknown conversation is not locked, and has no members:
		// ErrNotMember, as in the SQLite store.
		if !c.locked || !b.member[b.pairIdx[pairKey{e.Conv, e.Sender}]] {
			o.err = chat.ErrNotMember
			continue
		}
		ts := b.now
		if !e.Time.IsZero() {
			ts = e.Time.UnixNano()
		}
		if e.Kind == chat.EventMessage {
			b.decideMessage(o, e, c, ts)
		} else {
			b.decideChange(o, e, c, ts, i)
		}
	}
}

// decideMessage numbers message e, or finds it a duplicate of a message
// stored before or earlier in the batch.
func (b *appendBatch) decideMessage(o *outcome, e *chat.Event, c *convState, ts int64) {
	ck := clientKey{e.Conv, e.Sender, e.ClientID}
	if e.ClientID != "" {
		if seq, ok := b.byClient[ck]; ok {
			m := b.msgs[msgKey{e.Conv, seq}]
			*o = outcome{dup: true, seq: seq, ts: m.created, body: m.body,
				edited: m.edited, hasEdit: m.hasEdit, deleted: m.deleted}
			return
		}
	}
	m := &msgState{isMessage: true, sender: e.Sender, body: e.Body, created: ts}
	seq := c.next
	c.next++
	b.rows = append(b.rows, eventRow{conv: e.Conv, kind: string(chat.EventMessage), sender: e.Sender,
		client: e.ClientID, body: e.Body, seq: seq, created: ts, msg: m})
	b.msgs[msgKey{e.Conv, seq}] = m
	if e.ClientID != "" {
		b.byClient[ck] = seq
	}
	o.seq, o.ts = seq, ts
}

// decideChange numbers edit or delete e and applies it to the state of
// its target, or refuses it.
func (b *appendBatch) decideChange(o *outcome, e *chat.Event, c *convState, ts int64, item int) {
	m := b.msgs[msgKey{e.Conv, e.Target}]
	switch {
	case e.Target <= 0 || m == nil || !m.isMessage:
		o.err = chat.ErrNotFound
		return
	case m.sender != e.Sender:
		o.err = chat.ErrNotAuthor
		return
	case m.deleted:
		o.err = chat.ErrDeleted
		return
	}
	body := e.Body
	if e.Kind == chat.EventDelete {
		body = ""
		b.erase(m, e.Conv, e.Target, item)
	} else {
		m.body, m.edited, m.hasEdit = body, ts, true
		b.touched(m, e.Conv, e.Target)
	}
	seq := c.next
	c.next++
	b.rows = append(b.rows, eventRow{conv: e.Conv, kind: string(e.Kind), sender: e.Sender,
		client: e.ClientID, body: body, target: e.Target, seq: seq, created: ts})
	o.seq, o.ts = seq, ts
}

// decideHide numbers hide e and erases its target, or refuses it (see
// chat.AppendItem): a moderator's, so no membership or authorship check.
func (b *appendBatch) decideHide(o *outcome, e *chat.Event, c *convState, item int) {
	m := b.msgs[msgKey{e.Conv, e.Target}]
	switch {
	case !c.locked || e.Target <= 0 || m == nil || !m.isMessage:
		o.err = chat.ErrNotFound
		return
	case m.hidden > 0:
		*o = outcome{dup: true, seq: m.hidden, ts: b.now, deleted: true}
		return
	case m.deleted:
		o.err = chat.ErrDeleted
		return
	}
	ts := b.now
	if !e.Time.IsZero() {
		ts = e.Time.UnixNano()
	}
	seq := c.next
	c.next++
	m.hidden = seq
	b.erase(m, e.Conv, e.Target, item)
	b.rows = append(b.rows, eventRow{conv: e.Conv, kind: string(chat.EventHide), target: e.Target, seq: seq, created: ts})
	o.seq, o.ts = seq, ts
}

// erase makes message m (seq of conv) a tombstone for item: its text, and
// that of the edits of it (those this batch is about to insert here, the
// stored ones in step 2), is blanked, and its pin removed.
func (b *appendBatch) erase(m *msgState, conv string, seq int64, item int) {
	m.body, m.deleted = "", true
	for j := range b.rows {
		r := &b.rows[j]
		if r.kind == string(chat.EventEdit) && r.conv == conv && r.target == seq {
			r.body = ""
		}
	}
	if m.stored {
		b.blank = append(b.blank, msgKey{conv, seq})
		b.blankBy = append(b.blankBy, item)
	}
	b.touched(m, conv, seq)
}

// touched lists stored message m for the update of step 2.
func (b *appendBatch) touched(m *msgState, conv string, seq int64) {
	if m.stored && !m.dirty {
		m.dirty = true
		b.dirty = append(b.dirty, msgKey{conv, seq})
	}
}

// write is step 2: one pipelined round trip ending in COMMIT. A statement
// that fails makes PostgreSQL skip the rest of the pipeline, COMMIT
// included, so the batch is stored whole or not at all.
func (b *appendBatch) write(ctx context.Context, conn *pgxpool.Conn) error {
	var q pgx.Batch

	n := len(b.rows)
	var (
		conv, kind, sender, client, body = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seq, target, created, edited     = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		hasEdit, deleted                 = make([]bool, n), make([]bool, n)
		hidden                           = make([]int64, n)
		keyID                            = make([]string, n)
		err                              error
	)
	for i, r := range b.rows {
		conv[i], kind[i], sender[i], client[i], body[i] = r.conv, r.kind, r.sender, r.client, r.body
		seq[i], target[i], created[i] = r.seq, r.target, r.created
		if m := r.msg; m != nil {
			// A message inserted now is written in its final state,
			// after the batch's own edits and deletes of it.
			body[i], edited[i], hasEdit[i], deleted[i], hidden[i] = m.body, m.edited, m.hasEdit, m.deleted, m.hidden
		}
		if keyID[i], body[i], err = b.seal(r.conv, r.seq, body[i]); err != nil {
			return err
		}
	}
	q.Queue(sqlInsertEvents, conv, seq, kind, sender, client, body, target, created, edited, hasEdit, deleted, hidden, keyID).
		Exec(func(ct pgconn.CommandTag) error {
			if ct.RowsAffected() != int64(n) {
				return fmt.Errorf("inserted %d events of %d", ct.RowsAffected(), n)
			}
			return nil
		})

	for _, k := range b.dirty {
		m := b.msgs[k]
		var edited *int64
		if m.hasEdit {
			edited = &m.edited
		}
		keyID, body, err := b.seal(k.conv, k.seq, m.body)
		if err != nil {
			return err
		}
		q.Queue(sqlUpdateMessage, k.conv, k.seq, body, edited, m.deleted, m.hidden, keyID)
	}
	for i, k := range b.blank {
		o := &b.out[b.blankBy[i]]
		q.Queue(sqlBlankEdits, k.conv, k.seq)
		q.Queue(sqlUnpin, k.conv, k.seq).Exec(func(ct pgconn.CommandTag) error {
			o.unpinned = ct.RowsAffected() > 0
			return nil
		})
	}
	b.bumpSeqs(&q)
	q.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		if ct.String() == "COMMIT" {
			return nil
		}
		return fmt.Errorf("commit ended in %q", ct.String())
	})
	return conn.SendBatch(ctx, &q).Close()
}

// bumpSeqs queues the update of last_seq of every conversation the batch
// numbered events in.
func (b *appendBatch) bumpSeqs(q *pgx.Batch) {
	ids, lasts := make([]string, 0, len(b.convIDs)), make([]int64, 0, len(b.convIDs))
	for _, id := range b.convIDs {
		if c := b.convs[id]; c.locked && c.next-1 > c.last {
			ids, lasts = append(ids, id), append(lasts, c.next-1)
		}
	}
	if len(ids) == 0 {
		return
	}
	q.Queue(sqlBumpSeqs, ids, lasts).Exec(func(ct pgconn.CommandTag) error {
		if ct.RowsAffected() != int64(len(ids)) {
			return fmt.Errorf("bumped last_seq of %d conversations of %d", ct.RowsAffected(), len(ids))
		}
		return nil
	})
}

// seal returns body as event seq of conv stores it (sqlstore.SealBody).
func (b *appendBatch) seal(conv string, seq int64, body string) (keyID, value string, err error) {
	return sqlstore.SealBody(b.keys, &b.ad, conv, seq, body)
}

// apply reports the outcomes in the items, once the batch has committed
// (or had nothing to write).
func (b *appendBatch) apply() {
	for i := range b.items {
		it, o := &b.items[i], &b.out[i]
		it.Err, it.Duplicate, it.Unpinned = o.err, false, o.unpinned
		e := &it.Event
		e.Seq = 0
		if o.err != nil {
			continue
		}
		e.Seq = o.seq
		e.Time = fromNanos(o.ts)
		switch {
		case o.dup:
			it.Duplicate = true
			e.Body, e.Deleted, e.EditedAt = o.body, o.deleted, nil
			if o.hasEdit {
				t := fromNanos(o.edited)
				e.EditedAt = &t
			}
		case e.Kind == chat.EventDelete:
			e.Body = ""
		}
		if e.Kind == chat.EventHide {
			e.Sender, e.Body, e.ClientID = "", "", ""
		}
	}
}
