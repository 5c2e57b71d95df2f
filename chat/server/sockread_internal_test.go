package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"
)

// Whatever sizes the client's writes and the library's reads come in,
// the bytes arrive whole and in order through the 16-byte reader and the
// lent buffer, and once everything read has been taken the buffer is
// given back.
func TestSockConnLendsItsBuffer(t *testing.T) {
	client, server := net.Pipe()
	want := make([]byte, 0, 8000)
	for i := 0; len(want) < 7000; i++ {
		want = append(want, byte(i*7+i/13))
	}
	go func() {
		rest := want
		for _, n := range []int{1, 7, 600, 13, 511, 512, 513, 2, 1500, 16, 17, 3000} {
			n = min(n, len(rest))
			if _, err := client.Write(rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
		}
		_, _ = client.Write(rest)
		client.Close()
	}()
	sc := &sockConn{Conn: server}
	br := bufio.NewReaderSize(sc, sessionReadBuffer)
	var got []byte
	for i := 0; ; i++ {
		var err error
		if i%3 == 0 {
			var b byte
			if b, err = br.ReadByte(); err == nil {
				got = append(got, b)
			}
		} else {
			p := make([]byte, []int{5, 1024}[i%3-1])
			var n int
			n, err = br.Read(p)
			got = append(got, p[:n]...)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, differing from the %d written", len(got), len(want))
	}
	if sc.buf != nil || sc.buffered() != 0 {
		t.Fatalf("the buffer is kept with %d bytes after everything was taken", sc.buffered())
	}
}
