// Package redis is the scale-out chat.Broker, chat.Presence and
// chat.SessionCounter: several Kindred nodes share one Redis, which fans
// publications out between them (Pub/Sub), knows which users are
// connected to any of them and counts each user's sessions (sorted sets
// refreshed by heartbeats).
//
// Redis Pub/Sub is fire-and-forget: a node whose subscriber connection is
// down misses what is published meanwhile, and Redis keeps nothing to replay.
// The Broker therefore owns its subscriber connection instead of letting
// go-redis reconnect behind its back, so it knows when that happened and can
// call HandleLoss, which makes receivers re-check the Store.
//
// Every key and channel is under the prefix given to the constructors, so
// deployments (and tests) sharing one Redis stay apart.
package redis

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kindred-health/kindred/chat"
)

var _ chat.Broker = (*Broker)(nil)

// ErrUnavailable is returned by Subscribe, and by Publish, while the broker
// knows Redis to be unreachable (its last connection attempt failed). Run
// keeps retrying in the background.
var ErrUnavailable = errors.New("redis broker: Redis is unreachable")

var (
	errConnLost    = errors.New("redis broker: connection to Redis lost")
	errPingTimeout = errors.New("redis broker: Redis did not answer PING in time")
	errDesync      = errors.New("redis broker: unexpected subscription confirmation")
)

// Defaults of the Broker's timings. Tests shorten them.
const (
	// defaultOpTimeout bounds Subscribe and Unsubscribe (waiting for the
	// confirmation) and establishing the subscriber connection.
	defaultOpTimeout = 5 * time.Second
	// defaultPublishTimeout bounds Publish: the committer publishes inline,
	// so a slow Redis must not stall it for long. A failed sequenced
	// publication is recovered by receivers through the Store.
	defaultPublishTimeout = 2 * time.Second
	// The subscriber connection is pinged when it has been quiet for
	// defaultPingInterval and dropped when nothing at all arrived for
	// defaultPingInterval+defaultPingTimeout: a half-open TCP connection
	// (Redis host gone without a reset) otherwise looks healthy forever.
	defaultPingInterval = 2 * time.Second
	defaultPingTimeout  = 3 * time.Second
	// Reconnection backoff (with jitter, so nodes do not stampede a Redis
	// that just came back).
	defaultMinBackoff = 100 * time.Millisecond
	defaultMaxBackoff = 5 * time.Second
	// subscribeBatch bounds the channels per SUBSCRIBE when restoring a
	// node's subscriptions after a reconnection.
	subscribeBatch = 512
)

// envelopeV1 is the first byte of every payload this package publishes, so
// the format can evolve while nodes of two versions share a Redis.
const envelopeV1 = 1

type connState int

const (
	stateIdle       connState = iota // Run is not running
	stateConnecting                  // Run is establishing a subscriber connection
	stateConnected                   // a subscriber connection exists (maybe still restoring subscriptions)
	stateDown                        // the last attempt failed; Run is waiting to retry
)

// Broker is a chat.Broker on Redis Pub/Sub. Each node holds one dedicated
// subscriber connection, read by Run; Publish uses the client's pool.
// Channel c is the Redis channel prefix+c and a publication travels as a
// compact binary envelope (version, varint Seq, Data), so Data is never
// re-encoded.
//
// Subscribe and Unsubscribe return once Redis confirmed them. When the
// subscriber connection breaks, Run reconnects with backoff, restores every
// subscription and then calls HandleLoss. Healthy reports whether the
// node is currently connected and subscribed.
type Broker struct {
	client goredis.UniversalClient
	prefix string
	log    *slog.Logger

	opTimeout      time.Duration
	publishTimeout time.Duration
	pingInterval   time.Duration
	pingTimeout    time.Duration
	minBackoff     time.Duration
	maxBackoff     time.Duration

	running atomic.Bool
	healthy atomic.Bool
	down    atomic.Bool // state == stateDown, for Publish without b.mu

	mu sync.Mutex
	// wanted holds the Redis channel names this node subscribes to: what
	// Run restores after a reconnection.
	wanted map[string]struct{}
	// cur is the live subscriber connection, nil while there is none.
	cur   *subConn
	state connState
	// changed is closed, and replaced, on every state change, so that a
	// Subscribe waiting for the connection wakes up.
	changed chan struct{}
	// everUp records that a connection was up before, so the next one
	// means publications may have been lost in between.
	everUp bool
}

