package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sealer"
	"github.com/kindred-health/kindred/chat/store/sqlstore"
)

// convState tracks one conversation touched by an Append batch.
type convState struct {
	id    string
	idArg any   // id boxed once, not once per statement
	last  int64 // last_seq when the batch first touched it
	next  int64 // next sequence number to hand out
}

// memberState caches one (conversation, sender) membership lookup.
type memberState struct {
	conv, user string
	userArg    any // user boxed once, not once per statement
	ci         int // index into batch.convs; -1 when not a member
}

// batch is the state of one Append transaction.
type batch struct {
	ctx    context.Context
	tx     *sql.Tx
	base   *writeStmts // prepared on the write connection
	st     writeStmts  // base bound to tx, on first use (see stmt)
	now    int64
	nowArg any // now, boxed once for all the items that take it

	keys *sealer.Ring // seals bodies as they are written (nil: none)
	ad   []byte       // associated data, one buffer for the batch
	// keyArg is the active key's id, boxed once for the batch.
	keyArg any

	// Small batches touch few conversations and senders; linear search
	// over these beats maps and allocates nothing for the common case.
	convs   []convState
	members []memberState
	// cache is what Append remembers from earlier batches (cache.go);
	// nil when it cannot be trusted for this one.
	cache *writeCache
}

