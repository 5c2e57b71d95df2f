package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// textFrame's frames, written through the sockWriter under the library,
// are read back by the library's client as the messages they carry, at
// each boundary of the header's length encodings; nothing follows the
// library's close frame.
func TestTextFramesReadByTheLibrary(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 1000, 0xffff, 0x10000, 70000}
	msg := func(n int) []byte { return bytes.Repeat([]byte{'a' + byte(n%26)}, n) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lh := &leanHijacker{ResponseWriter: w}
		ws, err := websocket.Accept(lh, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		// Read, so that the client's pings are answered.
		go func() { _, _, _ = ws.Read(context.Background()) }()
		buf := make([]byte, frameHeaderRoom)
		for _, n := range sizes {
			if err := lh.sock.writeText(textFrame(append(buf[:frameHeaderRoom], msg(n)...))); err != nil {
				t.Error(err)
				return
			}
		}
		ws.Close(websocket.StatusNormalClosure, "done")
		if err := lh.sock.writeText(textFrame(append(buf[:frameHeaderRoom], 'x'))); err == nil {
			t.Error("a frame was written after the close frame")
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(srv.URL, "http", "ws", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(-1)
	for _, n := range sizes {
		typ, got, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("reading the %d-byte message: %v", n, err)
		}
		if typ != websocket.MessageText || !bytes.Equal(got, msg(n)) {
			t.Fatalf("message of %d bytes: got type %v, %d bytes", n, typ, len(got))
		}
	}
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("after the messages: %v, want the close", err)
	}
}

// A write the library splits would let a message land inside its frame:
// the sockWriter refuses it instead.
func TestWholeFrames(t *testing.T) {
	pong := []byte{0x8a, 3, 'a', 'b', 'c'}
	closeFrame := []byte{0x88, 2, 0x03, 0xe8}
	for _, tc := range []struct {
		p         []byte
		close, ok bool
	}{
		{pong, false, true},
		{closeFrame, true, true},
		{append(append([]byte{}, pong...), closeFrame...), true, true},
		{pong[:4], false, false},
		{pong[:1], false, false},
		{[]byte{0x81, 126, 0}, false, false},
		{[]byte{0x8a, 0x83, 1, 2, 3, 4, 'a', 'b', 'c'}, false, false}, // masked
	} {
		close, ok := wholeFrames(tc.p)
		if close != tc.close || ok != tc.ok {
			t.Errorf("wholeFrames(% x) = %v, %v; want %v, %v", tc.p, close, ok, tc.close, tc.ok)
		}
	}
}
