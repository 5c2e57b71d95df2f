package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/server"
)

// Several members send at once into one room while its readers ping the
// server without pause: the session writers frame their batches
// themselves and put them on the socket between the library's pongs
// (sockwrite.go). Every reader must still get every message exactly once,
// in sequence order, each sender's in the order sent, on a stream the
// client library parses (a frame interleaved into another breaks it).
func TestDeliveriesSurviveConcurrentSendersAndPings(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.SendRate = -1 })
	const senders, perSender = 4, 150
	owner := e.token("own", auth.RoleSpecialist)
	room := e.createRoom(owner, "busy room")
	var members []*client
	for i := range senders {
		c := e.dial(e.token(fmt.Sprintf("u%d", i), auth.RolePeer), nil)
		c.join(room.ID)
		members = append(members, c)
	}
	reader := e.dial(owner, nil)
	reader.expectSynced(room.ID)

	// A large body makes batches pass the 125- and 64 KiB-byte framing
	// boundaries as the queue fills.
	body := strings.Repeat("x", 900)
	ctx, stopPings := context.WithCancel(context.Background())
	var pings sync.WaitGroup
	defer pings.Wait()
	defer stopPings()
	for _, c := range append([]*client{reader}, members...) {
		pings.Add(1)
		go func() {
			defer pings.Done()
			for ctx.Err() == nil {
				if err := c.ws.Ping(ctx); err != nil && ctx.Err() == nil {
					t.Errorf("ping: %v", err)
					return
				}
			}
		}()
	}
	var sends sync.WaitGroup
	for i, c := range members {
		sends.Add(1)
		go func() {
			defer sends.Done()
			for j := range perSender {
				b := fmt.Appendf(nil, `{"type":"send","conv":%q,"id":"s%d-%d","body":%q}`, room.ID, i, j, body)
				if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
					t.Errorf("send: %v", err)
					return
				}
			}
		}()
	}
	sends.Wait()
	for _, c := range append([]*client{reader}, members...) {
		checkAllDelivered(t, c, room.ID, senders*perSender)
	}
}

// checkAllDelivered reads the room's events 1..n and fails on a gap, a
// repeat, or a sender's messages out of the order it sent them.
func checkAllDelivered(t *testing.T, c *client, conv string, n int) {
	t.Helper()
	next := map[string]int{} // by sender: the index expected next
	for want := int64(1); want <= int64(n); want++ {
		f := c.expectEvent(conv)
		if f.Seq != want {
			t.Fatalf("got seq %d, want %d", f.Seq, want)
		}
		var s, j int
		if _, err := fmt.Sscanf(f.ID, "s%d-%d", &s, &j); err != nil {
			t.Fatalf("event %d has id %q", f.Seq, f.ID)
		}
		if key := fmt.Sprint(s); j != next[key] {
			t.Fatalf("sender %d: got message %d, want %d", s, j, next[key])
		}
		next[fmt.Sprint(s)]++
	}
	if err := c.closeErr(); err != nil {
		t.Fatalf("stream broken: %v", err)
	}
}

// A client that offers permessage-deflate is answered without it: the
// session writers put uncompressed frames on the socket themselves, so the
// extension must never be agreed (a browser would then expect it).
func TestCompressionIsNeverNegotiated(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := strings.Replace(e.http.URL, "http", "ws", 1) + "/ws"
	ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer ws.CloseNow()
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Fatalf("the server agreed to %q", ext)
	}
	// The session works uncompressed: hello is answered with welcome.
	hello := fmt.Sprintf(`{"type":"hello","token":%q}`, e.token("ann", auth.RolePeer))
	if err := ws.Write(ctx, websocket.MessageText, []byte(hello)); err != nil {
		t.Fatal(err)
	}
	_, data, err := ws.Read(ctx)
	if err != nil || !strings.Contains(string(data), `"type":"welcome"`) {
		t.Fatalf("after hello: %q, %v", data, err)
	}
}
