package main

import (
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sealer"
	"github.com/kindred-health/kindred/chat/store/sqlstore"
)

// pebbleLog is an event log on Pebble, a log-structured merge tree, with
// what Append needs: an event per (room, seq) key, a (room, sender, client
// id) key per message for duplicates, sealed bodies, and a durable commit
// per batch. Rooms, members and each room's last sequence number are in
// memory, as the SQLite store's cache holds them (a real store would
// recover the last sequence numbers at open by a reverse scan per room).
type pebbleLog struct {
	db      *pebble.DB
	keys    *sealer.Ring
	members map[string]map[string]bool
	last    map[string]int64

	b    *pebble.Batch
	seen map[string]bool // client-id keys of the batch being built
	key  []byte
	val  []byte
	ad   []byte
}

func openPebble(dir string, keys *sealer.Ring) (*pebbleLog, error) {
	db, err := pebble.Open(dir, &pebble.Options{Logger: quiet{}})
	if err != nil {
		return nil, err
	}
	return &pebbleLog{db: db, keys: keys, members: map[string]map[string]bool{},
		last: map[string]int64{}, seen: map[string]bool{}}, nil
}

func (l *pebbleLog) seed(ctx context.Context, w *workload) error {
	w.ids = make([]string, w.rooms)
	w.users = make([][]string, w.rooms)
	for r := range w.ids {
		id := "r" + strconv.Itoa(r)
		w.ids[r] = id
		l.members[id] = map[string]bool{}
		for m := range w.members {
			w.users[r] = append(w.users[r], user(r, m))
			l.members[id][user(r, m)] = true
		}
	}
	for h := range w.history {
		if err := l.write(w.historyBatch(h), pebble.NoSync); err != nil {
			return err
		}
	}
	return l.drain(ctx)
}

func (l *pebbleLog) append(_ context.Context, items []chat.AppendItem) error {
	return l.write(items, pebble.Sync)
}

// write stores items in one batch committed with opts.
func (l *pebbleLog) write(items []chat.AppendItem, opts *pebble.WriteOptions) error {
	l.b = l.db.NewBatch()
	defer func() { l.b.Close(); l.b = nil; clear(l.seen) }()
	next := map[string]int64{}
	for i := range items {
		if err := l.apply(&items[i], next); err != nil {
			return err
		}
	}
	if err := l.b.Commit(opts); err != nil {
		return err
	}
	for conv, seq := range next {
		l.last[conv] = seq
	}
	return nil
}

// apply adds one message to the batch, or marks it a duplicate.
func (l *pebbleLog) apply(it *chat.AppendItem, next map[string]int64) error {
	e := &it.Event
	if !l.members[e.Conv][e.Sender] {
		it.Err = chat.ErrNotMember
		return nil
	}
	l.key = append(append(append(append(append(l.key[:0], 'c'), e.Conv...), 0), e.Sender...), 0)
	l.key = append(l.key, e.ClientID...)
	dup, err := l.has(l.key)
	if err != nil {
		return err
	}
	if dup || l.seen[string(l.key)] {
		it.Duplicate = true
		return nil
	}
	l.seen[string(l.key)] = true
	seq, ok := next[e.Conv]
	if !ok {
		seq = l.last[e.Conv]
	}
	seq++
	next[e.Conv] = seq
	var seqb [8]byte
	binary.BigEndian.PutUint64(seqb[:], uint64(seq))
	if err := l.b.Set(l.key, seqb[:], nil); err != nil {
		return err
	}
	keyID, body, err := sqlstore.SealBody(l.keys, &l.ad, e.Conv, seq, e.Body)
	if err != nil {
		return err
	}
	l.val = encodeEvent(l.val[:0], e, keyID, body, time.Now().UnixNano())
	l.key = append(append(append(append(l.key[:0], 'e'), e.Conv...), 0), seqb[:]...)
	e.Seq = seq
	return l.b.Set(l.key, l.val, nil)
}

func (l *pebbleLog) has(key []byte) (bool, error) {
	_, c, err := l.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, c.Close()
}

// encodeEvent is the stored value of an event: kind, time, sender, client
// id, key id and the sealed body, each string length-prefixed.
func encodeEvent(dst []byte, e *chat.Event, keyID, body string, ts int64) []byte {
	dst = append(dst, byte(len(e.Kind)))
	dst = append(dst, e.Kind...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	for _, s := range []string{e.Sender, e.ClientID, keyID, body} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// drain flushes the memtable and waits until no compaction has run for
// quietFor (the debt estimate need not reach zero: Pebble leaves some).
func (l *pebbleLog) drain(ctx context.Context) error {
	if err := l.db.Flush(); err != nil {
		return err
	}
	const poll, quietFor = 10 * time.Millisecond, 300 * time.Millisecond
	quiet := time.Duration(0)
	for quiet < quietFor {
		if l.db.Metrics().Compact.NumInProgress > 0 {
			quiet = 0
		} else {
			quiet += poll
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
	return nil
}

func (l *pebbleLog) close() error { return l.db.Close() }

// quiet drops Pebble's informational log lines.
type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(format string, args ...any) {
	panic("pebble: " + format)
}