// subConn is one subscriber connection and the subscription commands sent
// on it that Redis has not confirmed yet.
type subConn struct {
	ps *goredis.PubSub

	// Guarded by Broker.mu.
	//
	// pending holds, per Redis channel, the SUBSCRIBE and UNSUBSCRIBE
	// commands awaiting confirmation, in the order they were written:
	// Redis confirms the commands of one connection in order, so each
	// confirmation belongs to the head of its channel's queue.
	pending map[string][]*op
	// initial counts unconfirmed channels of the batch that restored the
	// node's subscriptions; the connection is up when it reaches zero.
	initial int
	up      bool

	lastRecv  atomic.Int64 // unix nanoseconds of the last reply of any kind
	closeOnce sync.Once
	err       error // why the connection was closed; read after closeOnce
}

// op is one SUBSCRIBE or UNSUBSCRIBE of one channel awaiting confirmation.
type op struct {
	subscribe bool
	initial   bool
	done      chan struct{} // closed once confirmed or the connection is gone
	err       error         // set before done is closed
}

func newOp(subscribe, initial bool) *op {
	return &op{subscribe: subscribe, initial: initial, done: make(chan struct{})}
}

func (o *op) finish(err error) {
	o.err = err
	close(o.done)
}

// close closes the connection once, which also ends a Receive blocked on
// it, and records why.
func (c *subConn) close(err error) {
	c.closeOnce.Do(func() {
		c.err = err
		_ = c.ps.Close()
	})
}

// NewBroker returns a broker that publishes and subscribes through client,
// under prefix (for example "kindred:"). log receives connection events;
// nil discards them. Start Run before relying on Subscribe.
//
// A client built with ContextTimeoutEnabled lets the per-call deadlines
// bound socket reads too; otherwise a hung Redis holds a call for up to
// the client's ReadTimeout.
func NewBroker(client goredis.UniversalClient, prefix string, log *slog.Logger) *Broker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Broker{
		client:         client,
		prefix:         prefix,
		log:            log,
		opTimeout:      defaultOpTimeout,
		publishTimeout: defaultPublishTimeout,
		pingInterval:   defaultPingInterval,
		pingTimeout:    defaultPingTimeout,
		minBackoff:     defaultMinBackoff,
		maxBackoff:     defaultMaxBackoff,
		wanted:         make(map[string]struct{}),
		changed:        make(chan struct{}),
	}
}

// Healthy reports whether the subscriber connection is up and every
// subscription of the node is confirmed. While it is false, publications
// from other nodes are not received (readiness should say "degraded").
func (b *Broker) Healthy() bool { return b.healthy.Load() }

