package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// The receiving side of a connection: reading the server's messages,
// checking every delivery's sequence number, and timing a sample of them.

// inFrame holds the fields of the server frames the tool reads, for the
// full decoder (frames scanFrame leaves to it: welcome, conversation,
// error, and anything unusual).
type inFrame struct {
	Type          string    `json:"type"`
	Conv          string    `json:"conv"`
	Seq           int64     `json:"seq"`
	ID            string    `json:"id"`
	Body          string    `json:"body"`
	Code          string    `json:"code"`
	Temporary     bool      `json:"temporary"`
	RetryAfterMs  int64     `json:"retry_after_ms"`
	Duplicate     bool      `json:"duplicate"`
	Conversations []convRef `json:"conversations"`
	Conversation  convRef   `json:"conversation"`
}

type convRef struct {
	ID      string `json:"id"`
	LastSeq int64  `json:"last_seq"`
}

// readFrames reads messages until the connection ends and returns whether
// the session was welcomed. Reads take a context that is never done: with
// one that can be, the WebSocket library arms and disarms a cancellation
// callback on the engine's context (shared by every connection) for each
// frame read. The session's end closes the socket instead.
func (v *vconn) readFrames(ctx context.Context, ws *websocket.Conn, st *sessionState) (bool, error) {
	stop := context.AfterFunc(ctx, func() { ws.CloseNow() })
	defer stop()
	rctx := context.WithoutCancel(ctx)
	for {
		_, r, err := ws.Reader(rctx)
		if err == nil {
			v.buf.Reset()
			_, err = v.buf.ReadFrom(r)
		}
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return st.ok.Load(), err
		}
		now := time.Now().UnixNano()
		data := v.buf.Bytes()
		if v.buf.Cap() > 256<<10 {
			// A rare huge message (a long catch-up batch) should not
			// pin its buffer for the rest of the run.
			v.buf = bytes.Buffer{}
		}
		v.handleFrames(data, now, ws, st)
	}
}

// handleFrames handles the frames of one message, one per line: the
// common ones from scanFrame's fields, the rest fully decoded.
func (v *vconn) handleFrames(data []byte, now int64, ws *websocket.Conn, st *sessionState) {
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		if scanFrame(line, &st.ff) && v.handleScanned(&st.ff, now) {
			continue
		}
		v.handleDecoded(line, now, ws, st)
	}
}

// handleScanned handles a frame from its scanned fields and reports
// whether it did; welcome, conversation and error frames are left to
// handleDecoded.
func (v *vconn) handleScanned(f *frameFields, now int64) bool {
	k := frameKind(f.typ)
	switch k {
	case kindWelcome, kindConversation, kindError:
		return false
	case kindMessage:
		if !v.deliver(f.conv, f.seq) {
			if ts, ok := bodyStamp(f.body); ok {
				v.timed(ts, now)
			}
		}
	case kindAck:
		v.ack(string(f.id), f.conv, f.seq, f.duplicate)
	case kindSynced:
		v.setSynced(string(f.conv))
	}
	v.frames[k].Add(1)
	return true
}

// handleDecoded decodes a frame fully and handles it.
func (v *vconn) handleDecoded(line []byte, now int64, ws *websocket.Conn, st *sessionState) {
	f := &st.f
	*f = inFrame{}
	if json.Unmarshal(line, f) != nil {
		v.frames[kindOther].Add(1)
		return
	}
	v.frames[frameKind([]byte(f.Type))].Add(1)
	switch f.Type {
	case "welcome":
		v.welcome(f, ws)
		if !st.ok.Swap(true) && st.isFirst {
			st.first(nil)
		}
	case "error":
		if !st.ok.Load() {
			st.refusal = f.Code
		}
		v.refused(f)
	case "message":
		if !v.deliver([]byte(f.Conv), f.Seq) {
			if ts, ok := parseStamp(f.Body); ok {
				v.timed(ts, now)
			}
		}
	case "ack":
		v.ack(f.ID, []byte(f.Conv), f.Seq, f.Duplicate)
	case "conversation":
		v.mu.Lock()
		v.trackLocked(f.Conversation)
		if v.spec.peer >= 0 && v.sendConv == "" {
			v.sendConv = f.Conversation.ID
		}
		v.mu.Unlock()
	case "synced":
		v.setSynced(f.Conv)
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
	v.resendAllLocked()
	v.mu.Unlock()
	v.kickResender()
	v.e.up.Add(1)
}

func (v *vconn) trackLocked(c convRef) {
	if _, ok := v.convs[c.ID]; !ok {
		v.convs[c.ID] = newSeqTracker(c.LastSeq)
	}
}

func (v *vconn) setSynced(conv string) {
	v.mu.Lock()
	v.synced[conv] = true
	v.mu.Unlock()
}

func (v *vconn) refused(f *inFrame) {
	e := v.e
	if f.ID == "" {
		e.otherErrs.add(f.Code, 1)
		return
	}
	e.sendErrs.add(f.Code, 1)
	if f.Temporary {
		v.retryLater(f.ID, max(time.Duration(f.RetryAfterMs)*time.Millisecond, 100*time.Millisecond))
	} else {
		v.settle(f.ID)
	}
}

// deliver records that sequence seq of conv arrived (every delivery is
// checked) and reports whether it had already.
func (v *vconn) deliver(conv []byte, seq int64) (dup bool) {
	v.delivered.Add(1)
	v.mu.Lock()
	t := v.convs[string(conv)]
	if t == nil {
		// Not announced to this session: track it from here on and
		// count the surprise.
		v.e.unknownCv.Add(1)
		t = newSeqTracker(seq - 1)
		v.convs[string(conv)] = t
	}
	dup = t.observe(seq)
	v.mu.Unlock()
	return dup
}

// timed takes a first delivery's send time: it counts the delivery when
// the message was sent in the measured window (deliveries/s are exact) and
// times one delivery in --sample into the latency histograms. Only the
// connection's reader calls it.
func (v *vconn) timed(sentNs, now int64) {
	e := v.e
	start := e.startNs.Load()
	if start == 0 || sentNs < start {
		return
	}
	inWindow := sentNs >= e.measureNs.Load() && sentNs < e.stopNs.Load()
	if inWindow {
		v.measured.Add(1)
	}
	if v.sampleLeft--; v.sampleLeft > 0 {
		return
	}
	v.sampleLeft = e.cfg.sample
	e.recordLatency(sentNs, now, inWindow)
}

func (v *vconn) ack(id string, conv []byte, seq int64, duplicate bool) {
	e := v.e
	if v.settle(id) {
		e.acks.Add(1)
	}
	if duplicate {
		e.dupAcks.Add(1)
	}
	e.ackMu.Lock()
	if seq > e.acked[string(conv)] {
		e.acked[string(conv)] = seq
	}
	e.ackMu.Unlock()
}

// parseStamp reads the send time (unix nanoseconds) a body starts with.
func parseStamp(body string) (int64, bool) {
	if i := strings.IndexByte(body, ' '); i >= 0 {
		body = body[:i]
	}
	n, err := strconv.ParseInt(body, 10, 64)
	return n, err == nil && n > 0
}
