// Package brokertest is the conformance suite every chat.Broker,
// chat.Presence and chat.SessionCounter implementation must pass: Run,
// RunPresence and RunSessions check the contracts in package chat clause
// by clause.
//
// The suites model two nodes sharing one bus. An implementation that is
// in-process only (package memory) passes the same instance twice: the
// suites notice (a == b) and skip what needs two distinct nodes, such as
// one node unsubscribed while the other is subscribed.
package brokertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// waitTimeout bounds every wait for a delivery; it only matters when a
// test is about to fail (or hang).
const waitTimeout = 10 * time.Second

// quiet is how long a test waits, after a later publication has arrived,
// to be confident an earlier one that must not arrive did not.
const quiet = 100 * time.Millisecond

// Option adjusts the suite for an implementation.
type Option func(*config)

type config struct {
	known map[string]string
}

// KnownIssue skips the named subtest of Run, RunPresence or RunSessions with reason:
// a documented, tracked violation, visible in `go test -v`, rather than a
// silently weaker suite.
func KnownIssue(subtest, reason string) Option {
	return func(c *config) { c.known[subtest] = reason }
}

func newConfig(opts []Option) *config {
	c := &config{known: make(map[string]string)}
	for _, o := range opts {
		o(c)
	}
	return c
}

func (c *config) run(t *testing.T, name string, f func(t *testing.T)) {
	t.Run(name, func(t *testing.T) {
		if reason, ok := c.known[name]; ok {
			t.Skipf("known issue: %s", reason)
		}
		f(t)
	})
}

