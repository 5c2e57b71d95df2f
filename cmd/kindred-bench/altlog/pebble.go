package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sealer"
	"github.com/kindred-health/kindred/chat/store/sqlstore"
)

// pebbleLog is an event log on Pebble, a log-structured merge tree, with
// what Append needs: an event per (room, seq) key, a (room, sender, client
// id) key per message for duplicates, a (room, sender) key written on a
// sender's first message in a room (the store's event_senders), sealed
// bodies, and a durable commit per batch. Rooms, memberships and each
// room's last sequence number are in memory, as the SQLite store's cache
// holds them; a real store would also write the last sequence numbers or
// recover them at open by a reverse scan per room.
type pebbleLog struct {
	db      *pebble.DB
	cache   *pebble.Cache
	keys    *sealer.Ring
	members map[string]map[string]bool
	last    map[string]int64

	b    *pebble.Batch
	now  int64            // the batch's timestamp, as the store takes one per Append
	next map[string]int64 // the batch's sequence numbers, committed into last
	seen map[string]bool  // client-id keys of the batch being built
	key  []byte
	val  []byte
	ad   []byte
}

// pebbleOptions are tuned as the SQLite store is (its page cache is 64
// MiB): bloom filters on every level, since every message asks for a
// client-id key that is not there; a block cache of the same size; the
// newest file format.
func pebbleOptions(cache *pebble.Cache) *pebble.Options {
	o := &pebble.Options{Cache: cache, FormatMajorVersion: pebble.FormatNewest, Logger: errorsOnly{}}
	for i := range o.Levels {
		o.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	return o
}

func openPebble(dir string, keys *sealer.Ring) (*pebbleLog, error) {
	cache := pebble.NewCache(64 << 20)
	db, err := pebble.Open(dir, pebbleOptions(cache))
	if err != nil {
		cache.Unref()
		return nil, err
	}
	return &pebbleLog{db: db, cache: cache, keys: keys, members: map[string]map[string]bool{},
		last: map[string]int64{}, next: map[string]int64{}, seen: map[string]bool{}}, nil
}

func (l *pebbleLog) seed(ctx context.Context, w *workload) error {
	w.ids = make([]string, w.rooms)
	w.users = make([][]string, w.rooms)
	for r := range w.ids {
		id := roomID(r)
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

// roomID is room r's id in the shape the store gives ("r_" and 12
// characters), so that keys are as long as a real log's.
func roomID(r int) string { return fmt.Sprintf("r_%012d", r) }

func (l *pebbleLog) append(_ context.Context, items []chat.AppendItem) error {
	return l.write(items, pebble.Sync)
}

// write stores items in one batch committed with opts.
func (l *pebbleLog) write(items []chat.AppendItem, opts *pebble.WriteOptions) error {
	l.b = l.db.NewBatch()
	l.now = time.Now().UnixNano()
	defer func() { l.b.Close(); l.b = nil; clear(l.seen); clear(l.next) }()
	for i := range items {
		if err := l.apply(&items[i]); err != nil {
			return err
		}
	}
	if err := l.b.Commit(opts); err != nil {
		return err
	}
	for conv, seq := range l.next {
		l.last[conv] = seq
	}
	return nil
}

// apply adds one message to the batch, or marks it a duplicate.
func (l *pebbleLog) apply(it *chat.AppendItem) error {
	e := &it.Event
	if !l.members[e.Conv][e.Sender] {
		it.Err = chat.ErrNotMember
		return nil
	}
	seq, ok := l.next[e.Conv]
	if !ok {
		seq = l.last[e.Conv]
	}
	seq++
	var seqb [8]byte
	binary.BigEndian.PutUint64(seqb[:], uint64(seq))
	if e.ClientID != "" { // like the store's unique index, which skips NULL
		dup, err := l.claim(clientKey(l.key[:0], e), seqb[:])
		if err != nil || dup {
			it.Duplicate = dup
			return err
		}
	}
	if err := l.noteSender(e); err != nil {
		return err
	}
	keyID, body, err := sqlstore.SealBody(l.keys, &l.ad, e.Conv, seq, e.Body)
	if err != nil {
		return err
	}
	l.next[e.Conv] = seq
	e.Seq = seq
	l.val = encodeEvent(l.val[:0], e, keyID, body, l.now)
	l.key = append(roomKey(l.key[:0], 'e', e.Conv), seqb[:]...)
	return l.b.Set(l.key, l.val, nil)
}

// claim records key (a client id) for seq, or reports that it was stored
// before, in the database or earlier in this batch.
func (l *pebbleLog) claim(key, seq []byte) (dup bool, err error) {
	l.key = key
	if l.seen[string(key)] {
		return true, nil
	}
	if dup, err = l.has(key); err != nil || dup {
		return dup, err
	}
	l.seen[string(key)] = true
	return false, l.b.Set(key, seq, nil)
}

// noteSender writes the (room, sender) key on the sender's first message
// in the room, as the store's trigger fills event_senders: one lookup
// per message.
func (l *pebbleLog) noteSender(e *chat.Event) error {
	l.key = append(roomKey(l.key[:0], 's', e.Conv), e.Sender...)
	known, err := l.has(l.key)
	if err != nil || known {
		return err
	}
	return l.b.Set(l.key, nil, nil)
}

// roomKey appends a key of kind k in room conv: k, conv, 0.
func roomKey(dst []byte, k byte, conv string) []byte {
	return append(append(append(dst, k), conv...), 0)
}

// clientKey appends the duplicate key of e: room, sender, client id.
func clientKey(dst []byte, e *chat.Event) []byte {
	dst = append(append(roomKey(dst, 'c', e.Conv), e.Sender...), 0)
	return append(dst, e.ClientID...)
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
// quietFor (the debt estimate need not reach zero: Pebble leaves some),
// for at most a minute.
func (l *pebbleLog) drain(ctx context.Context) error {
	if err := l.db.Flush(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	const poll, quietFor = 10 * time.Millisecond, 300 * time.Millisecond
	for idle := time.Duration(0); idle < quietFor; {
		if l.db.Metrics().Compact.NumInProgress > 0 {
			idle = 0
		} else {
			idle += poll
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pebble: compactions still running: %w", ctx.Err())
		case <-time.After(poll):
		}
	}
	return nil
}

// compactAll reports the compaction debt the drain left (Pebble does not
// compact below its thresholds), then compacts the whole key space and
// reports its CPU per measured message: an upper bound on what the debt
// costs, since it also rewrites the seeded history.
func (l *pebbleLog) compactAll(ctx context.Context, msgs int) error {
	debt := l.db.Metrics().Compact.EstimatedDebt
	c0 := cpuTime()
	if err := l.db.Compact(ctx, []byte{0}, []byte{0xff}, true); err != nil {
		return err
	}
	fmt.Printf("pebble: compaction debt left after the drain %.1f MB; a full compaction then costs %.1f µs per measured message\n",
		float64(debt)/1e6, float64((cpuTime()-c0).Nanoseconds())/float64(msgs)/1000)
	return nil
}

func (l *pebbleLog) close() error {
	err := l.db.Close()
	l.cache.Unref()
	return err
}

// errorsOnly drops Pebble's informational lines and keeps its errors
// (a background flush or compaction that failed).
type errorsOnly struct{}

func (errorsOnly) Infof(string, ...any)              {}
func (errorsOnly) Errorf(format string, args ...any) { log.Printf("pebble: "+format, args...) }
func (errorsOnly) Fatalf(format string, args ...any) { log.Fatalf("pebble: "+format, args...) }
