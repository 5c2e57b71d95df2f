package redis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/brokertest"
)

// hang bounds every wait in these tests; reaching it means a test is
// broken or hung, not slow.
const hang = 20 * time.Second

// testRedis connects to the Redis of KINDRED_TEST_REDIS_URL (default
// redis://127.0.0.1:6379/0). Without one the test is skipped, except in
// CI (CI=true), where a missing service is a failure.
func testRedis(t testing.TB) *goredis.Options {
	t.Helper()
	url := os.Getenv("KINDRED_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("KINDRED_TEST_REDIS_URL=%q: %v", url, err)
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		msg := fmt.Sprintf("no Redis at %s (%v): start one or set KINDRED_TEST_REDIS_URL", url, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return opt
}

func newClient(t *testing.T, opt *goredis.Options) *goredis.Client {
	c := goredis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testPrefix returns a key prefix of its own for t, and deletes whatever
// was written under it when t ends.
func testPrefix(t *testing.T, opt *goredis.Options) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "kindredtest:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		c := goredis.NewClient(opt)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// testLogger logs through t until t ends; later records are dropped
// rather than failing the test run.
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	t    *testing.T
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}

// fast shortens b's timings so failure tests take seconds.
func fast(b *Broker) *Broker {
	b.opTimeout = 2 * time.Second
	b.publishTimeout = time.Second
	b.pingInterval = 100 * time.Millisecond
	b.pingTimeout = 300 * time.Millisecond
	b.minBackoff = 20 * time.Millisecond
	b.maxBackoff = 200 * time.Millisecond
	return b
}

func TestEnvelope(t *testing.T) {
	for _, p := range []*chat.Publication{
		{Channel: "c", Seq: 0, Data: nil},
		{Channel: "c", Seq: 1, Data: []byte{}},
		{Channel: "c", Seq: 42, Data: []byte("\x00\x01\xff{}")},
		{Channel: "c", Seq: math.MaxInt64, Data: bytes.Repeat([]byte{0xab}, 1000)},
		{Channel: "c", Seq: -1, Data: []byte("negative")},
	} {
		env := encode(p)
		if len(env) > 1+binary.MaxVarintLen64+len(p.Data) {
			t.Fatalf("envelope of seq %d is %d bytes for %d of data", p.Seq, len(env), len(p.Data))
		}
		got, err := decode("c", string(env))
		if err != nil {
			t.Fatalf("decode(encode(seq %d)): %v", p.Seq, err)
		}
		if got.Channel != "c" || got.Seq != p.Seq || !bytes.Equal(got.Data, p.Data) {
			t.Fatalf("round trip of seq %d gave seq %d, %d bytes", p.Seq, got.Seq, len(got.Data))
		}
	}
	for _, bad := range []string{"", "\x02\x00", "\x01", "\x01\xff"} {
		if _, err := decode("c", bad); err == nil {
			t.Errorf("decode(%q) accepted a malformed envelope", bad)
		}
	}
}

func TestBrokerConformance(t *testing.T) {
	opt := testRedis(t)
	brokertest.Run(t, func(t *testing.T) (chat.Broker, chat.Broker) {
		log := testLogger(t)
		prefix := testPrefix(t, opt)
		// Two clients: two nodes sharing one Redis.
		return NewBroker(newClient(t, opt), prefix, log), NewBroker(newClient(t, opt), prefix, log)
	})
}

func TestPresenceConformance(t *testing.T) {
	opt := testRedis(t)
	brokertest.RunPresence(t, func(t *testing.T) (chat.Presence, chat.Presence) {
		a, b, _ := twoNodes(t, opt, 10*time.Second, NewPresence)
		return a, b
	})
}

// twoNodes returns what newNode makes for two nodes sharing a prefix of
// their own, each on its own client and heartbeating until t ends or,
// for b, until stopB.
func twoNodes[T interface{ Run(context.Context) error }](t *testing.T, opt *goredis.Options, ttl time.Duration,
	newNode func(goredis.UniversalClient, string, string, time.Duration) T) (a, b T, stopB func()) {
	prefix := testPrefix(t, opt)
	a = newNode(newClient(t, opt), prefix, "node-a", ttl)
	b = newNode(newClient(t, opt), prefix, "node-b", ttl)
	runHeartbeat(t, a.Run)
	return a, b, runHeartbeat(t, b.Run)
}

// runHeartbeat runs a heartbeat (Presence.Run, Sessions.Run) until the
// test ends; the returned stop ends it earlier and waits for it to return.
func runHeartbeat(t *testing.T, run func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = run(ctx)
	}()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(hang):
			t.Error("the heartbeat did not return after its context ended")
		}
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond every 20ms until it holds, failing the test after
// hang.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func online(t *testing.T, p *Presence, u string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := p.Online(ctx, []string{u})
	if err != nil {
		t.Fatalf("Online: %v", err)
	}
	return m[u]
}