// Publish sends p to every node subscribed to p.Channel. It fails fast
// while Redis is known to be unreachable and is otherwise bounded by the
// publish timeout, so the caller (the committer) never waits for long.
func (b *Broker) Publish(ctx context.Context, p *chat.Publication) error {
	if b.down.Load() {
		return fmt.Errorf("redis broker: publish to %q: %w", p.Channel, ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, b.publishTimeout)
	defer cancel()
	if err := b.client.Publish(ctx, b.prefix+p.Channel, encode(p)).Err(); err != nil {
		return fmt.Errorf("redis broker: publish to %q: %w", p.Channel, err)
	}
	return nil
}

// Subscribe subscribes this node to channel and returns once Redis has
// confirmed it, so a publication made after it returns is delivered.
// Subscribing a subscribed channel returns at once. While Redis is
// unreachable it fails (ErrUnavailable) without remembering channel; while
// Run is (re)connecting it waits, bounded by ctx and the broker's timeout.
//
// Concurrent calls for one channel are not counted: the caller (the hub)
// subscribes a channel once per node.
func (b *Broker) Subscribe(ctx context.Context, channel string) error {
	ctx, cancel := context.WithTimeout(ctx, b.opTimeout)
	defer cancel()
	key := b.prefix + channel

	b.mu.Lock()
	for b.cur == nil {
		if b.state == stateDown {
			b.mu.Unlock()
			return fmt.Errorf("redis broker: subscribe %q: %w", channel, ErrUnavailable)
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("redis broker: subscribe %q: no connection to Redis: %w", channel, ctx.Err())
		}
		b.mu.Lock()
	}
	c := b.cur
	if _, ok := b.wanted[key]; ok {
		q := c.pending[key]
		if len(q) == 0 {
			b.mu.Unlock()
			return nil // confirmed on this connection already
		}
		// The last command for a wanted channel is a SUBSCRIBE: wait for
		// the same confirmation as whoever sent it.
		o := q[len(q)-1]
		b.mu.Unlock()
		return b.await(ctx, channel, o)
	}
	b.wanted[key] = struct{}{}
	o := newOp(true, false)
	c.pending[key] = append(c.pending[key], o)
	// The command is written under b.mu so that the order of each
	// channel's pending queue is the order on the wire.
	err := c.ps.Subscribe(ctx, key)
	if err != nil {
		delete(b.wanted, key)
	}
	b.mu.Unlock()
	if err != nil {
		// go-redis may have replaced the connection behind our back after
		// a write error; start over with a connection we know about.
		c.close(err)
		return fmt.Errorf("redis broker: subscribe %q: %w", channel, err)
	}
	if err := b.await(ctx, channel, o); err != nil {
		// The caller takes the failure to mean "not subscribed": make it
		// so, including after a reconnection that restored channel.
		b.forget(key)
		return err
	}
	return nil
}

func (b *Broker) await(ctx context.Context, channel string, o *op) error {
	select {
	case <-o.done:
		if o.err != nil {
			return fmt.Errorf("redis broker: subscribe %q: %w", channel, o.err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("redis broker: subscribe %q: not confirmed: %w", channel, ctx.Err())
	}
}

// forget removes key from the wanted channels after a failed Subscribe,
// without waiting for Redis to confirm.
func (b *Broker) forget(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), b.opTimeout)
	defer cancel()
	b.mu.Lock()
	c, _, err := b.unsubscribeLocked(ctx, key)
	b.mu.Unlock()
	if err != nil {
		c.close(err)
	}
}

// Unsubscribe stops delivery of channel to this node. It returns once
// Redis confirmed, or at once when channel was not subscribed. If the
// connection breaks meanwhile it still succeeds: channel is no longer
// wanted, so the next connection does not subscribe it.
func (b *Broker) Unsubscribe(ctx context.Context, channel string) error {
	ctx, cancel := context.WithTimeout(ctx, b.opTimeout)
	defer cancel()
	b.mu.Lock()
	c, o, err := b.unsubscribeLocked(ctx, b.prefix+channel)
	b.mu.Unlock()
	if err != nil {
		// Closing the connection ends delivery on it; its successor
		// will not subscribe channel.
		c.close(err)
		return nil
	}
	if o == nil {
		return nil
	}
	select {
	case <-o.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("redis broker: unsubscribe %q: not confirmed: %w", channel, ctx.Err())
	}
}

// unsubscribeLocked drops key from the wanted channels and, if connected,
// writes UNSUBSCRIBE. It returns the operation to wait for (nil when
// there is nothing to wait for), or the connection whose write failed.
func (b *Broker) unsubscribeLocked(ctx context.Context, key string) (*subConn, *op, error) {
	if _, ok := b.wanted[key]; !ok {
		return nil, nil, nil
	}
	delete(b.wanted, key)
	c := b.cur
	if c == nil {
		return nil, nil, nil
	}
	o := newOp(false, false)
	c.pending[key] = append(c.pending[key], o)
	if err := c.ps.Unsubscribe(ctx, key); err != nil {
		return c, nil, err
	}
	return c, o, nil
}

// Run keeps the subscriber connection up and delivers publications to h
// until ctx ends, then returns nil. Publications are handed to h from
// Run's goroutine, one at a time and in the order Redis sent them, so
// h.HandlePublication must not block, nor call Subscribe or Unsubscribe
// (they wait for this goroutine to read Redis's confirmation). After every
// reconnection, once all
// subscriptions are restored, Run calls h.HandleLoss.
func (b *Broker) Run(ctx context.Context, h chat.BrokerHandler) error {
	if !b.running.CompareAndSwap(false, true) {
		return errors.New("redis broker: Run is already running")
	}
	defer b.running.Store(false)
	defer b.setState(stateIdle)

	backoff := b.minBackoff
	failing := false
	for ctx.Err() == nil {
		b.setState(stateConnecting)
		c, err := b.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			b.setState(stateDown)
			if !failing {
				b.log.Warn("redis broker: cannot connect to Redis; retrying", "err", err)
				failing = true
			} else {
				b.log.Debug("redis broker: cannot connect to Redis; retrying", "err", err, "backoff", backoff)
			}
			if !sleep(ctx, jitter(backoff)) {
				break
			}
			backoff = min(2*backoff, b.maxBackoff)
			continue
		}
		failing = false
		up, err := b.serve(ctx, c, h)
		b.drop(c)
		if ctx.Err() != nil {
			break
		}
		b.log.Warn("redis broker: subscriber connection lost; publications may be lost until it is back", "err", err)
		if up {
			// A connection that worked: retry at once, most drops are
			// one-offs (a restart, a failover, a killed client).
			backoff = b.minBackoff
		} else if !sleep(ctx, jitter(backoff)) {
			break
		} else {
			backoff = min(2*backoff, b.maxBackoff)
		}
	}
	return nil
}

