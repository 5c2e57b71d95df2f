package postgres

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kindred-health/kindred/chat"
)

// commitTimeout bounds the write round trip of Append, which runs detached
// from the caller's context (see Append).
const commitTimeout = 15 * time.Second

// Append stores items in one transaction. See chat.Store and
// chat.AppendItem for the contract.
//
// It takes two round trips, however many items and conversations the batch
// holds:
//
//  1. BEGIN; lock the batch's conversations in id order and read their
//     last_seq; read the clock; which (conversation, sender) pairs are
//     members; the stored messages that carry the batch's client ids; the
//     stored events its edits and deletes target. All pipelined.
//  2. Insert every new event (one INSERT over arrays); apply edits and
//     deletes to stored messages and blank the edits of deleted ones (one
//     UPDATE each); bump last_seq; COMMIT. All pipelined.
//
// In between, the batch is decided in Go, item by item and in order, on the
// state read in step 1 plus what earlier items did: refusals, duplicates,
// sequence numbers, and the final state of every message touched. That is
// sound because the conversation locks are held from step 1 to the commit
// and every writer of a conversation's events takes its lock first: nothing
// read in step 1 can change before we write.
//
// Why no "INSERT ... ON CONFLICT DO NOTHING" per message to detect
// duplicates: each insert would need the previous one's outcome before the
// next could be numbered, one round trip per message. Duplicates are found
// by reading the client-id index under the lock instead. The unique index
// stays as the backstop: if a copy ever slipped through, the plain INSERT
// would fail, which aborts the transaction, so the batch is not stored and
// the caller's retry finds the copy in step 1. Likewise the (conv_id, seq)
// primary key guarantees that no sequence number is handed out twice.
//
// Cancellation: ctx governs step 1, including waiting for the locks. Once
// step 2 is sent the outcome is up to PostgreSQL, so it runs detached from
// ctx (bounded by commitTimeout): cancelling while COMMIT is in flight could
// otherwise report a failure for a batch that was in fact stored. A
// connection lost during step 2 still leaves that outcome unknown, as with
// any database; idempotent client ids make the caller's retry safe.
//
// When Append returns an error, Seq, Duplicate and Err of every item are
// reset and nothing else in items is changed.
func (s *Store) Append(ctx context.Context, items []chat.AppendItem) (err error) {
	if len(items) == 0 {
		return nil
	}
	b := newAppendBatch(items)
	defer func() {
		if err != nil {
			for i := range items {
				items[i].Event.Seq = 0
				items[i].Duplicate = false
				items[i].Err = nil
			}
		}
	}()
	if len(b.convIDs) == 0 {
		// Every item was refused before touching the database.
		b.apply()
		return nil
	}

	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return internal("append", err)
	}
	defer conn.Release()
	committed := false
	defer func() {
		if !committed {
			rollback(conn)
		}
	}()

	if err := b.read(ctx, conn); err != nil {
		return internal("append", err)
	}
	b.decide()
	if len(b.rows) == 0 {
		// Only refusals and duplicates: nothing to write. The deferred
		// rollback releases the locks.
		b.apply()
		return nil
	}
	if err := ctx.Err(); err != nil {
		return internal("append", err)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if err := b.write(wctx, conn); err != nil {
		return internal("append", err)
	}
	committed = true
	b.apply()
	return nil
}

// rollback ends the transaction left open on conn by a failed Append, so
// that the connection can go back to the pool. When that is not possible
// (the connection broke, or the rollback fails), Release sees a connection
// that is not idle and destroys it, and PostgreSQL rolls back when the
// session ends: either way nothing of the batch is stored.
func rollback(conn *pgxpool.Conn) {
	pc := conn.Conn().PgConn()
	if pc.IsClosed() || pc.IsBusy() || pc.TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = conn.Exec(ctx, "ROLLBACK") // on failure Release destroys the connection
}

// msgKey names one event of one conversation.
type msgKey struct {
	conv string
	seq  int64
}

type pairKey struct{ conv, user string }

type clientKey struct{ conv, user, client string }

