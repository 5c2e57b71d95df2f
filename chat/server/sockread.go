package server

import (
	"net"
	"sync"
)

// sockReadSize is the buffer a session's socket is read into: one read
// takes a typical client frame (a few hundred bytes) with its header.
const sockReadSize = 512

// sockReadBufs lend sockConns their read buffers.
var sockReadBufs = sync.Pool{New: func() any { return new([sockReadSize]byte) }}

// sockConn is a session's socket as the WebSocket library reads it. The
// library keeps its buffered reader for the connection's life, so that
// one is the smallest bufio allows (16 bytes); beneath it, sockConn reads
// the socket into a buffer borrowed from a pool and gives it back as soon
// as everything read has been taken. A session waiting for its next
// frame holds no read buffer, and a frame still costs one read(2).
//
// Read is called by the session's reader (and, once the session is
// closed, by the writer's close handshake), never by both at once.
type sockConn struct {
	net.Conn
	buf  *[sockReadSize]byte // nil when nothing read is left
	r, w int                 // buf[r:w] is read and not yet taken
	err  error               // the read's error, once buf[r:w] is taken
}

func (s *sockConn) Read(p []byte) (int, error) {
	if s.buf == nil {
		if err := s.err; err != nil {
			s.err = nil
			return 0, err
		}
		if len(p) >= sockReadSize {
			return s.Conn.Read(p)
		}
		buf := sockReadBufs.Get().(*[sockReadSize]byte)
		n, err := s.Conn.Read(buf[:])
		if n == 0 {
			sockReadBufs.Put(buf)
			return 0, err
		}
		s.buf, s.r, s.w, s.err = buf, 0, n, err
	}
	n := copy(p, s.buf[s.r:s.w])
	s.r += n
	if s.r == s.w {
		sockReadBufs.Put(s.buf)
		s.buf = nil
	}
	return n, nil
}

// buffered is how many bytes were read from the socket and not taken.
func (s *sockConn) buffered() int { return s.w - s.r }