func TestPresenceExpiresStoppedNode(t *testing.T) {
	const ttl = 1500 * time.Millisecond
	a, b, stopB := twoNodes(t, testRedis(t), ttl, NewPresence)
	ctx := context.Background()

	onlyB, onlyA, both := "u-b", "u-a", "u-both"
	for _, c := range []struct {
		p       *Presence
		user, c string
	}{{b, onlyB, "c1"}, {a, onlyA, "c2"}, {a, both, "c3"}, {b, both, "c4"}} {
		if err := c.p.Connect(ctx, c.user, c.c); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{onlyB, onlyA, both} {
		if !online(t, a, u) {
			t.Fatalf("%s offline right after Connect", u)
		}
	}

	// Node B stops heartbeating without disconnecting anyone: a crash,
	// as far as the others can tell.
	stopB()
	eventually(t, "the users of the stopped node drop out", func() bool { return !online(t, a, onlyB) })

	// Node A kept heartbeating: its users stay online for well over ttl,
	// including the one who also had a connection on B.
	until := time.Now().Add(2 * ttl)
	for time.Now().Before(until) {
		if !online(t, a, onlyA) || !online(t, b, both) {
			t.Fatal("a user of the live node dropped out")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestPresenceRestoresVanishedEntries(t *testing.T) {
	opt := testRedis(t)
	prefix := testPrefix(t, opt)
	admin := newClient(t, opt)
	p := NewPresence(newClient(t, opt), prefix, "node-a", 900*time.Millisecond)
	runHeartbeat(t, p.Run)
	ctx := context.Background()
	if err := p.Connect(ctx, "u1", "c1"); err != nil {
		t.Fatal(err)
	}
	// Redis restarted without persistence, say: the entry is gone while
	// the connection is not. The next heartbeats put it back.
	if err := admin.Del(ctx, p.key("u1")).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the heartbeat restores the entry", func() bool { return online(t, p, "u1") })

	// A disconnected connection is not restored.
	if err := p.Disconnect(ctx, "u1", "c1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // more than a heartbeat interval (ttl/3)
	if online(t, p, "u1") {
		t.Fatal("a disconnected connection came back")
	}
}

// TestBrokerUnreachable needs no Redis: nothing listens on the port.
func TestBrokerUnreachable(t *testing.T) {
	client := goredis.NewClient(&goredis.Options{Addr: freeAddr(t), MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	b := fast(NewBroker(client, "kindredtest:", testLogger(t)))
	rec := &recorder{}
	stop := runBroker(t, b, rec)
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	if err := b.Subscribe(ctx, "room"); err == nil {
		t.Fatal("Subscribe succeeded without Redis")
	}
	if err := b.Publish(ctx, &chat.Publication{Channel: "room", Seq: 1}); err == nil {
		t.Fatal("Publish succeeded without Redis")
	}
	if b.Healthy() {
		t.Fatal("Healthy without Redis")
	}
	if ctx.Err() != nil {
		t.Fatal("Subscribe or Publish blocked until the test's deadline")
	}
}

// TestBrokerFailover runs its own redis-server, breaks it in three ways
// (connection killed, process frozen, process killed) and checks that the
// broker reports it, fails fast, recovers every subscription, tells the
// handler about the loss, and delivers again.
func TestBrokerFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a redis-server")
	}
	srv := startRedis(t, freeAddr(t))
	opt := &goredis.Options{
		Addr: srv.addr, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
		ContextTimeoutEnabled: true,
	}
	prefix := "kindredtest:"
	b := fast(NewBroker(newClient(t, opt), prefix, testLogger(t)))
	pub := fast(NewBroker(newClient(t, opt), prefix, testLogger(t))) // another node, publishing only
	admin := newClient(t, opt)
	rec := &recorder{b: b}
	stop := runBroker(t, b, rec)
	defer stop()

	ctx := context.Background()
	seq := int64(0)
	// delivered publishes the next seq on room until b receives it:
	// Publish may succeed while b's subscription is still coming back.
	delivered := func(what string) {
		t.Helper()
		seq++
		want := seq
		eventually(t, what, func() bool {
			if rec.has(want) {
				return true
			}
			_ = pub.Publish(ctx, &chat.Publication{Channel: "room", Seq: want, Data: []byte("after " + what)})
			time.Sleep(30 * time.Millisecond)
			return rec.has(want)
		})
	}
	subscribe := func(ch string) {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, hang)
		defer cancel()
		if err := b.Subscribe(cctx, ch); err != nil {
			t.Fatalf("Subscribe(%q): %v", ch, err)
		}
	}

	subscribe("room")
	subscribe("gone")
	if !b.Healthy() {
		t.Fatal("not Healthy once subscribed")
	}
	delivered("subscribing")

	t.Log("phase 1: Redis closes the subscriber connection")
	losses := rec.lossCount()
	if err := admin.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "HandleLoss after the connection was killed", func() bool { return rec.lossCount() > losses })
	delivered("the connection was killed")

	t.Log("phase 2: Redis freezes (SIGSTOP): only the health check can tell")
	losses = rec.lossCount()
	srv.signal(syscall.SIGSTOP)
	eventually(t, "not Healthy while Redis is frozen", func() bool { return !b.Healthy() })
	start := time.Now()
	if err := pub.Publish(ctx, &chat.Publication{Channel: "room", Seq: 99, Data: []byte("lost")}); err == nil {
		t.Fatal("Publish succeeded while Redis is frozen")
	}
	if d := time.Since(start); d > hang/2 {
		t.Fatalf("Publish took %v while Redis is frozen", d)
	}
	srv.signal(syscall.SIGCONT)
	eventually(t, "HandleLoss after Redis thawed", func() bool { return rec.lossCount() > losses })
	delivered("Redis thawed")

	t.Log("phase 3: Redis dies and comes back on the same port, empty")
	losses = rec.lossCount()
	srv.kill()
	eventually(t, "not Healthy while Redis is down", func() bool { return !b.Healthy() })
	eventually(t, "Publish fails while Redis is down", func() bool {
		return b.Publish(ctx, &chat.Publication{Channel: "room", Seq: 99, Data: []byte("lost")}) != nil
	})
	sctx, cancel := context.WithTimeout(ctx, hang)
	err := b.Subscribe(sctx, "during-outage")
	blocked := sctx.Err() != nil
	cancel()
	if err == nil {
		t.Fatal("Subscribe succeeded while Redis is down")
	}
	if blocked {
		t.Fatal("Subscribe blocked until its deadline while Redis is down")
	}
	if err := b.Unsubscribe(ctx, "gone"); err != nil {
		t.Fatalf("Unsubscribe while Redis is down: %v", err)
	}
	startRedis(t, srv.addr)
	eventually(t, "HandleLoss after Redis came back", func() bool { return rec.lossCount() > losses })
	if !rec.healthyAtLoss() {
		t.Fatal("HandleLoss was called before the subscriptions were restored")
	}
	delivered("Redis came back")

	// Exactly the wanted channels were restored: not the one unsubscribed
	// during the outage, nor the one whose Subscribe failed.
	n, err := admin.PubSubNumSub(ctx, prefix+"room", prefix+"gone", prefix+"during-outage").Result()
	if err != nil {
		t.Fatal(err)
	}
	if n[prefix+"room"] != 1 || n[prefix+"gone"] != 0 || n[prefix+"during-outage"] != 0 {
		t.Fatalf("subscribers after recovery: %v", n)
	}
	if rec.outOfOrder() {
		t.Fatal("publications of room arrived out of order")
	}
}

// TestSubscribeWaitsForConfirmation freezes Redis while Subscribe runs:
// the command is written, but Subscribe must not return before Redis
// confirmed it (on a healthy localhost the race is too narrow for the
// conformance suite to catch reliably).
func TestSubscribeWaitsForConfirmation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a redis-server")
	}
	srv := startRedis(t, freeAddr(t))
	b := NewBroker(newClient(t, &goredis.Options{Addr: srv.addr}), "kindredtest:", testLogger(t))
	rec := &recorder{b: b}
	runBroker(t, b, rec)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	if err := b.Subscribe(ctx, "warm-up"); err != nil { // connected
		t.Fatal(err)
	}

	srv.signal(syscall.SIGSTOP)
	done := make(chan error, 1)
	go func() { done <- b.Subscribe(ctx, "room") }()
	select {
	case err := <-done:
		srv.signal(syscall.SIGCONT)
		t.Fatalf("Subscribe returned (%v) while Redis was frozen", err)
	case <-time.After(300 * time.Millisecond): // well under the ping timeout
	}
	srv.signal(syscall.SIGCONT)
	if err := <-done; err != nil {
		t.Fatalf("Subscribe after Redis thawed: %v", err)
	}
	if err := b.Publish(ctx, &chat.Publication{Channel: "room", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the publication arrives", func() bool { return rec.has(1) })
	if n := rec.lossCount(); n != 0 {
		t.Fatalf("HandleLoss called %d times without a reconnection", n)
	}
}

// runBroker runs b.Run with h until the returned stop is called (or the
// test ends), and checks that Run returns.
func runBroker(t *testing.T, b *Broker, h chat.BrokerHandler) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, h) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(hang):
				t.Error("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// recorder is the handler of the failure tests.
type recorder struct {
	b *Broker

	mu       sync.Mutex
	seqs     []int64
	losses   int
	healthy  bool // Healthy() at every HandleLoss so far
	disorder bool
}

func (r *recorder) HandlePublication(p *chat.Publication) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.seqs); n > 0 && p.Seq <= r.seqs[n-1] {
		r.disorder = true
	}
	r.seqs = append(r.seqs, p.Seq)
}

func (r *recorder) HandleLoss() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.losses == 0 {
		r.healthy = true
	}
	r.losses++
	r.healthy = r.healthy && r.b != nil && r.b.Healthy()
}