// Run checks the chat.Broker contract. newBroker returns two brokers that
// share one bus, as two nodes would (for an in-process broker, the same
// instance twice); it is called once per subtest, and the suite runs the
// brokers (Run) itself, stopping them when the subtest ends. Before each
// subtest it waits until every node delivers a probe publication, since
// the contract does not say when Run is ready.
func Run(t *testing.T, newBroker func(t *testing.T) (chat.Broker, chat.Broker), opts ...Option) {
	cfg := newConfig(opts)
	start := func(t *testing.T) *pair { return startPair(t, newBroker) }

	cfg.run(t, "PublishReachesSubscribedNodes", func(t *testing.T) {
		p := start(t)
		ch := channel()
		p.subscribe(t, p.a, ch)
		p.subscribe(t, p.b, ch)
		// Both directions: the publisher's own node is a subscriber too.
		want1 := &chat.Publication{Channel: ch, Seq: 1, Data: []byte("from a")}
		p.publish(t, p.a, want1)
		want2 := &chat.Publication{Channel: ch, Seq: 2, Data: []byte("from b")}
		p.publish(t, p.b, want2)
		for _, r := range p.recorders() {
			r.waitN(t, ch, 2)
			r.expect(t, ch, want1, want2)
		}
	})

	cfg.run(t, "UnsubscribedNodeReceivesNothing", func(t *testing.T) {
		p := start(t)
		if p.same {
			t.Skip("one instance stands for both nodes")
		}
		ch, marker := channel(), channel()
		p.subscribe(t, p.a, ch)
		p.subscribe(t, p.b, marker)
		// b never subscribed ch; then a publication that b does get, so
		// the check below does not rest on a bare sleep alone.
		p.publish(t, p.a, &chat.Publication{Channel: ch, Seq: 1, Data: []byte("for a")})
		p.publish(t, p.a, &chat.Publication{Channel: marker, Data: []byte("marker")})
		p.ra.waitN(t, ch, 1)
		p.rb.waitN(t, marker, 1)
		time.Sleep(quiet)
		p.rb.expectNone(t, ch)

		// Now b subscribes and unsubscribes again, and a unsubscribes too.
		p.subscribe(t, p.b, ch)
		p.unsubscribe(t, p.b, ch)
		p.unsubscribe(t, p.a, ch)
		p.publish(t, p.a, &chat.Publication{Channel: ch, Seq: 2, Data: []byte("for nobody")})
		p.publish(t, p.a, &chat.Publication{Channel: marker, Data: []byte("marker 2")})
		p.rb.waitN(t, marker, 2)
		time.Sleep(quiet)
		p.rb.expectNone(t, ch)
		if got := p.ra.count(ch); got != 1 {
			t.Fatalf("a received %d publications on %q, want 1 (it unsubscribed before the second)", got, ch)
		}
	})

	cfg.run(t, "UnsubscribeStopsDelivery", func(t *testing.T) {
		p := start(t)
		ch, marker := channel(), channel()
		p.subscribe(t, p.a, ch)
		p.subscribe(t, p.a, marker)
		p.publish(t, p.b, &chat.Publication{Channel: ch, Seq: 1, Data: []byte("one")})
		p.ra.waitN(t, ch, 1)
		p.unsubscribe(t, p.a, ch)
		p.publish(t, p.b, &chat.Publication{Channel: ch, Seq: 2, Data: []byte("two")})
		p.publish(t, p.b, &chat.Publication{Channel: marker, Data: []byte("marker")})
		p.ra.waitN(t, marker, 1)
		time.Sleep(quiet)
		if got := p.ra.count(ch); got != 1 {
			t.Fatalf("received %d publications on %q, want 1: delivery went on after Unsubscribe returned", got, ch)
		}
	})

	cfg.run(t, "ChannelsAreIsolated", func(t *testing.T) {
		p := start(t)
		base := channel()
		// Names that are prefixes of one another, or differ only in case
		// or a separator, are different channels.
		names := []string{base, base + "x", base + ":1", base + "X"}
		sub := names[0]
		p.subscribe(t, p.a, sub)
		for i, n := range names[1:] {
			p.publish(t, p.b, &chat.Publication{Channel: n, Seq: int64(i + 1), Data: []byte(n)})
		}
		want := &chat.Publication{Channel: sub, Seq: 9, Data: []byte("mine")}
		p.publish(t, p.b, want)
		p.ra.waitN(t, sub, 1)
		time.Sleep(quiet)
		for _, n := range names[1:] {
			p.ra.expectNone(t, n)
		}
		p.ra.expect(t, sub, want)
	})

	cfg.run(t, "PublishToUnsubscribedChannel", func(t *testing.T) {
		p := start(t)
		ch := channel()
		// Nobody listens: not an error, nothing delivered.
		p.publish(t, p.a, &chat.Publication{Channel: ch, Seq: 1, Data: []byte("void")})
		marker := channel()
		p.subscribe(t, p.a, marker)
		p.publish(t, p.a, &chat.Publication{Channel: marker, Data: nil})
		p.ra.waitN(t, marker, 1)
		p.ra.expectNone(t, ch)
	})

	cfg.run(t, "SubscribeReturnsOnceSubscribed", func(t *testing.T) {
		p := start(t)
		// A publication made right after Subscribe returns must arrive,
		// on the subscribing node and across nodes. Many rounds, because
		// a broker that returns early loses the race only sometimes.
		const rounds = 50
		for i := range rounds {
			ch := channel()
			p.subscribe(t, p.b, ch)
			want := &chat.Publication{Channel: ch, Seq: int64(i + 1), Data: []byte("right after")}
			p.publish(t, p.a, want)
			p.rb.waitN(t, ch, 1)
			p.rb.expect(t, ch, want)
		}
		// Concurrent subscriptions queue up behind one another on the way
		// to the bus (long names make the queue long in bytes), which is
		// when a broker that returns before it is subscribed loses the
		// publication.
		const concurrent = 200
		chs := make([]string, concurrent)
		errs := make(chan error, concurrent)
		var wg sync.WaitGroup
		for i := range chs {
			chs[i] = channel() + strings.Repeat("-", 500)
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
				defer cancel()
				if err := p.b.Subscribe(ctx, chs[i]); err != nil {
					errs <- err
					return
				}
				errs <- p.a.Publish(ctx, &chat.Publication{Channel: chs[i], Seq: 1, Data: []byte("right after")})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, ch := range chs {
			p.rb.waitN(t, ch, 1)
		}
	})

	cfg.run(t, "SubscribeAndUnsubscribeAreIdempotent", func(t *testing.T) {
		p := start(t)
		ch, marker := channel(), channel()
		p.subscribe(t, p.a, marker)
		p.subscribe(t, p.a, ch)
		p.subscribe(t, p.a, ch)
		want := &chat.Publication{Channel: ch, Seq: 1, Data: []byte("once")}
		p.publish(t, p.b, want)
		p.publish(t, p.b, &chat.Publication{Channel: marker, Data: []byte("marker")})
		p.ra.waitN(t, marker, 1)
		p.ra.waitN(t, ch, 1)
		time.Sleep(quiet)
		// At most once per node, however often it subscribed.
		p.ra.expect(t, ch, want)

		p.unsubscribe(t, p.a, ch)
		p.unsubscribe(t, p.a, ch)
		p.unsubscribe(t, p.a, channel()) // never subscribed
		p.publish(t, p.b, &chat.Publication{Channel: ch, Seq: 2, Data: []byte("nobody")})
		p.publish(t, p.b, &chat.Publication{Channel: marker, Data: []byte("marker 2")})
		p.ra.waitN(t, marker, 2)
		time.Sleep(quiet)
		p.ra.expect(t, ch, want)

		// And a channel can be subscribed again.
		p.subscribe(t, p.a, ch)
		again := &chat.Publication{Channel: ch, Seq: 3, Data: []byte("again")}
		p.publish(t, p.b, again)
		p.ra.waitN(t, ch, 2)
		p.ra.expect(t, ch, want, again)
	})

	cfg.run(t, "DataIsDeliveredUnchanged", func(t *testing.T) {
		p := start(t)
		ch := channel()
		p.subscribe(t, p.a, ch)
		p.subscribe(t, p.b, ch)
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		big := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 1<<14) // ~288 KiB
		cases := []*chat.Publication{
			{Channel: ch, Seq: 1, Data: all},
			{Channel: ch, Seq: 0, Data: nil},
			{Channel: ch, Seq: 2, Data: []byte{}},
			{Channel: ch, Seq: 3, Data: []byte{0}},
			{Channel: ch, Seq: 4, Data: []byte("\xc3\x28 invalid UTF-8 \xed\xa0\x80")},
			{Channel: ch, Seq: 5, Data: []byte(`{"type":"message","body":"json stays as is"}`)},
			{Channel: ch, Seq: math.MaxInt64, Data: []byte("largest seq")},
			{Channel: ch, Seq: 127, Data: []byte("varint edge")},
			{Channel: ch, Seq: 128, Data: []byte("varint edge")},
			{Channel: ch, Seq: 6, Data: big},
		}
		copies := make([][]byte, len(cases))
		for i, c := range cases {
			copies[i] = bytes.Clone(c.Data)
			p.publish(t, p.b, c)
		}
		for i, c := range cases {
			if !bytes.Equal(c.Data, copies[i]) {
				t.Fatalf("publication %d: Publish modified the caller's Data", i)
			}
		}
		for _, r := range p.recorders() {
			r.waitN(t, ch, len(cases))
			r.expect(t, ch, cases...)
		}
	})

	cfg.run(t, "ChannelNamesAreOpaque", func(t *testing.T) {
		p := start(t)
		base := channel()
		names := []string{
			"user:" + base,
			base + " with spaces",
			base + "/ünïcødé/🙂",
			base + "*?[glob]",
			base + "\x00nul",
		}
		for _, n := range names {
			p.subscribe(t, p.a, n)
		}
		for i, n := range names {
			p.publish(t, p.b, &chat.Publication{Channel: n, Seq: int64(i + 1), Data: []byte(n)})
		}
		for i, n := range names {
			p.ra.waitN(t, n, 1)
			p.ra.expect(t, n, &chat.Publication{Channel: n, Seq: int64(i + 1), Data: []byte(n)})
		}
	})

	cfg.run(t, "OrderPerChannelUnderConcurrency", func(t *testing.T) {
		p := start(t)
		// Several channels published concurrently, each by one goroutine
		// in sequence: each channel must arrive complete and in order on
		// every subscribed node, whatever the interleaving between them.
		const channels, per = 4, 1000
		chs := make([]string, channels)
		for i := range chs {
			chs[i] = channel()
			p.subscribe(t, p.a, chs[i])
			p.subscribe(t, p.b, chs[i])
		}
		var wg sync.WaitGroup
		errs := make(chan error, channels)
		for i, ch := range chs {
			pub := p.a
			if i%2 == 1 {
				pub = p.b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for s := int64(1); s <= per; s++ {
					if err := pub.Publish(context.Background(), &chat.Publication{Channel: ch, Seq: s, Data: []byte(fmt.Sprint(s))}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for _, r := range p.recorders() {
			for _, ch := range chs {
				r.waitN(t, ch, per)
				got := r.get(ch)
				if len(got) != per {
					t.Fatalf("%s: %d publications on %q, want %d", r.name, len(got), ch, per)
				}
				for i, pub := range got {
					if pub.Seq != int64(i+1) || string(pub.Data) != fmt.Sprint(i+1) {
						t.Fatalf("%s: publication %d on %q is seq %d (%q): out of order or duplicated", r.name, i, ch, pub.Seq, pub.Data)
					}
				}
			}
		}
	})

	cfg.run(t, "HandlerCalledSeriallyPerChannel", func(t *testing.T) {
		p := start(t)
		// Publishers racing on one channel (typing and presence frames
		// are published from many connections at once) must still not
		// make the broker call the handler concurrently for that channel.
		ch := channel()
		p.subscribe(t, p.a, ch)
		p.ra.slow.Store(true) // widen the window an overlap would need
		const publishers, per = 8, 50
		var wg sync.WaitGroup
		for range publishers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range per {
					_ = p.b.Publish(context.Background(), &chat.Publication{Channel: ch, Data: []byte("typing")})
				}
			}()
		}
		wg.Wait()
		p.ra.waitN(t, ch, publishers*per)
		// The overlap check itself runs in every subtest (see recorder).
	})

	runBatch(t, cfg, start)
}

// pair is two running brokers with their recorders.
type pair struct {
	a, b   chat.Broker
	ra, rb *recorder
	same   bool
}

func (p *pair) recorders() []*recorder {
	if p.same {
		return []*recorder{p.ra}
	}
	return []*recorder{p.ra, p.rb}
}

func startPair(t *testing.T, newBroker func(t *testing.T) (chat.Broker, chat.Broker)) *pair {
	t.Helper()
	a, b := newBroker(t)
	p := &pair{a: a, b: b, same: a == b}
	p.ra = run(t, "node a", a)
	if p.same {
		p.rb = p.ra
	} else {
		p.rb = run(t, "node b", b)
	}
	// The contract does not say when Run is ready to deliver (the memory
	// broker drops what is published before Run installed its handler), so
	// wait until each node receives its own probe before testing anything.
	for _, n := range []struct {
		br chat.Broker
		r  *recorder
	}{{a, p.ra}, {b, p.rb}} {
		ch := channel()
		p.subscribe(t, n.br, ch)
		deadline := time.Now().Add(waitTimeout)
		for n.r.count(ch) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: Run never delivered a probe publication", n.r.name)
			}
			p.publish(t, n.br, &chat.Publication{Channel: ch, Data: []byte("probe")})
			time.Sleep(5 * time.Millisecond)
		}
		p.unsubscribe(t, n.br, ch)
	}
	return p
}

