package redis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kindred-health/kindred/chat"
)

// subConn is a node's subscriber connection (on a Redis Cluster, one per
// master, which fail and are replaced together) and the subscription
// commands sent on it that Redis has not confirmed yet.
type subConn struct {
	shards []*shard
	// byMaster is the shard connected to each master (cluster only).
	byMaster map[*goredis.Client]*shard

	// Guarded by Broker.mu.
	//
	// at is the shard each subscribed channel was subscribed on (cluster
	// only; one Redis has one shard).
	at map[string]*shard
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

	closeOnce sync.Once
	err       error // why the connection was closed; read after closeOnce
}

// shard is one connection of a subConn: to the one Redis, or to one
// master of a cluster.
type shard struct {
	ps       *goredis.PubSub
	sharded  bool         // SSUBSCRIBE rather than SUBSCRIBE
	lastRecv atomic.Int64 // unix nanoseconds of the last reply of any kind
}

func newSubConn() *subConn {
	return &subConn{pending: make(map[string][]*op), at: make(map[string]*shard)}
}

// shardOf is the shard key is subscribed on, or nil.
func (c *subConn) shardOf(key string) *shard {
	if c.byMaster == nil {
		return c.shards[0]
	}
	return c.at[key]
}

// subscribe writes SUBSCRIBE (SSUBSCRIBE on a cluster) for keys, which
// on a cluster must be of one slot.
func (s *shard) subscribe(ctx context.Context, keys ...string) error {
	if s.sharded {
		return s.ps.SSubscribe(ctx, keys...)
	}
	return s.ps.Subscribe(ctx, keys...)
}

func (s *shard) unsubscribe(ctx context.Context, key string) error {
	if s.sharded {
		return s.ps.SUnsubscribe(ctx, key)
	}
	return s.ps.Unsubscribe(ctx, key)
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

// close closes the connection (every shard) once, which also ends a
// Receive blocked on it, and records why.
func (c *subConn) close(err error) {
	c.closeOnce.Do(func() {
		c.err = err
		for _, s := range c.shards {
			_ = s.ps.Close()
		}
	})
}

// Run keeps the subscriber connection up and delivers publications to h
// until ctx ends, then returns nil. Publications are handed to h from
// Run's goroutine, one at a time and in the order Redis sent them (on a
// cluster, from one goroutine per master, so each channel's in order), so
// h.HandlePublication must not block, nor call Subscribe or Unsubscribe
// (they wait for these goroutines to read Redis's confirmation). After
// every reconnection, once all subscriptions are restored, Run calls
// h.HandleLoss.
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
	ctx, cancel := context.WithTimeout(ctx, b.opTimeout)
	defer cancel()
	var c *subConn
	var err error
	if b.cluster != nil {
		c, err = b.dialCluster(ctx)
	} else {
		c, err = b.dial(ctx)
	}
	if err != nil {
		return nil, err
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	keys := make([]string, 0, len(b.wanted))
	for k := range b.wanted {
		keys = append(keys, k)
		c.pending[k] = []*op{newOp(true, true)}
	}
	c.initial = len(keys)
	if b.cluster != nil {
		err = b.restoreCluster(ctx, c, keys)
	} else {
		err = restore(ctx, c.shards[0], keys)
	}
	if err != nil {
		c.close(err)
		return nil, err
	}
	b.cur = c
	b.setStateLocked(stateConnected)
	return c, nil
}

// dial opens the subscriber connection to one Redis.
func (b *Broker) dial(ctx context.Context) (*subConn, error) {
	s := &shard{ps: b.client.Subscribe(ctx)} // no channels: no I/O yet
	// PING makes go-redis dial now, so an unreachable Redis fails here;
	// the reply is the first thing the receive loop reads.
	if err := s.ps.Ping(ctx); err != nil {
		_ = s.ps.Close()
		return nil, err
	}
	s.lastRecv.Store(time.Now().UnixNano())
	c := newSubConn()
	c.shards = []*shard{s}
	return c, nil
}

// restore writes SUBSCRIBE for keys on the connection to one Redis, in
// batches.
func restore(ctx context.Context, s *shard, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), subscribeBatch)
		if err := s.subscribe(ctx, keys[:n]...); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// serve reads the subscriber connection until it fails or ctx ends, and
// reports whether the connection got up (all subscriptions restored).
// On a cluster each master's connection is read by a goroutine of its
// own, and the first failure closes them all.
func (b *Broker) serve(ctx context.Context, c *subConn, h chat.BrokerHandler) (up bool, err error) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			c.close(ctx.Err())
		case <-stop:
		}
	}()
	for i, s := range c.shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.watch(c, s, stop)
		}()
		if i > 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = b.receive(c, s, h)
			}()
		}
	}
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
	return false, b.receive(c, c.shards[0], h)
}

// receive reads s until c is closed, or closes c on an error, and
// returns why c was closed.
func (b *Broker) receive(c *subConn, s *shard, h chat.BrokerHandler) error {
	for {
		// Receive reads without a deadline; watch and ctx end it by
		// closing the connection.
		msg, err := s.ps.Receive(context.Background())
		if err != nil {
			c.close(err)
			return c.err
		}
		s.lastRecv.Store(time.Now().UnixNano())
		switch m := msg.(type) {
		case *goredis.Message:
			b.deliver(m, h)
		case *goredis.Subscription:
			if err := b.confirm(c, m, h); err != nil {
				c.close(err)
				return c.err
			}
		case *goredis.Pong:
			// Proof of life, already recorded.
		}
	}
}

// watch pings a quiet shard and closes the connection when Redis stays
// silent, since a vanished peer does not always produce a read error.
func (b *Broker) watch(c *subConn, s *shard, stop <-chan struct{}) {
	t := time.NewTicker(b.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		idle := time.Since(time.Unix(0, s.lastRecv.Load()))
		if idle < b.pingInterval {
			continue
		}
		if idle > b.pingInterval+b.pingTimeout {
			c.close(errPingTimeout)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), b.pingTimeout)
		err := s.ps.Ping(ctx)
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
	case "subscribe", "ssubscribe":
		subscribe = true
	case "unsubscribe", "sunsubscribe":
		// On a cluster, an unsolicited sunsubscribe means the channel's
		// slot left this master (moved, or failed over): a desync, so
		// the connection is rebuilt on the current slots.
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
