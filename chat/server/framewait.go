package server

import (
	"bufio"
	"syscall"
)

// An idle session's reader used to park inside the WebSocket library's
// read, several calls deep, which needs a stack of more than the 2 KiB a
// goroutine starts with: about 4 KiB per idle session, which the runtime
// never gives back while the reader sits there. frameWait lets the reader
// wait for its next frame first, one shallow call into the runtime's
// poller, and enter the library only once bytes have arrived; a stack
// grown by a frame is then shrunk by the next collection.

// frameWait waits until a session's socket has something to read. The
// zero value, and one for a socket without a file descriptor (TLS served
// by the node itself, a test pipe), does not wait.
type frameWait struct {
	// br is the library's buffered reader, and sock what it reads: a
	// frame already in either needs no wait. Their counts are read only
	// by the session's reader, under conn.mu while the session is open
	// (the writer's close handshake reads through them once it is
	// closed).
	br   *bufio.Reader
	sock *sockConn // what br reads, with bytes of its own (sockread.go)
	raw  syscall.RawConn
	// asked is set once ready has been called in this wait; ready is
	// the method value, made once, that raw.Read calls.
	asked bool
	ready func(fd uintptr) bool
}

// newFrameWait returns the wait for sock, read through br; early says
// bytes the client sent with its upgrade request were queued in front of
// the socket where the buffers' counts do not show them: no waiting then.
func newFrameWait(sock *sockConn, br *bufio.Reader, early bool) frameWait {
	sc, ok := sock.Conn.(syscall.Conn)
	if !ok || early || !canPeek {
		return frameWait{}
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return frameWait{}
	}
	return frameWait{br: br, sock: sock, raw: raw}
}

// waitFrame returns once the session's socket has bytes (or an end or an
// error, which the library's read then reports), unless a frame is
// already buffered or the session is closing.
func (c *conn) waitFrame() {
	w := &c.fw
	if w.raw == nil {
		return
	}
	c.mu.Lock()
	buffered := c.closed || w.br.Buffered() > 0 || w.sock.buffered() > 0
	c.mu.Unlock()
	if buffered {
		return
	}
	if w.ready == nil {
		w.ready = w.readyFD
	}
	w.asked = false
	// raw.Read calls ready; on false it parks until the poller says the
	// socket is readable and calls ready again. An error (the socket was
	// closed) leaves it to the library's read to report.
	_ = w.raw.Read(w.ready)
}

// readyFD reports whether to stop waiting: on its second call (the
// poller said readable), or when a look at the socket, which takes
// nothing from it, finds bytes, an end or an error. The look cannot be
// skipped: before calling ready the runtime forgets any arrival it was
// told of, expecting ready to try the socket itself, and bytes left by a
// read that filled its buffer are never announced again.
func (w *frameWait) readyFD(fd uintptr) bool {
	if w.asked {
		return true
	}
	w.asked = true
	return !peekEmpty(fd)
}