// convState tracks one conversation touched by the batch.
type convState struct {
	locked bool  // the conversation exists and its row is locked
	last   int64 // last_seq read under the lock
	next   int64 // next sequence number to hand out
}

// msgState is the state of a message the batch looked at: read in step 1,
// or inserted by an earlier item, then changed by later items.
type msgState struct {
	isMessage bool // false for a stored edit or delete someone targeted
	sender    string
	body      string
	created   int64
	edited    int64
	hasEdit   bool
	deleted   bool
	stored    bool // stored before this batch (else a row of b.rows)
	dirty     bool // stored, and changed by this batch (listed in b.dirty)
}

// eventRow is one events row the batch inserts.
type eventRow struct {
	conv, kind, sender, client, body string
	seq, target, created             int64
	msg                              *msgState // message rows: final state
}

// outcome is what Append reports for one item, applied to the items only
// once the batch has committed.
type outcome struct {
	err     error
	seq     int64
	ts      int64
	dup     bool
	body    string // duplicates: the original's state when the item was met
	edited  int64
	hasEdit bool
	deleted bool
}

// appendBatch is the state of one Append call.
type appendBatch struct {
	items []chat.AppendItem
	out   []outcome

	convs   map[string]*convState
	convIDs []string // sorted: the lock order

	pairs    []pairKey // distinct (conversation, sender)
	pairIdx  map[pairKey]int
	member   []bool
	clients  []clientKey // distinct client ids of messages
	targets  []msgKey    // distinct targets of edits and deletes
	msgs     map[msgKey]*msgState
	byClient map[clientKey]int64 // client id -> seq of the message

	now   int64
	rows  []eventRow
	dirty []msgKey // stored messages the batch edits or deletes
	blank []msgKey // stored messages the batch deletes
}

