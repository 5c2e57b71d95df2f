// Package redis is the scale-out chat.Broker, chat.Presence and
// chat.SessionCounter: several Kindred nodes share one Redis, which fans
// publications out between them (Pub/Sub), knows which users are
// connected to any of them and counts each user's sessions (sorted sets
// refreshed by heartbeats).
//
// Given a *goredis.ClusterClient, the same types work on a Redis Cluster:
// the Broker uses sharded Pub/Sub (SSUBSCRIBE, SPUBLISH; see sharded.go),
// so each publication travels only within the shard that owns its
// channel's slot, and every other key is used by single-key commands, so
// it may live on any shard.
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
	errTopology    = errors.New("redis broker: the cluster's slots moved to a master this connection does not reach")
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
// subscriber connection (on a cluster, one per master), read by Run;
// Publish uses the client's pool.
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
	// cluster is client when it is a Redis Cluster client: publications
	// then use sharded Pub/Sub, one subscriber connection per master.
	cluster *goredis.ClusterClient
	prefix  string
	log     *slog.Logger

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

// NewBroker returns a broker that publishes and subscribes through client,
// under prefix (for example "kindred:"). log receives connection events;
// nil discards them. Start Run before relying on Subscribe.
//
// A client built with ContextTimeoutEnabled lets the per-call deadlines
// bound socket reads too; otherwise a hung Redis holds a call for up to
// the client's ReadTimeout.
//
// A *goredis.ClusterClient makes it a broker on sharded Pub/Sub. Each
// channel then is its own slot: prefix must hold no hash tag ("{...}"),
// which would put every channel on one shard.
func NewBroker(client goredis.UniversalClient, prefix string, log *slog.Logger) *Broker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cluster, _ := client.(*goredis.ClusterClient)
	return &Broker{
		client:         client,
		cluster:        cluster,
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
	var err error
	if b.cluster != nil {
		err = b.cluster.SPublish(ctx, b.prefix+p.Channel, encode(p)).Err()
		if err != nil {
			// go-redis reloads the slots on MOVED, not when the master
			// it knows is gone: after a failover, the next publication
			// must find the replica that took over (a reload in the
			// background, at most one at a time).
			b.cluster.ReloadState(ctx)
		}
	} else {
		err = b.client.Publish(ctx, b.prefix+p.Channel, encode(p)).Err()
	}
	if err != nil {
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
	for {
		// On a cluster, the master that owns key's slot, as the client
		// sees the slots; nil for one Redis.
		master, err := b.masterFor(ctx, key)
		if err != nil {
			return fmt.Errorf("redis broker: subscribe %q: %w", channel, err)
		}
		c, err := b.current(ctx, channel)
		if err != nil {
			return err
		}
		o, mine, err := b.subscribeOn(ctx, c, key, master)
		b.mu.Unlock()
		if err != nil {
			// A write error: go-redis may have replaced the connection
			// behind our back; start over with a connection we know
			// about. errTopology: c predates the cluster's slots;
			// subscribe on its successor.
			c.close(err)
			if errors.Is(err, errTopology) {
				if err := b.replaced(ctx, channel, c); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("redis broker: subscribe %q: %w", channel, err)
		}
		if o == nil {
			return nil // confirmed on this connection already
		}
		if err := b.await(ctx, channel, o); err != nil {
			if mine {
				// The caller takes the failure to mean "not subscribed":
				// make it so, including after a reconnection that
				// restored channel.
				b.forget(key)
			}
			return err
		}
		return nil
	}
}

// current waits for a subscriber connection and returns it with b.mu
// held; on failure b.mu is not held.
func (b *Broker) current(ctx context.Context, channel string) (*subConn, error) {
	b.mu.Lock()
	for b.cur == nil {
		if b.state == stateDown {
			b.mu.Unlock()
			return nil, fmt.Errorf("redis broker: subscribe %q: %w", channel, ErrUnavailable)
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("redis broker: subscribe %q: no connection to Redis: %w", channel, ctx.Err())
		}
		b.mu.Lock()
	}
	return b.cur, nil
}

// replaced waits until c is no longer the current connection.
func (b *Broker) replaced(ctx context.Context, channel string, c *subConn) error {
	for {
		b.mu.Lock()
		cur, changed := b.cur, b.changed
		b.mu.Unlock()
		if cur != c {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("redis broker: subscribe %q: no connection to Redis: %w", channel, ctx.Err())
		}
	}
}

// subscribeOn writes the subscription of key on c, with b.mu held, and
// returns the operation to wait for (nil: key is confirmed already) and
// whether this call sent it. master is the master that owns key's slot
// on a cluster; errTopology means c has no connection to it.
func (b *Broker) subscribeOn(ctx context.Context, c *subConn, key string, master *goredis.Client) (*op, bool, error) {
	if _, ok := b.wanted[key]; ok {
		q := c.pending[key]
		if len(q) == 0 {
			return nil, false, nil
		}
		// The last command for a wanted channel is a SUBSCRIBE: wait for
		// the same confirmation as whoever sent it.
		return q[len(q)-1], false, nil
	}
	s := c.shards[0]
	if c.byMaster != nil {
		if s = c.byMaster[master]; s == nil {
			return nil, false, errTopology
		}
	}
	b.wanted[key] = struct{}{}
	o := newOp(true, false)
	c.pending[key] = append(c.pending[key], o)
	// The command is written under b.mu so that the order of each
	// channel's pending queue is the order on the wire.
	if err := s.subscribe(ctx, key); err != nil {
		delete(b.wanted, key)
		return nil, false, err
	}
	if c.byMaster != nil {
		c.at[key] = s
	}
	return o, true, nil
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
	sh := c.shardOf(key)
	if sh == nil {
		return nil, nil, nil
	}
	delete(c.at, key)
	o := newOp(false, false)
	c.pending[key] = append(c.pending[key], o)
	if err := sh.unsubscribe(ctx, key); err != nil {
		return c, nil, err
	}
	return c, o, nil
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
