package server

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Bytes a client sends right behind its upgrade request must survive the
// hand-over to smaller buffers, including the library's re-wrapping of the
// reader around the socket, which keeps only what is buffered.
func TestLeanHijackKeepsEarlyBytes(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := (&leanHijacker{ResponseWriter: w}).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		// What coder/websocket does after hijacking.
		b, _ := brw.Reader.Peek(brw.Reader.Buffered())
		brw.Reader.Reset(io.MultiReader(bytesReader(b), conn))
		line, _ := brw.Reader.ReadString('\n')
		got <- line
	}))
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The request and the early bytes in one write, so the server's
	// buffered reader already holds them at hijack time.
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\nearly bytes\n")); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	if line := <-got; line != "early bytes\n" {
		t.Fatalf("server read %q", line)
	}
}

func bytesReader(b []byte) io.Reader {
	cp := append([]byte(nil), b...)
	return &sliceReader{cp}
}

type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
