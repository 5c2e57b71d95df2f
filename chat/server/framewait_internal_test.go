package server

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// A session's wait for its next frame allocates nothing, whether bytes
// are already there or it has to park until they come; it is on every
// client frame's path.
func TestFrameWaitAllocatesNothing(t *testing.T) {
	client, sock := tcpPair(t)
	sc := &sockConn{Conn: sock}
	br := bufio.NewReaderSize(sc, sessionReadBuffer)
	c := &conn{fw: newFrameWait(sc, br, false)}
	if canPeek && c.fw.raw == nil {
		t.Fatal("no wait for a TCP socket")
	}
	one := []byte{1}
	present := testing.AllocsPerRun(200, func() {
		_, _ = client.Write(one)
		time.Sleep(100 * time.Microsecond) // let the byte reach the socket
		c.waitFrame()
		_, _ = br.ReadByte()
	})
	later := make(chan struct{})
	go func() {
		for range later {
			time.Sleep(time.Millisecond)
			_, _ = client.Write(one)
		}
	}()
	defer close(later)
	parked := testing.AllocsPerRun(200, func() {
		later <- struct{}{}
		c.waitFrame()
		_, _ = br.ReadByte()
	})
	if present != 0 || parked != 0 {
		t.Fatalf("allocations per wait: %v with bytes there, %v parked", present, parked)
	}
}

// BenchmarkFrameWait is what the wait adds to a client frame that has
// already arrived: a look at the socket (one system call).
func BenchmarkFrameWait(b *testing.B) {
	client, sock := tcpPair(b)
	if _, err := client.Write([]byte{1}); err != nil {
		b.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	sc := &sockConn{Conn: sock}
	c := &conn{fw: newFrameWait(sc, bufio.NewReaderSize(sc, sessionReadBuffer), false)}
	b.ReportAllocs()
	for b.Loop() {
		c.waitFrame()
	}
}

// tcpPair returns both ends of a loopback TCP connection, closed when
// the test ends.
func tcpPair(tb testing.TB) (client, server net.Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { client.Close() })
	server, err = ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { server.Close() })
	return client, server
}
