package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/auth"
)

// Histogram precisions: the run's latency to within 1/128 (<0.8%), and the
// per-second series for the chart to within 1/32, which keeps a long run's
// series small.
const (
	latSub    = 7
	perSecSub = 5
)

// The server frame types counted separately (frameKind); any other counts
// as "other".
const (
	kindWelcome = iota
	kindAck
	kindMessage
	kindEdit
	kindDelete
	kindHide
	kindTyping
	kindPresence
	kindMember
	kindConversation
	kindLeft
	kindSynced
	kindError
	kindPong
	kindMemberList
	kindOther
	numKinds
)

var frameTypes = [numKinds]string{
	"welcome", "ack", "message", "edit", "delete", "hide", "typing", "presence", "member",
	"conversation", "left", "synced", "error", "pong", "member_list", "other",
}

// frameKind maps a frame's type to its counter, without allocating.
func frameKind(t []byte) int {
	switch string(t) {
	case "message":
		return kindMessage
	case "ack":
		return kindAck
	}
	for k, name := range frameTypes[:kindOther] {
		if string(t) == name {
			return k
		}
	}
	return kindOther
}

// engine runs one share of the connections: all of them in a single
// process, or one worker's share. It is the local implementation of shard.
type engine struct {
	cfg     *config
	vcs     []*vconn
	signer  *auth.Signer
	wsURLs  []string
	clients []*http.Client // one per loopback source, or one for all
	ramp    float64        // this engine's share of --ramp

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // connection goroutines

	// Counters read by progress and the result.
	up, opened, connectErrs, reconnects    atomic.Int64
	sent, acks, skipped, sendFailed        atomic.Int64
	resent, dupAcks, crisisSent            atomic.Int64
	unacked, pending, unknownCv            atomic.Int64
	connKinds, sendErrs, otherErrs, closes countMap

	ackMu sync.Mutex
	acked map[string]int64 // highest acked sequence per conversation

	// Set before any message is sent; until then startNs is 0 and
	// nothing is recorded.
	startNs, measureNs, stopNs atomic.Int64
	lat                        *hist
	perSec                     []*hist // by second of send time since start

	held, notReady int64
}

// countMap counts rare events by name (errors, close codes).
type countMap struct {
	mu sync.Mutex
	m  map[string]int64
}

func (c *countMap) add(k string, n int64) {
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]int64)
	}
	c.m[k] += n
	c.mu.Unlock()
}

func (c *countMap) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

func newEngine(ctx context.Context, cfg *config, specs []spec, secret []byte, shards int) (*engine, error) {
	signer, err := auth.NewHMACSigner(secret)
	if err != nil {
		return nil, err
	}
	e := &engine{
		cfg:    cfg,
		signer: signer,
		ramp:   cfg.ramp / float64(shards),
		acked:  make(map[string]int64),
		lat:    newHist(latSub),
	}
	e.ctx, e.cancel = context.WithCancel(ctx)
	secs := int((cfg.warmup+cfg.duration+time.Second-1)/time.Second) + 1
	e.perSec = make([]*hist, secs)
	for i := range e.perSec {
		e.perSec[i] = newHist(perSecSub)
	}
	for _, u := range cfg.urls {
		e.wsURLs = append(e.wsURLs, "ws"+strings.TrimPrefix(u, "http")+"/ws")
	}
	e.clients = newClients(cfg)
	for _, s := range specs {
		v := &vconn{e: e, spec: s, url: s.url, convs: make(map[string]*seqTracker), synced: make(map[string]bool),
			outbox: make(map[string]*outMsg), kick: make(chan struct{}, 1),
			sampleLeft: 1 + rand.IntN(cfg.sample)} // a random phase, so connections sample at different deliveries
		if s.sender && s.room != "" {
			v.sendConv = s.room
		}
		e.vcs = append(e.vcs, v)
	}
	return e, nil
}

// newClients builds the HTTP clients that dial the WebSocket upgrades: one
// per loopback source address when --sources is set, since a client's
// dialer fixes the local address. Each upgrade needs its own TCP
// connection, which the WebSocket takes over, so nothing is pooled.
func newClients(cfg *config) []*http.Client {
	mk := func(local net.Addr) *http.Client {
		d := &net.Dialer{Timeout: cfg.timeout, LocalAddr: local}
		if local != nil {
			d.Control = bindNoPort
		}
		return &http.Client{Transport: &http.Transport{
			DialContext:         d.DialContext,
			Proxy:               nil, // loopback benchmarks never go through a proxy
			TLSHandshakeTimeout: cfg.timeout,
			DisableKeepAlives:   true,
		}}
	}
	if cfg.sources == 0 {
		return []*http.Client{mk(nil)}
	}
	out := make([]*http.Client, cfg.sources)
	for i := range out {
		out[i] = mk(&net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))})
	}
	return out
}