func (r *recorder) has(seq int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.seqs {
		if s == seq {
			return true
		}
	}
	return false
}

func (r *recorder) lossCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.losses
}

func (r *recorder) healthyAtLoss() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.healthy
}

func (r *recorder) outOfOrder() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.disorder
}

// freeAddr returns a loopback address nothing listens on (a port the
// kernel just handed out and that was released again).
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

type redisServer struct {
	t    *testing.T
	addr string
	cmd  *exec.Cmd
	once sync.Once
}

// startRedis starts a throwaway redis-server on addr (no persistence) and
// waits until it answers.
func startRedis(t *testing.T, addr string) *redisServer {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "redis-server is not on PATH: " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	host, port, _ := net.SplitHostPort(addr)
	var out bytes.Buffer
	cmd := exec.Command(path, "--bind", host, "--port", port, "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--dir", t.TempDir(), "--loglevel", "warning")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &redisServer{t: t, addr: addr, cmd: cmd}
	t.Cleanup(s.kill)
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(hang)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			s.kill()
			t.Fatalf("redis-server on %s did not come up: %v\n%s", addr, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *redisServer) signal(sig syscall.Signal) {
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v: %v", sig, err)
	}
}

// kill ends the server abruptly (SIGKILL, after a SIGCONT in case it is
// stopped) and waits for it to exit.
func (s *redisServer) kill() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
		_ = s.cmd.Process.Kill()
		err := s.cmd.Wait()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			s.t.Errorf("redis-server: %v", err)
		}
	})
}