// connect opens a subscriber connection and writes SUBSCRIBE for every
// wanted channel; the receive loop then reads the confirmations.
func (b *Broker) connect(ctx context.Context) (*subConn, error) {
	ps := b.client.Subscribe(ctx) // no channels: no I/O yet
	c := &subConn{ps: ps, pending: make(map[string][]*op)}
	ctx, cancel := context.WithTimeout(ctx, b.opTimeout)
	defer cancel()
	// PING makes go-redis dial now, so an unreachable Redis fails here;
	// the reply is the first thing the receive loop reads.
	if err := ps.Ping(ctx); err != nil {
		_ = ps.Close()
		return nil, err
	}
	c.lastRecv.Store(time.Now().UnixNano())

	b.mu.Lock()
	defer b.mu.Unlock()
	keys := make([]string, 0, len(b.wanted))
	for k := range b.wanted {
		keys = append(keys, k)
		c.pending[k] = []*op{newOp(true, true)}
	}
	c.initial = len(keys)
	for len(keys) > 0 {
		n := min(len(keys), subscribeBatch)
		if err := ps.Subscribe(ctx, keys[:n]...); err != nil {
			_ = ps.Close()
			return nil, err
		}
		keys = keys[n:]
	}
	b.cur = c
	b.setStateLocked(stateConnected)
	return c, nil
}

// serve reads the subscriber connection until it fails or ctx ends, and
// reports whether the connection got up (all subscriptions restored).
func (b *Broker) serve(ctx context.Context, c *subConn, h chat.BrokerHandler) (up bool, err error) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			c.close(ctx.Err())
		case <-stop:
		}
	}()
	go func() {
		defer wg.Done()
		b.watch(c, stop)
	}()
	defer func() {
		close(stop)
		wg.Wait()
		b.mu.Lock()
		up = c.up
		b.mu.Unlock()
	}()

	b.mu.Lock()
	ready := c.initial == 0
	b.mu.Unlock()
	if ready {
		b.markUp(c, h)
	}
	for {
		// Receive reads without a deadline; watch and ctx end it by
		// closing the connection.
		msg, err := c.ps.Receive(context.Background())
		if err != nil {
			c.close(err)
			return false, c.err
		}
		c.lastRecv.Store(time.Now().UnixNano())
		switch m := msg.(type) {
		case *goredis.Message:
			b.deliver(m, h)
		case *goredis.Subscription:
			if err := b.confirm(c, m, h); err != nil {
				c.close(err)
				return false, err
			}
		case *goredis.Pong:
			// Proof of life, already recorded.
		}
	}
}

// watch pings a quiet connection and closes it when Redis stays silent,
// since a vanished peer does not always produce a read error.
func (b *Broker) watch(c *subConn, stop <-chan struct{}) {
	t := time.NewTicker(b.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		idle := time.Since(time.Unix(0, c.lastRecv.Load()))
		if idle < b.pingInterval {
			continue
		}
		if idle > b.pingInterval+b.pingTimeout {
			c.close(errPingTimeout)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), b.pingTimeout)
		err := c.ps.Ping(ctx)
		cancel()
		if err != nil {
			c.close(fmt.Errorf("redis broker: ping: %w", err))
			return
		}
	}
}