// Append stores items in one write transaction (one fsync for the whole
// batch). See chat.Store and chat.AppendItem for the contract.
//
// Sequence numbers come from conversations.last_seq, read once per
// conversation per batch (or remembered from the last batch that wrote it:
// cache.go) and written back once before commit. The single write
// connection means no other transaction can interleave, and a rolled-back
// batch leaves last_seq untouched, so numbering has no gaps.
//
// When Append returns an error, Seq, Duplicate and Err of every item are
// reset; Event.Time is filled only after a successful commit.
//
// ctx ends the batch between statements (the transaction is rolled back
// and Append returns ctx's error), not inside one: the driver watches a
// context that can end from a goroutine of its own per statement, about
// three per message, which cost more than the statements' own
// allocations. A statement here takes microseconds; the write lock is
// taken at BEGIN, which still watches ctx (a wait for it is bounded by
// busy_timeout). database/sql still watches the transaction's context for
// each query (Rows), a few per batch.
func (s *Store) Append(ctx context.Context, items []chat.AppendItem) (err error) {
	if len(items) == 0 {
		return nil
	}
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return internal("append", err)
	}
	caller := ctx
	ctx = context.WithoutCancel(ctx) // the statements' (tx still watches the caller's)
	defer func() {
		if err != nil {
			if cerr := caller.Err(); cerr != nil {
				// Say why: the statement after a cancel fails with
				// database/sql's ErrTxDone.
				err = internal("append", cerr)
			}
			// Whether a failed commit left anything is not known:
			// the next Append asks the database.
			s.cache.reset()
			rollback(tx)
			for i := range items {
				items[i].Event.Seq = 0
				items[i].Duplicate = false
				items[i].Err = nil
				items[i].Unpinned = false
			}
		}
	}()

	b := batch{
		ctx:     ctx,
		now:     now(),
		tx:      tx,
		base:    &s.ws,
		keys:    s.Keys(),
		convs:   make([]convState, 0, 4),
		members: make([]memberState, 0, 8),
	}
	b.nowArg = b.now
	if b.cache, err = s.cache.begin(ctx, tx, s.ws.dataVersion, &s.wgen); err != nil {
		return internal("append", err)
	}
	for i := range items {
		if err := b.apply(&items[i]); err != nil {
			return internal("append", err)
		}
		if s.afterApply != nil {
			s.afterApply(i)
		}
	}
	for _, c := range b.convs {
		if c.next-1 != c.last {
			if _, err := b.stmt(&b.st.setLastSeq, b.base.setLastSeq).ExecContext(ctx, c.next-1, c.id); err != nil {
				return internal("append", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return internal("append", err)
	}
	if b.cache != nil {
		for _, c := range b.convs {
			b.cache.lastSeq[c.id] = c.next - 1
		}
	}
	// Report the stored time: UTC, as History will return it.
	for i := range items {
		it := &items[i]
		if it.Err == nil && !it.Duplicate {
			it.Event.Time = fromNanos(b.stamp(&it.Event))
		}
	}
	return nil
}

// stmt returns base bound to the batch's transaction, binding it on first
// use: a batch of plain messages needs three of the twelve statements, and
// each binding costs allocations. The statement is already prepared on the
// single write connection, so binding does not prepare it again.
func (b *batch) stmt(bound **sql.Stmt, base *sql.Stmt) *sql.Stmt {
	if *bound == nil {
		*bound = b.tx.StmtContext(b.ctx, base)
	}
	return *bound
}

// seal returns body as event seq of c stores it (sqlstore.SealBody), the
// key id as a statement argument boxed once per batch.
func (b *batch) seal(c *convState, seq int64, body string) (keyID any, value string, err error) {
	id, value, err := sqlstore.SealBody(b.keys, &b.ad, c.id, seq, body)
	if id == "" {
		return "", value, err
	}
	if b.keyArg == nil {
		b.keyArg = id
	}
	return b.keyArg, value, err
}

// stamp is the time stored for e: its own, or the batch's.
func (b *batch) stamp(e *chat.Event) int64 {
	if e.Time.IsZero() {
		return b.now
	}
	return e.Time.UnixNano()
}

// member looks up whether user belongs to conv. When it does, ci is the
// index of the conversation's state in b.convs; otherwise ci is -1.
func (b *batch) member(conv, user string) (memberState, error) {
	for _, m := range b.members {
		if m.conv == conv && m.user == user {
			return m, nil
		}
	}
	m := memberState{conv: conv, user: user, userArg: user, ci: -1}
	last, known := b.remembered(conv, user)
	var err error
	if !known {
		err = b.stmt(&b.st.memberSeq, b.base.memberSeq).QueryRowContext(b.ctx, conv, user).Scan(&last)
		if err == nil && b.cache != nil {
			b.cache.members[memberKey{conv, user}] = struct{}{}
			if _, ok := b.cache.lastSeq[conv]; !ok {
				b.cache.lastSeq[conv] = last
			}
		}
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return m, err
	default:
		// last_seq is read once per batch: later lookups for the same
		// conversation keep the in-memory counter, which is ahead.
		for i := range b.convs {
			if b.convs[i].id == conv {
				m.ci = i
				break
			}
		}
		if m.ci < 0 {
			m.ci = len(b.convs)
			b.convs = append(b.convs, convState{id: conv, idArg: conv, last: last, next: last + 1})
		}
	}
	b.members = append(b.members, m)
	return m, nil
}

// remembered returns what the cache knows of user's membership of conv
// and conv's last_seq, when it knows both.
func (b *batch) remembered(conv, user string) (last int64, ok bool) {
	if b.cache == nil {
		return 0, false
	}
	return b.cache.lookup(conv, user)
}

// kindArg returns k as a statement argument without boxing a new string.
func kindArg(k chat.EventKind) any {
	switch k {
	case chat.EventMessage:
		return "message"
	case chat.EventEdit:
		return "edit"
	case chat.EventHide:
		return "hide"
	default:
		return "delete"
	}
}

// apply writes one item or records its refusal in it.Err. A returned error
// is a database failure that aborts the whole batch.
func (b *batch) apply(it *chat.AppendItem) error {
	it.Duplicate = false
	it.Err = nil
	it.Unpinned = false
	e := &it.Event
	e.Seq = 0

	switch e.Kind {
	case chat.EventMessage, chat.EventEdit, chat.EventDelete:
	case chat.EventHide:
		return b.hide(it)
	default:
		it.Err = chat.Errorf(chat.CodeInvalidField, "unknown event kind %q", e.Kind)
		return nil
	}
	m, err := b.member(e.Conv, e.Sender)
	if err != nil {
		return err
	}
	if m.ci < 0 {
		it.Err = chat.ErrNotMember
		return nil
	}
	c := &b.convs[m.ci]
	ts := b.nowArg
	if !e.Time.IsZero() {
		ts = e.Time.UnixNano()
	}

	// NULL, not "", for a missing client id: see the events table.
	var clientID any
	if e.ClientID != "" {
		clientID = e.ClientID
	}

	if e.Kind == chat.EventMessage {
		return b.message(it, c, m.userArg, ts, clientID)
	}
	return b.change(it, c, m.userArg, ts, clientID)
}

// message inserts message it as the next event of c, or fills it from the
// stored copy it repeats.
func (b *batch) message(it *chat.AppendItem, c *convState, user, ts, clientID any) error {
	e := &it.Event
	keyID, body, err := b.seal(c, c.next, e.Body)
	if err != nil {
		return err
	}
	res, err := b.stmt(&b.st.insertEvent, b.base.insertEvent).ExecContext(b.ctx,
		c.idArg, c.next, kindArg(e.Kind), user, clientID, body, keyID, nil, ts)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 1 {
		e.Seq = c.next
		c.next++
		return nil
	}
	// Conflict on (conv, sender, client id): stored before, possibly
	// earlier in this very transaction.
	return b.duplicate(it)
}

// change inserts edit or delete it as the next event of c and applies it
// to its target, or records why it is refused.
func (b *batch) change(it *chat.AppendItem, c *convState, user, ts, clientID any) error {
	e := &it.Event
	if e.Target <= 0 {
		it.Err = chat.ErrNotFound
		return nil
	}
	var isMessage, isAuthor, deleted bool
	err := b.stmt(&b.st.findTarget, b.base.findTarget).QueryRowContext(b.ctx, user, c.idArg, e.Target).Scan(&isMessage, &isAuthor, &deleted)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && !isMessage):
		it.Err = chat.ErrNotFound
		return nil
	case err != nil:
		return err
	case !isAuthor:
		it.Err = chat.ErrNotAuthor
		return nil
	case deleted:
		it.Err = chat.ErrDeleted
		return nil
	}
	if e.Kind == chat.EventDelete {
		e.Body = ""
	}
	keyID, body, err := b.seal(c, c.next, e.Body)
	if err != nil {
		return err
	}
	if _, err := b.stmt(&b.st.insertEvent, b.base.insertEvent).ExecContext(b.ctx,
		c.idArg, c.next, kindArg(e.Kind), user, clientID, body, keyID, e.Target, ts); err != nil {
		return err
	}
	if e.Kind == chat.EventEdit {
		// The message row gets a value of its own: the edit's is bound
		// to the edit's row.
		if keyID, body, err = b.seal(c, e.Target, e.Body); err != nil {
			return err
		}
		_, err = b.stmt(&b.st.applyEdit, b.base.applyEdit).ExecContext(b.ctx, body, keyID, ts, c.idArg, e.Target)
	} else {
		_, err = b.stmt(&b.st.applyDelete, b.base.applyDelete).ExecContext(b.ctx, c.idArg, e.Target)
		if err == nil {
			err = b.erased(it, c)
		}
	}
	if err != nil {
		return err
	}
	e.Seq = c.next
	c.next++
	return nil
}