// newAppendBatch validates items and gathers what step 1 must read.
func newAppendBatch(items []chat.AppendItem) *appendBatch {
	b := &appendBatch{
		items:    items,
		out:      make([]outcome, len(items)),
		convs:    make(map[string]*convState, 2),
		pairIdx:  make(map[pairKey]int, 8),
		msgs:     make(map[msgKey]*msgState, len(items)),
		byClient: make(map[clientKey]int64, len(items)),
		rows:     make([]eventRow, 0, len(items)),
	}
	seenClient := make(map[clientKey]struct{}, len(items))
	seenTarget := make(map[msgKey]struct{})
	for i := range items {
		e := &items[i].Event
		switch e.Kind {
		case chat.EventMessage, chat.EventEdit, chat.EventDelete:
		default:
			b.out[i].err = chat.Errorf(chat.CodeInvalidField, "unknown event kind %q", e.Kind)
			continue
		}
		if !storable(e.Conv) || !storable(e.Sender) || !storable(e.ClientID) || !storable(e.Body) {
			b.out[i].err = errInvalidText("the message")
			continue
		}
		if _, ok := b.convs[e.Conv]; !ok {
			b.convs[e.Conv] = &convState{}
			b.convIDs = append(b.convIDs, e.Conv)
		}
		pk := pairKey{e.Conv, e.Sender}
		if _, ok := b.pairIdx[pk]; !ok {
			b.pairIdx[pk] = len(b.pairs)
			b.pairs = append(b.pairs, pk)
		}
		switch {
		case e.Kind == chat.EventMessage && e.ClientID != "":
			ck := clientKey{e.Conv, e.Sender, e.ClientID}
			if _, ok := seenClient[ck]; !ok {
				seenClient[ck] = struct{}{}
				b.clients = append(b.clients, ck)
			}
		case e.Kind != chat.EventMessage && e.Target > 0:
			tk := msgKey{e.Conv, e.Target}
			if _, ok := seenTarget[tk]; !ok {
				seenTarget[tk] = struct{}{}
				b.targets = append(b.targets, tk)
			}
		}
	}
	slices.Sort(b.convIDs)
	b.member = make([]bool, len(b.pairs))
	return b
}

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
	eventState = `e.seq, e.kind = 'message', e.sender_id, e.body, e.created_at, e.edited_at, e.deleted`
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
		(conv_id, seq, kind, sender_id, client_id, body, target_seq, created_at, edited_at, deleted)
		SELECT conv, seq, kind, sender, NULLIF(client, ''), body, NULLIF(target, 0), created,
			CASE WHEN has_edit THEN edited END, deleted
		FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::bigint[], $8::bigint[], $9::bigint[], $10::bool[], $11::bool[])
			AS r(conv, seq, kind, sender, client, body, target, created, edited, has_edit, deleted)`
	// One statement per stored message a batch edits or deletes (few: most
	// batches have none), so each is a primary-key update.
	sqlUpdateMessage = `UPDATE events SET body = $3, edited_at = $4, deleted = $5
		WHERE conv_id = $1 AND seq = $2`
	// A deleted message's text must not survive in the edits that
	// changed it either.
	sqlBlankEdits = `UPDATE events SET body = ''
		WHERE conv_id = $1 AND target_seq = $2 AND kind = 'edit' AND body <> ''`
	// One per conversation; the row is already locked.
	sqlBumpSeq = `UPDATE conversations SET last_seq = last_seq + $2 WHERE id = $1`
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
	)
	for rows.Next() {
		m := &msgState{stored: true}
		var seq int64
		if err := rows.Scan(&i, &seq, &m.isMessage, &m.sender, &m.body, &m.created, &edited, &m.deleted); err != nil {
			return err
		}
		m.edited, m.hasEdit = edited.Int64, edited.Valid
		k := key(int(i-1), seq)
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
			ck := clientKey{e.Conv, e.Sender, e.ClientID}
			if e.ClientID != "" {
				if seq, ok := b.byClient[ck]; ok {
					m := b.msgs[msgKey{e.Conv, seq}]
					*o = outcome{dup: true, seq: seq, ts: m.created, body: m.body,
						edited: m.edited, hasEdit: m.hasEdit, deleted: m.deleted}
					continue
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
			continue
		}

		// Edit or delete.
		m := b.msgs[msgKey{e.Conv, e.Target}]
		switch {
		case e.Target <= 0 || m == nil || !m.isMessage:
			o.err = chat.ErrNotFound
			continue
		case m.sender != e.Sender:
			o.err = chat.ErrNotAuthor
			continue
		case m.deleted:
			o.err = chat.ErrDeleted
			continue
		}
		body := e.Body
		if e.Kind == chat.EventDelete {
			body = ""
			m.body, m.deleted = "", true
			// Blank the edits of this message: those this batch is
			// about to insert here, the stored ones in step 2.
			for j := range b.rows {
				r := &b.rows[j]
				if r.kind == string(chat.EventEdit) && r.conv == e.Conv && r.target == e.Target {
					r.body = ""
				}
			}
			if m.stored {
				b.blank = append(b.blank, msgKey{e.Conv, e.Target})
			}
		} else {
			m.body, m.edited, m.hasEdit = body, ts, true
		}
		if m.stored && !m.dirty {
			m.dirty = true
			b.dirty = append(b.dirty, msgKey{e.Conv, e.Target})
		}
		seq := c.next
		c.next++
		b.rows = append(b.rows, eventRow{conv: e.Conv, kind: string(e.Kind), sender: e.Sender,
			client: e.ClientID, body: body, target: e.Target, seq: seq, created: ts})
		o.seq, o.ts = seq, ts
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
	)
	for i, r := range b.rows {
		conv[i], kind[i], sender[i], client[i], body[i] = r.conv, r.kind, r.sender, r.client, r.body
		seq[i], target[i], created[i] = r.seq, r.target, r.created
		if m := r.msg; m != nil {
			// A message inserted now is written in its final state,
			// after the batch's own edits and deletes of it.
			body[i], edited[i], hasEdit[i], deleted[i] = m.body, m.edited, m.hasEdit, m.deleted
		}
	}
	q.Queue(sqlInsertEvents, conv, seq, kind, sender, client, body, target, created, edited, hasEdit, deleted).
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
		q.Queue(sqlUpdateMessage, k.conv, k.seq, m.body, edited, m.deleted)
	}
	for _, k := range b.blank {
		q.Queue(sqlBlankEdits, k.conv, k.seq)
	}
	for _, id := range b.convIDs {
		if c := b.convs[id]; c.locked && c.next-1 > c.last {
			q.Queue(sqlBumpSeq, id, c.next-1-c.last)
		}
	}
	q.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		if ct.String() == "COMMIT" {
			return nil
		}
		return fmt.Errorf("commit ended in %q", ct.String())
	})
	return conn.SendBatch(ctx, &q).Close()
}

// apply reports the outcomes in the items, once the batch has committed
// (or had nothing to write).
func (b *appendBatch) apply() {
	for i := range b.items {
		it, o := &b.items[i], &b.out[i]
		it.Err, it.Duplicate = o.err, false
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
	}
}

// History returns messages of conv in their current state, ascending. See
// chat.Store. When both before and after are given, only messages strictly
// between them qualify and the newest of those are returned (before wins,
// as for a client scrolling up towards a gap). A limit <= 0 returns none.
func (s *Store) History(ctx context.Context, conv string, before, after int64, limit int) ([]chat.Event, error) {
	if limit <= 0 || !storable(conv) {
		return []chat.Event{}, nil
	}
	if before <= 0 && after > 0 {
		rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+`
			WHERE e.conv_id = $1 AND e.kind = 'message' AND e.seq > $2
			ORDER BY e.seq LIMIT $3`, conv, after, limit)
		if err != nil {
			return nil, internal("history", err)
		}
		return scanEvents(rows, conv, limit, "history")
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+`
		WHERE e.conv_id = $1 AND e.kind = 'message' AND e.seq < $2 AND e.seq > $3
		ORDER BY e.seq DESC LIMIT $4`, conv, before, max(after, 0), limit)
	if err != nil {
		return nil, internal("history", err)
	}
	evs, err := scanEvents(rows, conv, limit, "history")
	if err != nil {
		return nil, err
	}
	slices.Reverse(evs)
	return evs, nil
}

// EventsAfter returns the log entries of conv with Seq > after, ascending,
// at most limit (none when limit <= 0).
//
// Each entry is returned as stored, as in the SQLite store: edit and delete
// entries carry their Target and their own Body; a message entry shows the
// message's current state, and a deleted message's text is erased
// everywhere, including from the edits that preceded the deletion.
// Replaying the entries in order ends in the state History shows.
func (s *Store) EventsAfter(ctx context.Context, conv string, after int64, limit int) ([]chat.Event, error) {
	if limit <= 0 || !storable(conv) {
		return []chat.Event{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+`
		WHERE e.conv_id = $1 AND e.seq > $2
		ORDER BY e.seq LIMIT $3`, conv, max(after, 0), limit)
	if err != nil {
		return nil, internal("events after", err)
	}
	return scanEvents(rows, conv, limit, "events after")
}

const eventColumns = `e.seq, e.kind, e.sender_id, COALESCE(u.name, ''), COALESCE(e.client_id, ''),
		e.body, COALESCE(e.target_seq, 0), e.created_at, e.edited_at, e.deleted
		FROM events e LEFT JOIN users u ON u.id = e.sender_id`

// scanEvents reads rows of eventColumns.
func scanEvents(rows pgx.Rows, conv string, limit int, op string) ([]chat.Event, error) {
	defer rows.Close()
	out := make([]chat.Event, 0, min(limit, 256))
	var (
		kind    pgtype.DriverBytes // valid until the next row: compared, never kept
		created int64
		edited  pgtype.Int8
	)
	for rows.Next() {
		e := chat.Event{Conv: conv}
		if err := rows.Scan(&e.Seq, &kind, &e.Sender, &e.Name, &e.ClientID, &e.Body,
			&e.Target, &created, &edited, &e.Deleted); err != nil {
			return nil, internal(op, err)
		}
		e.Kind = chat.EventKindOf(kind)
		e.Time = fromNanos(created)
		if edited.Valid {
			t := fromNanos(edited.Int64)
			e.EditedAt = &t
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	return out, nil
}
