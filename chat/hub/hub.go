// Package hub keeps, on one node, which local connections listen to which
// channel, and hands every publication the broker delivers to exactly those
// connections.
//
// The hub is sharded by channel so that no lock covers all rooms, and it
// never does I/O while holding a lock: Deliver on a subscriber must only
// enqueue. The first local subscriber of a channel subscribes the node to it
// at the broker; the last one to leave unsubscribes it.
//
// Sequenced publications (conversation events) leave the hub in sequence
// order, once each. Publications from several nodes can arrive out of order
// or not at all (Redis drops them while reconnecting), so the hub holds an
// early publication for a short window waiting for the missing ones, then
// fetches what is still missing from the store through a Filler: one store
// read per node and gap, instead of one per connection.
package hub

import (
	"context"
	"hash/maphash"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// Subscriber receives publications. Deliver is called with shard locks
// held and from the broker's delivery goroutine, so it must not block: the
// subscriber enqueues and returns.
type Subscriber interface {
	Deliver(p *chat.Publication)
}

const shardCount = 64

// Filler reads the publications of channel with after < Seq <= upto from
// the store, in order, at most limit of them; upto 0 means no upper bound.
type Filler func(ctx context.Context, channel string, after, upto int64, limit int) ([]*chat.Publication, error)

// Options tune a hub.
type Options struct {
	// Fill fetches missing publications; without it the hub passes gaps
	// on, and subscribers must check sequences themselves (after a loss
	// they are asked to Resync, if they can).
	Fill Filler
	// ReorderWindow is how long an early publication waits for the ones
	// before it before the gap is read from the store. Default 50ms.
	ReorderWindow time.Duration
	Logger        *slog.Logger
}

// Hub is one node's subscription table.
type Hub struct {
	broker chat.Broker
	opts   Options
	seed   maphash.Seed
	shards [shardCount]shard

	ctx    context.Context
	cancel context.CancelFunc
	fills  sync.WaitGroup
}

type shard struct {
	// brokerMu serialises the shard's broker Subscribe and Unsubscribe
	// calls; it is taken before mu and never by the delivery path.
	brokerMu sync.Mutex
	mu       sync.RWMutex
	topics   map[string]*topic
}

type topic struct {
	subs []Subscriber
	// subscribed is set once the broker confirmed the subscription;
	// retrying while the hub keeps trying after a failure.
	subscribed bool

	// mu orders sequenced delivery; it is taken under the shard lock.
	mu sync.Mutex
	// last is the highest sequence delivered or, when known, the position
	// the first subscriber gave (SubscribeAt); otherwise 0 until the first
	// publication, which is then handed over as it comes.
	last  int64
	known bool
	// held are early publications, sorted by Seq, waiting for a gap.
	held    []*chat.Publication
	filling bool
	// lossPending asks a running fill to also read everything after
	// last, because publications may have been lost meanwhile.
	lossPending bool
	retrying    bool
}

// New returns a hub that subscribes channels at b. Call Close when done.
func New(b chat.Broker, opts Options) *Hub {
	if opts.ReorderWindow <= 0 {
		opts.ReorderWindow = 50 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Hub{broker: b, opts: opts, seed: maphash.MakeSeed()}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	for i := range h.shards {
		h.shards[i].topics = make(map[string]*topic)
	}
	return h
}

// Close stops gap fills in progress and waits for them.
func (h *Hub) Close() {
	h.cancel()
	h.fills.Wait()
}

func (h *Hub) shard(channel string) *shard {
	return &h.shards[maphash.String(h.seed, channel)%shardCount]
}

// Subscribe adds s to channel. It returns once the node is subscribed at
// the broker, so that a publication made after Subscribe returns reaches s.
// When the broker cannot subscribe now (Redis unreachable), s is added all
// the same, so local publications still reach it, and the hub keeps
// retrying in the background; once subscribed it reads from the store
// whatever was published meanwhile. Subscribe fails only when ctx ends.
// Subscribing the same s twice delivers twice; callers track their own
// subscriptions.
func (h *Hub) Subscribe(ctx context.Context, channel string, s Subscriber) error {
	return h.subscribe(ctx, channel, s, -1)
}

// SubscribeAt is Subscribe for a sequenced channel whose position the
// caller knows: pos is a sequence already in the store (the newest the
// caller read, 0 for an empty conversation). When the node starts
// following the channel with it, the hub knows from the first publication
// on whether anything is missing, and fills it from the store before
// handing that publication over, so subscribers see every sequence once,
// in order, without checking. A stale pos only costs a fill.
func (h *Hub) SubscribeAt(ctx context.Context, channel string, s Subscriber, pos int64) error {
	return h.subscribe(ctx, channel, s, max(pos, 0))
}

// subscribe adds s to channel; pos < 0 means the position is unknown.
func (h *Hub) subscribe(ctx context.Context, channel string, s Subscriber, pos int64) error {
	sh := h.shard(channel)
	// Broker calls of a shard are serialised, so that a subscribe and an
	// unsubscribe of one channel reach the broker in the order the hub
	// decided them, and a second subscriber waits for the first one's
	// broker subscription instead of returning before it exists.
	sh.brokerMu.Lock()
	defer sh.brokerMu.Unlock()
	sh.mu.Lock()
	t := sh.topics[channel]
	if t == nil {
		t = &topic{}
		sh.topics[channel] = t
	}
	need := !t.subscribed && !t.retrying
	sh.mu.Unlock()
	if pos >= 0 {
		t.mu.Lock()
		if !t.known && t.last == 0 {
			t.known, t.last = true, pos
		}
		t.mu.Unlock()
	}

	var err error
	if need {
		err = h.broker.Subscribe(ctx, channel)
	}

	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err != nil && ctx.Err() != nil {
		if len(t.subs) == 0 {
			delete(sh.topics, channel)
		}
		return err
	}
	t.subs = append(t.subs, s)
	if need && err == nil {
		t.subscribed = true
	}
	if err != nil {
		t.retrying = true
		h.fills.Add(1)
		go h.retrySubscribe(channel, t, err)
	}
	return nil
}

// retrySubscribe subscribes channel at the broker with backoff until it
// works, the channel loses its last subscriber or the hub closes.
func (h *Hub) retrySubscribe(channel string, t *topic, err error) {
	defer h.fills.Done()
	h.opts.Logger.Warn("broker subscribe failed; retrying", "channel", channel, "err", err)
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
		if h.trySubscribe(channel, t) {
			return
		}
	}
}

// trySubscribe makes one retry; it reports whether retrying is over.
func (h *Hub) trySubscribe(channel string, t *topic) bool {
	sh := h.shard(channel)
	sh.brokerMu.Lock()
	defer sh.brokerMu.Unlock()
	sh.mu.RLock()
	wanted := sh.topics[channel] == t
	sh.mu.RUnlock()
	if !wanted {
		return true // its last subscriber left meanwhile
	}
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	err := h.broker.Subscribe(ctx, channel)
	cancel()
	if err != nil {
		return false
	}
	sh.mu.Lock()
	t.retrying, t.subscribed = false, true
	sh.mu.Unlock()
	h.opts.Logger.Info("broker subscribed after retry", "channel", channel)
	h.recover(channel, t)
	return true
}

// Unsubscribe removes s from channel, and the node from the broker's
// channel when s was its last local subscriber.
func (h *Hub) Unsubscribe(ctx context.Context, channel string, s Subscriber) error {
	sh := h.shard(channel)
	sh.brokerMu.Lock()
	defer sh.brokerMu.Unlock()
	sh.mu.Lock()
	t := sh.topics[channel]
	if t == nil {
		sh.mu.Unlock()
		return nil
	}
	for i, x := range t.subs {
		if x == s {
			last := len(t.subs) - 1
			t.subs[i] = t.subs[last]
			t.subs[last] = nil
			t.subs = t.subs[:last]
			break
		}
	}
	empty := len(t.subs) == 0
	if empty {
		delete(sh.topics, channel)
	}
	sh.mu.Unlock()
	if empty && t.subscribed {
		return h.broker.Unsubscribe(ctx, channel)
	}
	return nil
}

// HandlePublication delivers p to every local subscriber of its channel;
// sequenced publications in order and once each.
func (h *Hub) HandlePublication(p *chat.Publication) {
	sh := h.shard(p.Channel)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	t := sh.topics[p.Channel]
	if t == nil {
		return
	}
	if p.Seq <= 0 {
		t.deliver(p)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case (t.last == 0 && !t.known) || p.Seq == t.last+1:
		t.deliver(p)
		t.last = p.Seq
		t.drainHeld()
	case p.Seq <= t.last:
		// Already delivered (a late publication after a fill).
	default:
		i, found := slices.BinarySearchFunc(t.held, p.Seq, func(x *chat.Publication, seq int64) int { return int(x.Seq - seq) })
		switch {
		case found:
		case len(t.held) >= maxHeld:
			// The store has been unreachable for long: read everything
			// after last once it answers instead of holding more.
			clear(t.held)
			t.held = t.held[:0]
			t.lossPending = true
		default:
			t.held = slices.Insert(t.held, i, p)
		}
		if !t.filling {
			t.filling = true
			h.fills.Add(1)
			time.AfterFunc(h.opts.ReorderWindow, func() { h.fill(p.Channel, t, false) })
		}
	}
}

func (t *topic) deliver(p *chat.Publication) {
	for _, s := range t.subs {
		s.Deliver(p)
	}
}

// drainHeld delivers held publications that have become next in line.
func (t *topic) drainHeld() {
	n := 0
	for _, p := range t.held {
		if p.Seq > t.last+1 {
			break
		}
		if p.Seq == t.last+1 {
			t.deliver(p)
			t.last = p.Seq
		}
		n++
	}
	if n > 0 {
		clear(t.held[:n])
		t.held = t.held[n:]
	}
}

const (
	fillPage = 500
	// maxHeld bounds the publications a channel holds while its gap
	// cannot be read from the store.
	maxHeld = 4096
)

// fill reads what is missing before t's held publications (or, after a
// loss, everything after t.last) from the store and delivers it in order.
// While the store fails it keeps trying, with backoff, and holds what
// arrives: subscribers never see a gap.
func (h *Hub) fill(channel string, t *topic, afterLoss bool) {
	defer h.fills.Done()
	sh := h.shard(channel)
	backoff := 50 * time.Millisecond
	for h.ctx.Err() == nil {
		after, upto, ok := t.gap(&afterLoss)
		if !ok {
			return
		}
		var pubs []*chat.Publication
		if h.opts.Fill != nil && (upto == 0 || upto > after) {
			var err error
			pubs, err = h.opts.Fill(h.ctx, channel, after, upto, fillPage)
			if err != nil {
				h.opts.Logger.Warn("gap fill failed; retrying", "channel", channel, "after", after, "err", err)
				if afterLoss {
					t.mu.Lock()
					t.lossPending = true
					t.mu.Unlock()
				}
				select {
				case <-h.ctx.Done():
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
			backoff = 50 * time.Millisecond
		}
		sh.mu.RLock()
		more, done := t.filled(pubs, after, upto, h.opts.Fill == nil)
		sh.mu.RUnlock()
		if done {
			return
		}
		// A full page after a loss means the tail goes on.
		afterLoss = afterLoss && more
	}
}

// gap is what the next round of a fill reads: after < Seq <= upto (upto 0:
// everything after). It reports false, and ends the fill, when nothing is
// missing any more.
func (t *topic) gap(afterLoss *bool) (after, upto int64, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lossPending {
		t.lossPending, *afterLoss = false, true
	}
	if !*afterLoss && len(t.held) == 0 {
		t.filling = false
		return 0, 0, false
	}
	if len(t.held) > 0 {
		upto = t.held[0].Seq - 1
	}
	return t.last, upto, true
}

// filled delivers what a fill read, then the held publications that are
// next in line. Called with the shard's read lock held.
func (t *topic) filled(pubs []*chat.Publication, after, upto int64, noStore bool) (more, done bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// The store has every entry after `after` but those the retention
	// purge removed (from the start of the log): what it skips is gone,
	// so each entry it returns is the next one.
	for _, p := range pubs {
		if p.Seq > t.last {
			t.deliver(p)
			t.last = p.Seq
		}
	}
	t.drainHeld()
	more = len(pubs) == fillPage
	// Held publications past a newer gap are read on the next round;
	// they are passed on as they are only without a store, or when the
	// store has nothing in the gap (its sequences have no gaps, so this
	// does not happen).
	stuck := noStore || (len(pubs) == 0 && upto > after)
	if !more && len(t.held) > 0 && stuck {
		for _, p := range t.held {
			if p.Seq > t.last {
				t.deliver(p)
				t.last = p.Seq
			}
		}
		clear(t.held)
		t.held = t.held[:0]
	}
	done = !more && len(t.held) == 0
	if done {
		t.filling = false
	}
	return more, done
}

// Channels returns how many channels have local subscribers.
func (h *Hub) Channels() int {
	n := 0
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		n += len(sh.topics)
		sh.mu.RUnlock()
	}
	return n
}

// Subscribers returns how many local subscribers channel has.
func (h *Hub) Subscribers(channel string) int {
	sh := h.shard(channel)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if t := sh.topics[channel]; t != nil {
		return len(t.subs)
	}
	return 0
}

// HandleLoss is called when publications may have been lost: for every
// channel whose position the hub knows it reads what followed from the
// store; subscribers of the others (no position known, or no Filler) are
// asked to Resync.
func (h *Hub) HandleLoss() {
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for ch, t := range sh.topics {
			h.recoverLocked(ch, t)
		}
		sh.mu.RUnlock()
	}
}

// recover brings channel's subscribers up to date with the store after
// publications may have been missed.
func (h *Hub) recover(channel string, t *topic) {
	sh := h.shard(channel)
	sh.mu.RLock()
	h.recoverLocked(channel, t)
	sh.mu.RUnlock()
}

// recoverLocked is recover with the shard lock held.
func (h *Hub) recoverLocked(channel string, t *topic) {
	t.mu.Lock()
	known := (t.known || t.last > 0) && h.opts.Fill != nil
	start := known && !t.filling
	if start {
		t.filling = true
	} else if known {
		t.lossPending = true
	}
	t.mu.Unlock()
	if start {
		h.fills.Add(1)
		go h.fill(channel, t, true)
	}
	if !known {
		for _, s := range t.subs {
			if r, ok := s.(Resyncer); ok {
				r.Resync(channel)
			}
		}
	}
}

// Resyncer is implemented by subscribers that can catch up on a channel
// from the store; Resync must not block.
type Resyncer interface {
	Resync(channel string)
}

var _ chat.BrokerHandler = (*Hub)(nil)