func (e *engine) client(source int) *http.Client {
	if source < 0 {
		return e.clients[0]
	}
	return e.clients[source]
}

// connect opens every connection at the engine's ramp and returns once each
// has been welcomed or has failed. Failures are counted, not fatal.
func (e *engine) connect(ctx context.Context) error {
	// Bound the handshakes in flight: each holds a goroutine and a
	// socket, and a server that stalls should not get thousands at once.
	sem := make(chan struct{}, 512)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i, v := range e.vcs {
		if e.ramp > 0 {
			at := t0.Add(time.Duration(float64(i) / e.ramp * float64(time.Second)))
			if err := sleepUntil(ctx, at); err != nil {
				return err
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		wg.Add(1)
		e.wg.Add(1)
		go v.run(e.ctx, func(err error) {
			if err != nil {
				e.connectErrs.Add(1)
				e.connKinds.add(errKind(err), 1)
			} else {
				e.opened.Add(1)
			}
			<-sem
			wg.Done()
		})
	}
	wg.Wait()
	return ctx.Err()
}

// ready waits until every open connection is subscribed to what it should
// be (a synced frame for its room or DM), so that no message is sent to a
// session that is not yet listening.
func (e *engine) ready(ctx context.Context) error {
	deadline := time.Now().Add(max(e.cfg.timeout, 10*time.Second))
	for {
		var waiting int64
		for _, v := range e.vcs {
			if !v.isReady() {
				waiting++
			}
		}
		if waiting == 0 || time.Now().After(deadline) {
			e.notReady = waiting
			return nil
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// load runs the senders from start for warmup+duration (for idle, just
// holds the connections that long), then waits for the outstanding acks,
// and returns each conversation's final sequence as far as this shard
// knows: the highest acked, or the highest any receiver got if that is
// higher (a send whose connection closed before its ack may still have
// been stored, and then everyone is owed it).
func (e *engine) load(ctx context.Context, start time.Time) (map[string]int64, error) {
	stop := start.Add(e.cfg.warmup + e.cfg.duration)
	e.measureNs.Store(start.Add(e.cfg.warmup).UnixNano())
	e.stopNs.Store(stop.UnixNano())
	e.startNs.Store(start.UnixNano())
	var wg sync.WaitGroup
	if e.cfg.senders() {
		period := time.Duration(float64(time.Second) / e.cfg.rate)
		for _, v := range e.vcs {
			if !v.spec.sender || !v.wasUp() {
				continue
			}
			// A random phase spreads the senders evenly over each
			// period instead of firing them all on one tick.
			phase := time.Duration(rand.Int64N(int64(max(period, 1))))
			if v.spec.crisisAt > 0 {
				v.crisis = start.Add(v.spec.crisisAt)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				v.sendLoop(ctx, start.Add(phase), stop, period)
			}()
		}
	}
	err := sleepUntil(ctx, stop)
	wg.Wait()
	e.held = e.up.Load()
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(e.cfg.drain)
	for e.pending.Load() > 0 && time.Now().Before(deadline) {
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return nil, err
		}
	}
	e.ackMu.Lock()
	out := make(map[string]int64, len(e.acked))
	for k, v := range e.acked {
		out[k] = v
	}
	e.ackMu.Unlock()
	for _, v := range e.vcs {
		v.mu.Lock()
		for conv, t := range v.convs {
			out[conv] = max(out[conv], t.maxSeen)
		}
		v.mu.Unlock()
	}
	return out, nil
}

// drain waits until every receiver has every message up to its
// conversation's final acked sequence (finals, merged over all shards), or
// the drain time is over, and then counts.
func (e *engine) drain(ctx context.Context, finals map[string]int64) (*shardResult, error) {
	deadline := time.Now().Add(e.cfg.drain)
	for !e.complete(finals) && time.Now().Before(deadline) {
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return nil, err
		}
	}
	return e.result(finals), nil
}

func (e *engine) complete(finals map[string]int64) bool {
	for _, v := range e.vcs {
		v.mu.Lock()
		for conv, t := range v.convs {
			if !t.complete(finals[conv]) {
				v.mu.Unlock()
				return false
			}
		}
		v.mu.Unlock()
	}
	return true
}

func (e *engine) result(finals map[string]int64) *shardResult {
	r := &shardResult{
		Target:            int64(len(e.vcs)),
		Opened:            e.opened.Load(),
		Held:              e.held,
		ConnectErrors:     e.connectErrs.Load(),
		ConnectErrorKinds: e.connKinds.snapshot(),
		NotReady:          e.notReady,
		Reconnects:        e.reconnects.Load(),
		Closes:            e.closes.snapshot(),
		Sent:              e.sent.Load(),
		Resent:            e.resent.Load(),
		CrisisSent:        e.crisisSent.Load(),
		Acked:             e.acks.Load(),
		DupAcks:           e.dupAcks.Load(),
		Unacked:           e.unacked.Load() + e.pending.Load(),
		Skipped:           e.skipped.Load(),
		SendFailed:        e.sendFailed.Load(),
		SendErrors:        e.sendErrs.snapshot(),
		OtherErrors:       e.otherErrs.snapshot(),
		UnknownConv:       e.unknownCv.Load(),
		Frames:            make(map[string]int64),
		Latency:           e.lat.snapshot(),
	}
	var frames [numKinds]int64
	for _, v := range e.vcs {
		r.Deliveries += v.delivered.Load()
		r.Measured += v.measured.Load()
		for k := range frames {
			frames[k] += v.frames[k].Load()
		}
		v.mu.Lock()
		for conv, t := range v.convs {
			f := finals[conv]
			r.Expected += max(0, f-t.base)
			r.Lost += t.missing(f)
			r.Doubled += t.dups
			r.Replayed += t.replayed
			r.Early += t.early
		}
		v.mu.Unlock()
	}
	for k, n := range frames {
		if n > 0 {
			r.Frames[frameTypes[k]] = n
		}
	}
	for _, h := range e.perSec {
		r.PerSecond = append(r.PerSecond, h.snapshot())
	}
	return r
}

func (e *engine) progress() progressSnap {
	var delivered int64
	for _, v := range e.vcs {
		delivered += v.delivered.Load()
	}
	return progressSnap{
		Target: int64(len(e.vcs)), Up: e.up.Load(), Opened: e.opened.Load(),
		ConnectErrors: e.connectErrs.Load(), Sent: e.sent.Load(), Deliveries: delivered,
	}
}

// close ends every connection with a normal close (in parallel: each
// waits for the server's answer) and stops their goroutines.
func (e *engine) close() error {
	var wss []*websocket.Conn
	for _, v := range e.vcs {
		v.mu.Lock()
		v.stopping = true
		if v.ws != nil {
			wss = append(wss, v.ws)
		}
		v.mu.Unlock()
	}
	_ = parallel(context.Background(), len(wss), 256, func(_ context.Context, i int) error {
		_ = wss[i].Close(websocket.StatusNormalClosure, "benchmark done")
		return nil
	})
	e.cancel()
	e.wg.Wait()
	return nil
}

// recordLatency files one sampled delivery's end-to-end latency under its
// send time: in the run's histogram if it was sent in the measured window,
// and in the per-second series for the chart either way.
func (e *engine) recordLatency(sentNs, now int64, inWindow bool) {
	us := (now - sentNs) / 1000
	if sec := (sentNs - e.startNs.Load()) / int64(time.Second); sec < int64(len(e.perSec)) {
		e.perSec[sec].record(us)
	}
	if inWindow {
		e.lat.record(us)
	}
}

// closeKind names how the server ended a welcomed session.
func closeKind(err error) string {
	if code := websocket.CloseStatus(err); code != -1 {
		return strconv.Itoa(int(code))
	}
	return "dropped"
}

// errKind reduces an error to a short class, so that thousands of failed
// dials make a few lines with a hint rather than thousands of addresses.
func errKind(err error) string {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return fmt.Sprintf("HTTP %d %s", ae.Status, ae.Code)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no free local port (EADDRNOTAVAIL): use --sources"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files: raise ulimit -n or use --workers"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case websocket.CloseStatus(err) != -1:
		return fmt.Sprintf("closed with %d before the welcome", websocket.CloseStatus(err))
	}
	msg := err.Error()
	if len(msg) > 100 {
		msg = msg[:100]
	}
	return msg
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func sleepUntil(ctx context.Context, at time.Time) error {
	if d := time.Until(at); d > 0 {
		return sleepCtx(ctx, d)
	}
	return ctx.Err()
}
