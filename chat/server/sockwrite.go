package server

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
)

// sockWriter is a session socket's writer, under the WebSocket library's
// buffered writer. The library writes only control frames through it
// (pongs, the close): every frame it writes ends with a flush, and a
// control frame (at most 131 bytes) fits the buffer, so each arrives here
// whole, in one Write. The session's writer puts its own text messages,
// framed in its batch buffer (textFrame), on the socket between them under
// the same lock: one write(2) per batch, without the library's per-message
// locks and copy, and without a second write(2) when a batch is larger
// than the library's buffer (BENCHMARKS.md, "The delivery path").
type sockWriter struct {
	conn net.Conn
	mu   sync.Mutex
	// closeSent is set once a close frame went out: nothing may follow.
	closeSent bool
	err       error
}

var errSplitFrame = errors.New("websocket: a control frame reached the socket in pieces")

// Write is the library's path: p must be whole frames.
func (w *sockWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	close, ok := wholeFrames(p)
	if !ok {
		// Another frame could land inside this one: refuse, which
		// fails the library's write and ends the session.
		w.err = errSplitFrame
		return 0, w.err
	}
	n, err := w.conn.Write(p)
	if close {
		w.closeSent = true
	}
	if err != nil {
		w.err = err
	}
	return n, err
}

// writeText writes one text message framed by textFrame.
func (w *sockWriter) writeText(frame []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.closeSent {
		return net.ErrClosed
	}
	if _, err := w.conn.Write(frame); err != nil {
		w.err = err
		return err
	}
	return nil
}

// wholeFrames reports whether p is a sequence of complete unmasked frames
// and whether one of them is a close frame.
func wholeFrames(p []byte) (close, ok bool) {
	for len(p) > 0 {
		if len(p) < 2 || p[1]&0x80 != 0 {
			return close, false
		}
		hdr, n := 2, uint64(p[1]&0x7f)
		switch n {
		case 126:
			if len(p) < 4 {
				return close, false
			}
			hdr, n = 4, uint64(binary.BigEndian.Uint16(p[2:]))
		case 127:
			if len(p) < 10 {
				return close, false
			}
			hdr, n = 10, binary.BigEndian.Uint64(p[2:])
		}
		if n > uint64(len(p)-hdr) {
			return close, false
		}
		if p[0]&0x0f == 0x8 {
			close = true
		}
		p = p[hdr+int(n):]
	}
	return close, true
}

// frameHeaderRoom is the room a batch buffer keeps in front of its payload
// for the longest frame header.
const frameHeaderRoom = 10

// textFrame turns buf, frameHeaderRoom bytes followed by a payload, into a
// final unmasked text frame (RFC 6455 section 5.2) and returns it: the
// header is written just before the payload, no byte is moved.
func textFrame(buf []byte) []byte {
	n := len(buf) - frameHeaderRoom
	var h int
	switch {
	case n <= 125:
		h = frameHeaderRoom - 2
		buf[h+1] = byte(n)
	case n <= 0xffff:
		h = frameHeaderRoom - 4
		buf[h+1] = 126
		binary.BigEndian.PutUint16(buf[h+2:], uint16(n))
	default:
		h = 0
		buf[1] = 127
		binary.BigEndian.PutUint64(buf[2:], uint64(n))
	}
	buf[h] = 0x81 // FIN, text
	return buf[h:]
}
