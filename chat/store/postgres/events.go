package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sealer"
	"github.com/kindred-health/kindred/chat/store/sqlstore"
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
	b.keys = s.Keys()
	defer func() {
		if err != nil {
			for i := range items {
				items[i].Event.Seq = 0
				items[i].Duplicate = false
				items[i].Err = nil
				items[i].Unpinned = false
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
	hidden    int64 // the seq of the hide that hid it; 0: not hidden
	stored    bool  // stored before this batch (else a row of b.rows)
	dirty     bool  // stored, and changed by this batch (listed in b.dirty)
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
	err error
	seq int64
	ts  int64
	dup bool
	// unpinned: the delete or hide removed its target's pin (step 2).
	unpinned bool
	body     string // duplicates: the original's state when the item was met
	edited   int64
	hasEdit  bool
	deleted  bool
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
	blank []msgKey // stored messages the batch deletes or hides
	// blankBy is, for each of blank, the item that erased it.
	blankBy []int

	keys *sealer.Ring // seals bodies as they are written (nil: none)
	ad   []byte       // associated data, one buffer for the batch
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
		case chat.EventMessage, chat.EventEdit, chat.EventDelete, chat.EventHide:
		default:
			b.out[i].err = chat.Errorf(chat.CodeInvalidField, "unknown event kind %q", e.Kind)
			continue
		}
		if !storable(e.Conv) || !storable(e.Sender) || !storable(e.ClientID) || !storable(e.Body) {
			b.out[i].err = sqlstore.ErrInvalidText("the message")
			continue
		}
		if _, ok := b.convs[e.Conv]; !ok {
			b.convs[e.Conv] = &convState{}
			b.convIDs = append(b.convIDs, e.Conv)
		}
		// A hide is a moderator's: no membership to look up.
		if pk := (pairKey{e.Conv, e.Sender}); e.Kind != chat.EventHide {
			if _, ok := b.pairIdx[pk]; !ok {
				b.pairIdx[pk] = len(b.pairs)
				b.pairs = append(b.pairs, pk)
			}
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
