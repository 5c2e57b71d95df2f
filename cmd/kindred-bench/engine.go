package main

import (
	"bytes"
	"context"
	"encoding/json"
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

// readLimit is far above anything the server writes: it batches frames up
// to 64 KiB per WebSocket message, and a welcome lists every conversation.
// The library's default (32 KiB) would close busy connections.
const readLimit = 16 << 20

// Histogram precisions: the run's latency to within 1/128 (<0.8%), and the
// per-second series for the chart to within 1/32, which keeps a long run's
// series small.
const (
	latSub    = 7
	perSecSub = 5
)

// frameTypes are the server frame types counted separately; any other
// counts as "other".
var frameTypes = []string{
	"welcome", "ack", "message", "edit", "delete", "typing", "presence", "member",
	"conversation", "left", "synced", "error", "pong", "member_list", "other",
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
	up, opened, connectErrs, reconnects     atomic.Int64
	sent, acks, skipped, sendFailed         atomic.Int64
	deliveries, unacked, pending, unknownCv atomic.Int64
	connKinds, sendErrs, otherErrs, closes  countMap
	frames                                  map[string]*atomic.Int64

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
		frames: make(map[string]*atomic.Int64, len(frameTypes)),
		acked:  make(map[string]int64),
		lat:    newHist(latSub),
	}
	e.ctx, e.cancel = context.WithCancel(ctx)
	for _, t := range frameTypes {
		e.frames[t] = new(atomic.Int64)
	}
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
		v := &vconn{e: e, spec: s, convs: make(map[string]*seqTracker), synced: make(map[string]bool)}
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
		Acked:             e.acks.Load(),
		Unacked:           e.unacked.Load() + e.pending.Load(),
		Skipped:           e.skipped.Load(),
		SendFailed:        e.sendFailed.Load(),
		SendErrors:        e.sendErrs.snapshot(),
		OtherErrors:       e.otherErrs.snapshot(),
		Deliveries:        e.deliveries.Load(),
		UnknownConv:       e.unknownCv.Load(),
		Frames:            make(map[string]int64),
		Latency:           e.lat.snapshot(),
	}
	for _, v := range e.vcs {
		v.mu.Lock()
		for conv, t := range v.convs {
			f := finals[conv]
			r.Expected += max(0, f-t.base)
			r.Lost += t.missing(f)
			r.Doubled += t.dups
			r.Early += t.early
		}
		v.mu.Unlock()
	}
	for k, c := range e.frames {
		if n := c.Load(); n > 0 {
			r.Frames[k] = n
		}
	}
	for _, h := range e.perSec {
		r.PerSecond = append(r.PerSecond, h.snapshot())
	}
	return r
}

func (e *engine) progress() progressSnap {
	return progressSnap{
		Target: int64(len(e.vcs)), Up: e.up.Load(), Opened: e.opened.Load(),
		ConnectErrors: e.connectErrs.Load(), Sent: e.sent.Load(), Deliveries: e.deliveries.Load(),
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

// vconn is one simulated user's connection. It reconnects and resumes
// after a close the server tells clients to recover from, so a slow
// consumer (4008) shows up as a latency spike and a count, not as loss.
type vconn struct {
	e      *engine
	spec   spec
	nextID int64 // sender goroutine only
	buf    bytes.Buffer

	mu          sync.Mutex
	ws          *websocket.Conn // nil while not welcomed
	everUp      bool
	stopping    bool
	convs       map[string]*seqTracker
	synced      map[string]bool
	sendConv    string
	outstanding int64 // sends of the current session not yet acked
}

func (v *vconn) wasUp() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.everUp
}

// isReady reports whether v is subscribed to its room or DM; connections
// that never opened do not hold anything up.
func (v *vconn) isReady() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.everUp || v.ws == nil {
		return true
	}
	switch {
	case v.spec.room != "":
		return v.synced[v.spec.room]
	case v.spec.peer >= 0:
		return len(v.synced) > 0 && v.sendConv != ""
	}
	return true
}

// run owns the connection for the engine's life: the first session (whose
// outcome goes to first), then reconnects while the run lasts.
func (v *vconn) run(ctx context.Context, first func(error)) {
	e := v.e
	defer e.wg.Done()
	token, err := e.signer.Mint(v.spec.user, v.spec.user, auth.RolePeer, tokenTTL(e.cfg))
	if err != nil {
		first(err)
		return
	}
	backoff := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		welcomed, err := v.session(ctx, token, attempt == 0, first)
		if attempt == 0 && !welcomed {
			first(err)
			return
		}
		v.mu.Lock()
		stopping := v.stopping
		v.mu.Unlock()
		if stopping || ctx.Err() != nil {
			return
		}
		if welcomed {
			backoff = 100 * time.Millisecond
			e.closes.add(closeKind(err), 1)
		}
		if !e.cfg.reconnect {
			return
		}
		if sleepCtx(ctx, backoff) != nil {
			return
		}
		backoff = min(2*backoff, 5*time.Second)
		e.reconnects.Add(1)
	}
}