// run starts br.Run with a fresh recorder and stops it when the test ends,
// checking that Run returns and that the handler was never called
// concurrently for one channel.
func run(t *testing.T, name string, br chat.Broker) *recorder {
	r := newRecorder(name)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- br.Run(ctx, r) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("%s: Run returned %v", name, err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("%s: Run did not return after its context ended", name)
		}
		if v := r.overlaps.Load(); v > 0 {
			t.Errorf("%s: HandlePublication ran concurrently for one channel %d times", name, v)
		}
	})
	return r
}

func (p *pair) subscribe(t *testing.T, br chat.Broker, ch string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := br.Subscribe(ctx, ch); err != nil {
		t.Fatalf("Subscribe(%q): %v", ch, err)
	}
}

func (p *pair) unsubscribe(t *testing.T, br chat.Broker, ch string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := br.Unsubscribe(ctx, ch); err != nil {
		t.Fatalf("Unsubscribe(%q): %v", ch, err)
	}
}

func (p *pair) publish(t *testing.T, br chat.Broker, pub *chat.Publication) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := br.Publish(ctx, pub); err != nil {
		t.Fatalf("Publish(%q, seq %d): %v", pub.Channel, pub.Seq, err)
	}
}

// recorder is a chat.BrokerHandler that keeps what it received.
type recorder struct {
	name string

	mu     sync.Mutex
	pubs   map[string][]chat.Publication
	losses int
	notify chan struct{} // closed and replaced on every delivery

	active   sync.Map // channel -> *atomic.Int32, handler calls in progress
	overlaps atomic.Int64
	slow     atomic.Bool
}