// duplicate fills it from the stored message it repeats.
func (b *batch) duplicate(it *chat.AppendItem) error {
	e := &it.Event
	if e.ClientID == "" {
		// Only the client id index can make the insert do nothing.
		return errors.New("message insert ignored without a client id")
	}
	var created int64
	var edited sql.NullInt64
	var keyID string
	if err := b.stmt(&b.st.findClientID, b.base.findClientID).QueryRowContext(b.ctx, e.Conv, e.Sender, e.ClientID).
		Scan(&e.Seq, &e.Body, &keyID, &created, &edited, &e.Deleted); err != nil {
		return err
	}
	var err error
	if e.Body, err = sqlstore.OpenBody(b.keys, &b.ad, e.Conv, e.Seq, keyID, e.Body); err != nil {
		return err
	}
	e.Time = fromNanos(created)
	e.EditedAt = nil
	if edited.Valid {
		t := fromNanos(edited.Int64)
		e.EditedAt = &t
	}
	it.Duplicate = true
	return nil
}

// conv returns the index in b.convs of conversation id, reading its
// last_seq on first use; -1 when it does not exist.
func (b *batch) conv(id string) (int, error) {
	for i := range b.convs {
		if b.convs[i].id == id {
			return i, nil
		}
	}
	var last int64
	err := b.stmt(&b.st.convSeq, b.base.convSeq).QueryRowContext(b.ctx, id).Scan(&last)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return -1, nil
	case err != nil:
		return -1, err
	}
	b.convs = append(b.convs, convState{id: id, idArg: id, last: last, next: last + 1})
	return len(b.convs) - 1, nil
}

// hide inserts hide it as the next event of its conversation and erases
// its target, or records why it is refused (see chat.AppendItem). The
// caller checked the moderator's permission: no membership lookup.
func (b *batch) hide(it *chat.AppendItem) error {
	e := &it.Event
	e.Sender, e.Body, e.ClientID = "", "", ""
	ci, err := b.conv(e.Conv)
	if err != nil {
		return err
	}
	if ci < 0 || e.Target <= 0 {
		it.Err = chat.ErrNotFound
		return nil
	}
	c := &b.convs[ci]
	var isMessage, deleted bool
	var hidden int64
	err = b.stmt(&b.st.findHidden, b.base.findHidden).QueryRowContext(b.ctx, c.idArg, e.Target).Scan(&isMessage, &deleted, &hidden)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && !isMessage):
		it.Err = chat.ErrNotFound
		return nil
	case err != nil:
		return err
	case hidden > 0:
		e.Seq, it.Duplicate = hidden, true
		return nil
	case deleted:
		it.Err = chat.ErrDeleted
		return nil
	}
	if _, err := b.stmt(&b.st.insertEvent, b.base.insertEvent).ExecContext(b.ctx,
		c.idArg, c.next, kindArg(e.Kind), "", nil, "", "", e.Target, b.stamp(e)); err != nil {
		return err
	}
	if _, err := b.stmt(&b.st.applyHide, b.base.applyHide).ExecContext(b.ctx, c.next, c.idArg, e.Target); err != nil {
		return err
	}
	if err := b.erased(it, c); err != nil {
		return err
	}
	e.Seq = c.next
	c.next++
	return nil
}

// erased blanks the edits of it's target, a message of c just deleted or
// hidden, and unpins it.
func (b *batch) erased(it *chat.AppendItem, c *convState) error {
	seq := it.Event.Target
	if _, err := b.stmt(&b.st.blankEdits, b.base.blankEdits).ExecContext(b.ctx, c.idArg, seq); err != nil {
		return err
	}
	res, err := b.stmt(&b.st.unpin, b.base.unpin).ExecContext(b.ctx, c.idArg, seq)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	it.Unpinned = n > 0
	return err
}