// hello is the client's first frame; resume asks for what was missed.
type hello struct {
	Type   string           `json:"type"`
	Token  string           `json:"token"`
	Resume map[string]int64 `json:"resume,omitempty"`
}

// inFrame holds the fields of the server frames the tool reads.
type inFrame struct {
	Type          string    `json:"type"`
	Conv          string    `json:"conv"`
	Seq           int64     `json:"seq"`
	ID            string    `json:"id"`
	Body          string    `json:"body"`
	Code          string    `json:"code"`
	Conversations []convRef `json:"conversations"`
	Conversation  convRef   `json:"conversation"`
}

type convRef struct {
	ID      string `json:"id"`
	LastSeq int64  `json:"last_seq"`
}

// session dials, says hello and reads until the connection ends. It
// reports whether the server welcomed it; for the first session, first is
// called with nil on the welcome.
func (v *vconn) session(ctx context.Context, token string, isFirst bool, first func(error)) (welcomed bool, err error) {
	e := v.e
	dctx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
	ws, resp, err := websocket.Dial(dctx, e.wsURLs[v.spec.url], &websocket.DialOptions{HTTPClient: e.client(v.spec.source)})
	cancel()
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return false, fmt.Errorf("upgrade refused: HTTP %d", resp.StatusCode)
		}
		return false, err
	}
	defer ws.CloseNow()
	ws.SetReadLimit(readLimit)

	v.mu.Lock()
	h := hello{Type: "hello", Token: token}
	if len(v.convs) > 0 {
		h.Resume = make(map[string]int64, len(v.convs))
		for id, t := range v.convs {
			h.Resume[id] = t.resumeFrom()
		}
	}
	v.mu.Unlock()
	b, _ := json.Marshal(h)

	// A read with a deadline context would tear the connection down
	// mid-frame; a timer closing an unwelcomed socket is enough.
	var ok atomic.Bool
	timer := time.AfterFunc(e.cfg.timeout, func() {
		if !ok.Load() {
			ws.CloseNow()
		}
	})
	defer timer.Stop()
	wctx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
	err = ws.Write(wctx, websocket.MessageText, b)
	cancel()
	if err != nil {
		return false, err
	}

	var refusal string // an error frame before the welcome says why
	defer func() {
		if ok.Load() {
			v.detach()
		} else if refusal != "" {
			err = fmt.Errorf("hello refused: %s", refusal)
		}
	}()
	var f inFrame
	for {
		_, r, err := ws.Reader(ctx)
		if err != nil {
			return ok.Load(), err
		}
		v.buf.Reset()
		if _, err := v.buf.ReadFrom(r); err != nil {
			return ok.Load(), err
		}
		now := time.Now().UnixNano()
		data := v.buf.Bytes()
		if v.buf.Cap() > 256<<10 {
			// A rare huge message (a long catch-up batch) should not
			// pin its buffer for the rest of the run.
			v.buf = bytes.Buffer{}
		}
		for len(data) > 0 {
			var line []byte
			line, data, _ = bytes.Cut(data, []byte{'\n'})
			f = inFrame{}
			if json.Unmarshal(line, &f) != nil {
				e.frames["other"].Add(1)
				continue
			}
			if c := e.frames[f.Type]; c != nil {
				c.Add(1)
			} else {
				e.frames["other"].Add(1)
			}
			switch f.Type {
			case "welcome":
				v.welcome(&f, ws)
				if !ok.Swap(true) && isFirst {
					first(nil)
				}
			case "error":
				if !ok.Load() {
					refusal = f.Code
				}
				v.refused(&f)
			default:
				v.handle(&f, now)
			}
		}
	}
}

// welcome starts tracking the conversations the session is subscribed to
// and makes the connection available to the sender. A conversation
// already tracked (after a reconnect) keeps its position: the resume asked
// the server for everything after it.
func (v *vconn) welcome(f *inFrame, ws *websocket.Conn) {
	v.mu.Lock()
	for _, c := range f.Conversations {
		v.trackLocked(c)
	}
	v.ws = ws
	v.everUp = true
	v.mu.Unlock()
	v.e.up.Add(1)
}

func (v *vconn) trackLocked(c convRef) {
	if _, ok := v.convs[c.ID]; !ok {
		v.convs[c.ID] = newSeqTracker(c.LastSeq)
	}
}

// detach ends a welcomed session: sends still unanswered will never be
// acked on it (the tool does not resend), so they stop being pending.
func (v *vconn) detach() {
	v.mu.Lock()
	n := v.outstanding
	v.ws, v.outstanding = nil, 0
	v.mu.Unlock()
	v.e.pending.Add(-n)
	v.e.unacked.Add(n)
	v.e.up.Add(-1)
}

