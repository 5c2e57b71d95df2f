package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/auth"
)

// One simulated user's connection (vconn): its sessions (dial, hello,
// reading frames), the conversations it tracks and the messages it sends.

// readLimit is far above anything the server writes: it batches frames up
// to 64 KiB per WebSocket message, and a welcome lists every conversation.
// The library's default (32 KiB) would close busy connections.
const readLimit = 16 << 20

// vconn is one simulated user's connection. It reconnects and resumes
// after a close the server tells clients to recover from, so a slow
// consumer (4008) shows up as a latency spike and a count, not as loss.
type vconn struct {
	e      *engine
	spec   spec
	nextID int64 // sender goroutine only
	buf    bytes.Buffer
	url    int       // index into the engine's URLs; run's goroutine only
	crisis time.Time // when to send the crisis message (zero: none or sent); sender only
	kick   chan struct{}

	mu       sync.Mutex
	ws       *websocket.Conn // nil while not welcomed
	everUp   bool
	stopping bool
	convs    map[string]*seqTracker
	synced   map[string]bool
	sendConv string
	outbox   map[string]*outMsg // sends not yet answered, by id

	// Counted by the reader, summed by the engine: atomics that no other
	// connection touches, so readers do not contend over shared counters.
	delivered  atomic.Int64           // message frames received
	measured   atomic.Int64           // first deliveries of messages sent in the measured window
	frames     [numKinds]atomic.Int64 // frames received, by kind
	sampleLeft int                    // deliveries until the next latency sample; reader only
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
// outcome goes to first), then reconnects while the run lasts. Once its
// node has refused reconnects for --failover-after (it is down), it tries
// the next node, as a load balancer whose health check marked the node
// down would send it elsewhere; a node restarted sooner gets its clients
// back.
func (v *vconn) run(ctx context.Context, first func(error)) {
	e := v.e
	defer e.wg.Done()
	role := auth.RolePeer
	if v.spec.supervisor {
		role = auth.RoleSupervisor
	}
	token, err := e.signer.Mint(v.spec.user, v.spec.user, role, tokenTTL(e.cfg))
	if err != nil {
		first(err)
		return
	}
	backoff := 100 * time.Millisecond
	var refusedSince time.Time
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
		switch {
		case welcomed:
			backoff, refusedSince = 100*time.Millisecond, time.Time{}
			e.closes.add(closeKind(err), 1)
		case refusedSince.IsZero():
			refusedSince = time.Now()
		case time.Since(refusedSince) >= e.cfg.failover:
			v.url, refusedSince = (v.url+1)%len(e.wsURLs), time.Time{}
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

// session dials, says hello and reads until the connection ends. It
// reports whether the server welcomed it; for the first session, first is
// called with nil on the welcome.
func (v *vconn) session(ctx context.Context, token string, isFirst bool, first func(error)) (welcomed bool, err error) {
	e := v.e
	ws, err := v.dial(ctx)
	if err != nil {
		return false, err
	}
	defer ws.CloseNow()
	ws.SetReadLimit(readLimit)
	b := v.helloFrame(token)

	// A read with a deadline context would tear the connection down
	// mid-frame; a timer closing an unwelcomed socket is enough.
	st := &sessionState{isFirst: isFirst, first: first}
	timer := time.AfterFunc(e.cfg.timeout, func() {
		if !st.ok.Load() {
			ws.CloseNow()
		}
	})
	defer timer.Stop()
	// The session's resender writes what the outbox has due (after the
	// welcome, and after temporary errors); it ends with the session.
	rctx, stopResend := context.WithCancel(ctx)
	resent := make(chan struct{})
	go func() {
		defer close(resent)
		v.resender(rctx, ws)
	}()
	defer func() {
		stopResend()
		<-resent
	}()
	wctx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
	err = ws.Write(wctx, websocket.MessageText, b)
	cancel()
	if err != nil {
		return false, err
	}

	defer func() {
		if st.ok.Load() {
			v.detach()
		} else if st.refusal != "" {
			err = fmt.Errorf("hello refused: %s", st.refusal)
		}
	}()
	return v.readFrames(ctx, ws, st)
}

// sessionState is what a session's reader shares with its timer and its
// end.
type sessionState struct {
	ok      atomic.Bool // welcomed
	refusal string      // an error frame before the welcome says why
	isFirst bool
	first   func(error)
	f       inFrame     // the frame being decoded, reused
	ff      frameFields // the frame being scanned, reused
}

// dial opens the WebSocket.
func (v *vconn) dial(ctx context.Context) (*websocket.Conn, error) {
	e := v.e
	dctx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
	ws, resp, err := websocket.Dial(dctx, e.wsURLs[v.url], &websocket.DialOptions{HTTPClient: e.client(v.spec.source)})
	cancel()
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("upgrade refused: HTTP %d", resp.StatusCode)
		}
		return nil, err
	}
	return ws, nil
}

// helloFrame encodes the hello frame, resuming every conversation tracked.
func (v *vconn) helloFrame(token string) []byte {
	v.mu.Lock()
	h := hello{Type: "hello", Token: token}
	if len(v.convs) > 0 {
		h.Resume = make(map[string]int64, len(v.convs))
		for id, t := range v.convs {
			h.Resume[id] = t.resume()
		}
	}
	v.mu.Unlock()
	b, _ := json.Marshal(h)
	return b
}

// detach ends a welcomed session. Its unanswered sends stay in the outbox
// for the next session to resend, unless there will be none.
func (v *vconn) detach() {
	v.mu.Lock()
	v.ws = nil
	v.mu.Unlock()
	if !v.e.cfg.reconnect {
		v.dropOutbox()
	}
	v.e.up.Add(-1)
}

// crisisText makes a message the server's detector scores imminent, so that
// it opens an escalation (--crisis).
const crisisText = "I have the pills and I'm taking them tonight"

// appendSend appends a send frame whose body is the send time followed by
// the crisis text when asked for, and padding up to size bytes.
// Conversation ids, the numeric id and the body need no JSON escaping, so
// the frame is built directly.
func appendSend(b []byte, conv string, id int64, now int64, size int, crisis bool) []byte {
	b = append(b, `{"type":"send","conv":"`...)
	b = append(b, conv...)
	b = append(b, `","id":"`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `","body":"`...)
	n := len(b)
	b = strconv.AppendInt(b, now, 10)
	if crisis {
		b = append(b, " "+crisisText...)
	}
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
	v.mu.Unlock()
	now := time.Now()
	crisis := !v.crisis.IsZero() && !now.Before(v.crisis)
	if crisis {
		v.crisis = time.Time{}
		e.crisisSent.Add(1)
	}
	v.nextID++
	buf = appendSend(buf[:0], conv, v.nextID, now.UnixNano(), e.cfg.size, crisis)
	// In the outbox before the write: the ack can arrive before Write
	// returns.
	v.queueSend(v.nextID, append([]byte(nil), buf...))
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := ws.Write(wctx, websocket.MessageText, buf)
	cancel()
	if err != nil {
		// The connection is gone; the next session resends it.
		e.sendFailed.Add(1)
	} else {
		e.sent.Add(1)
	}
	return buf
}