// confirm matches a subscription confirmation with the command awaiting
// it. A confirmation nobody awaits means go-redis re-established the
// connection by itself (publications may have been lost) or the stream is
// out of step: the caller then drops the connection and Run starts a
// clean one, which ends in HandleLoss.
func (b *Broker) confirm(c *subConn, m *goredis.Subscription, h chat.BrokerHandler) error {
	var subscribe bool
	switch m.Kind {
	case "subscribe":
		subscribe = true
	case "unsubscribe":
	default:
		return nil // never sent by this package
	}
	b.mu.Lock()
	q := c.pending[m.Channel]
	if len(q) == 0 || q[0].subscribe != subscribe {
		b.mu.Unlock()
		return fmt.Errorf("%w: %s %q", errDesync, m.Kind, m.Channel)
	}
	o := q[0]
	q[0] = nil
	if len(q) == 1 {
		delete(c.pending, m.Channel)
	} else {
		c.pending[m.Channel] = q[1:]
	}
	o.finish(nil)
	ready := false
	if o.initial {
		c.initial--
		ready = c.initial == 0
	}
	b.mu.Unlock()
	if ready {
		b.markUp(c, h)
	}
	return nil
}

// markUp records that c restored every subscription, and calls HandleLoss
// if an earlier connection existed: only now, with the subscriptions back,
// can a receiver's re-check against the Store not miss a publication.
func (b *Broker) markUp(c *subConn, h chat.BrokerHandler) {
	b.mu.Lock()
	if b.cur != c || c.up {
		b.mu.Unlock()
		return
	}
	c.up = true
	again := b.everUp
	b.everUp = true
	n := len(b.wanted)
	b.mu.Unlock()
	b.healthy.Store(true)
	if again {
		b.log.Info("redis broker: reconnected; receivers re-check the store", "channels", n)
		h.HandleLoss()
	} else {
		b.log.Info("redis broker: connected", "channels", n)
	}
}

func (b *Broker) deliver(m *goredis.Message, h chat.BrokerHandler) {
	channel, ok := strings.CutPrefix(m.Channel, b.prefix)
	if !ok {
		return
	}
	p, err := decode(channel, m.Payload)
	if err != nil {
		b.log.Warn("redis broker: dropping undecodable publication", "channel", channel, "err", err)
		return
	}
	h.HandlePublication(p)
}

// drop forgets c after its receive loop ended and fails whatever still
// awaited a confirmation on it.
func (b *Broker) drop(c *subConn) {
	b.healthy.Store(false)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == c {
		b.cur = nil
	}
	for _, q := range c.pending {
		for _, o := range q {
			o.finish(errConnLost)
		}
	}
	c.pending = nil
}

func (b *Broker) setState(s connState) {
	b.mu.Lock()
	b.setStateLocked(s)
	b.mu.Unlock()
}

func (b *Broker) setStateLocked(s connState) {
	b.state = s
	b.down.Store(s == stateDown)
	close(b.changed)
	b.changed = make(chan struct{})
}

// encode builds the envelope: version byte, Seq as a varint, then Data
// as is. The channel travels as the Redis channel name.
func encode(p *chat.Publication) []byte {
	buf := make([]byte, 0, 1+binary.MaxVarintLen64+len(p.Data))
	buf = append(buf, envelopeV1)
	buf = binary.AppendVarint(buf, p.Seq)
	return append(buf, p.Data...)
}

// decode parses an envelope. The one copy (string to []byte) gives the
// publication its own Data.
func decode(channel, payload string) (*chat.Publication, error) {
	if len(payload) == 0 || payload[0] != envelopeV1 {
		return nil, errors.New("unknown envelope version")
	}
	buf := []byte(payload)
	seq, n := binary.Varint(buf[1:])
	if n <= 0 {
		return nil, errors.New("malformed sequence number")
	}
	return &chat.Publication{Channel: channel, Seq: seq, Data: buf[1+n:]}, nil
}

// jitter spreads d over [d/2, d).
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

// sleep waits for d and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
