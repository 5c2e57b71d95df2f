package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
)

// Buffer sizes of a WebSocket session's socket, chosen for memory per idle
// connection: net/http hands a hijacked connection over with 4 KiB read
// and write buffers that the WebSocket library keeps for the connection's
// whole life. The library's read buffer is bufio's smallest, over a
// sockConn that reads into a buffer lent only while it holds bytes
// (sockread.go). The writer batches frames itself, and the library
// writes only control frames (at most 131 bytes) through its buffer.
const (
	sessionReadBuffer  = 16
	sessionWriteBuffer = 256
)

// leanHijacker gives the WebSocket library smaller buffers than net/http's
// when it hijacks the connection, and writes through a sockWriter, which
// the session's writer shares (sockwrite.go).
type leanHijacker struct {
	http.ResponseWriter
	sock *sockWriter
	// wait is how the session's reader waits for its next frame
	// (framewait.go), set by Hijack.
	wait frameWait
}

// Hijack takes over the connection from net/http, keeping any bytes the
// client sent early, and wraps it in small buffers.
func (l *leanHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(l.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	sock := &sockConn{Conn: conn}
	br := bufio.NewReaderSize(sock, sessionReadBuffer)
	if n := brw.Reader.Buffered(); n > 0 {
		// Bytes the client sent right after the handshake (net/http's
		// background read may have taken the first byte of its hello).
		// They must end up buffered, not merely queued in front of the
		// socket: the library re-wraps the reader around the socket and
		// keeps only what is buffered.
		early, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), sock), max(n, sessionReadBuffer))
		if _, err := br.Peek(n); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	l.sock = &sockWriter{conn: conn}
	l.wait = newFrameWait(sock, br, brw.Reader.Buffered() > 0)
	return sock, bufio.NewReadWriter(br, bufio.NewWriterSize(l.sock, sessionWriteBuffer)), nil
}
