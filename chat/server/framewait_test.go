package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/auth"
)

// corkConn is a client's socket that, while corked, holds what the
// client writes and sends it in one write when uncorked, so that the
// server finds several frames in one read.
type corkConn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	held   []byte
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	_, err := c.Conn.Write(c.held)
	c.held = nil
	return err
}

// dialCorked opens a session whose socket can be corked.
func dialCorked(e *env) (*client, *corkConn) {
	var cc *corkConn
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cc = &corkConn{Conn: conn}
		return cc, nil
	}
	c := e.dialRaw(&websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dial}}})
	return c, cc
}

// A client may send many frames at once (a phone back on the network
// sends what it queued), and the server answers every one however they
// fall into its reads. Here each frame is 64 bytes (6 of header and mask,
// 58 of JSON), so the server's 512-byte reads end exactly between two
// frames while more wait in the socket, with no new arrival to announce
// them: a session that waited for one (framewait.go) would answer eight
// and hang.
func TestPipelinedFramesAllAnswered(t *testing.T) {
	e := newEnv(t)
	c, cc := dialCorked(e)
	c.hello(e.token("ann", auth.RolePeer), nil)
	const n = 40
	ref := func(i int) string { return fmt.Sprintf("%034d", i) }
	cc.cork()
	for i := range n {
		c.sendRaw([]byte(`{"type":"ping","ref":"` + ref(i) + `"}`))
	}
	if err := cc.uncork(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		f := c.take(func(f frame) bool { return f.Type == "pong" || f.Type == "error" })
		if f.Type != "pong" || f.Ref != ref(i) {
			t.Fatalf("answer %d of %d: %s", i+1, n, f.raw)
		}
	}
}