func (v *vconn) refused(f *inFrame) {
	e := v.e
	if f.ID == "" {
		e.otherErrs.add(f.Code, 1)
		return
	}
	e.sendErrs.add(f.Code, 1)
	v.answered()
}

// answered retires one outstanding send.
func (v *vconn) answered() {
	v.mu.Lock()
	if v.outstanding > 0 {
		v.outstanding--
		v.e.pending.Add(-1)
	}
	v.mu.Unlock()
}

func (v *vconn) handle(f *inFrame, now int64) {
	e := v.e
	switch f.Type {
	case "message":
		e.deliveries.Add(1)
		v.mu.Lock()
		t := v.convs[f.Conv]
		if t == nil {
			// Not announced to this session: track it from here on
			// and count the surprise.
			e.unknownCv.Add(1)
			t = newSeqTracker(f.Seq - 1)
			v.convs[f.Conv] = t
		}
		dup := t.observe(f.Seq)
		v.mu.Unlock()
		if !dup {
			if ts, ok := parseStamp(f.Body); ok {
				e.recordLatency(ts, now)
			}
		}
	case "ack":
		e.acks.Add(1)
		v.answered()
		e.ackMu.Lock()
		if f.Seq > e.acked[f.Conv] {
			e.acked[f.Conv] = f.Seq
		}
		e.ackMu.Unlock()
	case "conversation":
		v.mu.Lock()
		v.trackLocked(f.Conversation)
		if v.spec.peer >= 0 && v.sendConv == "" {
			v.sendConv = f.Conversation.ID
		}
		v.mu.Unlock()
	case "synced":
		v.mu.Lock()
		v.synced[f.Conv] = true
		v.mu.Unlock()
	}
}

// recordLatency files one delivery's end-to-end latency under its send
// time: in the run's histogram if it was sent after the warmup, and in
// the per-second series for the chart either way.
func (e *engine) recordLatency(sentNs, now int64) {
	start := e.startNs.Load()
	if start == 0 || sentNs < start {
		return
	}
	us := (now - sentNs) / 1000
	if sec := (sentNs - start) / int64(time.Second); sec < int64(len(e.perSec)) {
		e.perSec[sec].record(us)
	}
	if sentNs >= e.measureNs.Load() && sentNs < e.stopNs.Load() {
		e.lat.record(us)
	}
}

// parseStamp reads the send time (unix nanoseconds) a body starts with.
func parseStamp(body string) (int64, bool) {
	if i := strings.IndexByte(body, ' '); i >= 0 {
		body = body[:i]
	}
	n, err := strconv.ParseInt(body, 10, 64)
	return n, err == nil && n > 0
}

// appendSend appends a send frame whose body is the send time followed by
// padding up to size bytes. Conversation ids, the numeric id and the body
// need no JSON escaping, so the frame is built directly.
func appendSend(b []byte, conv string, id int64, now int64, size int) []byte {
	b = append(b, `{"type":"send","conv":"`...)
	b = append(b, conv...)
	b = append(b, `","id":"`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `","body":"`...)
	n := len(b)
	b = strconv.AppendInt(b, now, 10)
	if extra := size - (len(b) - n); extra > 0 {
		b = append(b, ' ')
		for range extra - 1 {
			b = append(b, 'x')
		}
	}
	return append(b, `"}`...)
}

// sendLoop sends every period from start until stop. A sender that falls
// behind (a blocked write) sends late rather than in a burst, so the
// offered rate never exceeds --rate; the report shows what was sent.
func (v *vconn) sendLoop(ctx context.Context, start, stop time.Time, period time.Duration) {
	next := start
	t := time.NewTimer(time.Until(next))
	defer t.Stop()
	var buf []byte
	for next.Before(stop) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		buf = v.send(ctx, buf)
		next = next.Add(period)
		if now := time.Now(); next.Before(now) {
			next = now
		}
		t.Reset(time.Until(next))
	}
}

func (v *vconn) send(ctx context.Context, buf []byte) []byte {
	e := v.e
	v.mu.Lock()
	ws, conv := v.ws, v.sendConv
	if ws == nil || conv == "" {
		v.mu.Unlock()
		e.skipped.Add(1)
		return buf
	}
	// Counted before the write: the ack can arrive before Write returns.
	v.outstanding++
	e.pending.Add(1)
	v.mu.Unlock()
	v.nextID++
	buf = appendSend(buf[:0], conv, v.nextID, time.Now().UnixNano(), e.cfg.size)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := ws.Write(wctx, websocket.MessageText, buf)
	cancel()
	if err != nil {
		// The connection is gone; its session's end retires the send.
		e.sendFailed.Add(1)
	} else {
		e.sent.Add(1)
	}
	return buf
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