func newRecorder(name string) *recorder {
	return &recorder{name: name, pubs: make(map[string][]chat.Publication), notify: make(chan struct{})}
}

// HandlePublication implements chat.BrokerHandler.
func (r *recorder) HandlePublication(p *chat.Publication) {
	v, _ := r.active.LoadOrStore(p.Channel, new(atomic.Int32))
	n := v.(*atomic.Int32)
	if n.Add(1) > 1 {
		r.overlaps.Add(1)
	}
	if r.slow.Load() {
		time.Sleep(50 * time.Microsecond)
	}
	r.mu.Lock()
	// Keep a copy: Data must stay as published, and a broker reusing
	// its buffer would show up as a mismatch.
	r.pubs[p.Channel] = append(r.pubs[p.Channel], chat.Publication{Channel: p.Channel, Seq: p.Seq, Data: bytes.Clone(p.Data)})
	close(r.notify)
	r.notify = make(chan struct{})
	r.mu.Unlock()
	n.Add(-1)
}

// HandleLoss implements chat.BrokerHandler.
func (r *recorder) HandleLoss() {
	r.mu.Lock()
	r.losses++
	r.mu.Unlock()
}

func (r *recorder) get(ch string) []chat.Publication {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]chat.Publication(nil), r.pubs[ch]...)
}

func (r *recorder) count(ch string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pubs[ch])
}

// waitN waits until at least n publications arrived on ch.
func (r *recorder) waitN(t *testing.T, ch string, n int) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		got, wake := len(r.pubs[ch]), r.notify
		r.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("%s: %d of %d publications on %q arrived within %v", r.name, got, n, ch, waitTimeout)
		}
	}
}

// expect checks that exactly want arrived on ch, in that order.
func (r *recorder) expect(t *testing.T, ch string, want ...*chat.Publication) {
	t.Helper()
	got := r.get(ch)
	if len(got) != len(want) {
		t.Fatalf("%s: %d publications on %q, want %d", r.name, len(got), ch, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Channel != w.Channel || g.Seq != w.Seq || !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("%s: publication %d on %q = {%q, %d, %d bytes}, want {%q, %d, %d bytes}",
				r.name, i, ch, g.Channel, g.Seq, len(g.Data), w.Channel, w.Seq, len(w.Data))
		}
	}
}

func (r *recorder) expectNone(t *testing.T, ch string) {
	t.Helper()
	if n := r.count(ch); n != 0 {
		t.Fatalf("%s: received %d publications on %q, which it is not subscribed to", r.name, n, ch)
	}
}

// channel returns a channel name no other test uses.
func channel() string {
	return "bt-" + randomHex(6)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
