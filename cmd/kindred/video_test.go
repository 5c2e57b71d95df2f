package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// videoWS is a signed-in WebSocket to a served node, reading frames one by
// one (the server joins several with "\n").
type videoWS struct {
	t       *testing.T
	ws      *websocket.Conn
	pending [][]byte
}

func dialVideo(t *testing.T, url, tok string) *videoWS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(url, "http", "ws", 1)+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	c := &videoWS{t: t, ws: ws}
	c.write(map[string]any{"type": "hello", "token": tok})
	c.until("welcome")
	return c
}

func (c *videoWS) write(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

// next is the next frame, or nil once the server closed the connection
// (err then says how).
func (c *videoWS) next() (map[string]any, error) {
	for len(c.pending) == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, data, err := c.ws.Read(ctx)
		cancel()
		if err != nil {
			return nil, err
		}
		c.pending = bytes.Split(data, []byte("\n"))
	}
	var f map[string]any
	if err := json.Unmarshal(c.pending[0], &f); err != nil {
		c.t.Fatal(err)
	}
	c.pending = c.pending[1:]
	return f, nil
}

// until returns the next frame of type typ.
func (c *videoWS) until(typ string) map[string]any {
	c.t.Helper()
	for {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", typ, err)
		}
		if f["type"] == typ {
			return f
		}
	}
}

func createRoomAt(t *testing.T, url, tok string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/api/rooms", strings.NewReader(`{"name":"Video group"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create room: %v %v", resp, err)
	}
	defer resp.Body.Close()
	var room struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&room)
	return room.ID
}

// serve runs an SFU by default: a specialist starts and joins a session,
// and stopping the node ends it with node_shutdown before the connection
// closes with 1001.
func TestServeVideoSessionEndsOnShutdown(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	tok := mintToken(t, "--data", data, "--sub", "ann", "--name", "Ann", "--role", "specialist")
	url, stop := serveProcess(t, "--data", data, "--video-max-participants", "4")
	room := createRoomAt(t, url, tok)
	c := dialVideo(t, url, tok)
	c.write(map[string]any{"type": "video_start", "conv": room, "ref": "s"})
	ok := c.until("video_ok")
	session, _ := ok["session"].(string)
	if session == "" {
		t.Fatalf("video_ok without a session: %v", ok)
	}
	c.write(map[string]any{"type": "video_join", "session": session, "ref": "j"})
	c.until("video_joined")

	go stop()
	ended := c.until("video_ended")
	if ended["reason"] != "node_shutdown" || ended["session"] != session {
		t.Fatalf("video_ended: %v", ended)
	}
	for {
		if _, err := c.next(); err != nil {
			if code := websocket.CloseStatus(err); code != websocket.StatusGoingAway {
				t.Fatalf("closed with %v (%v), want 1001", code, err)
			}
			return
		}
	}
}

// --video=false opens no media port and refuses video frames.
func TestServeWithoutVideo(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	tok := mintToken(t, "--data", data, "--sub", "ann", "--name", "Ann", "--role", "specialist")
	url, _ := serveProcess(t, "--data", data, "--video=false")
	room := createRoomAt(t, url, tok)
	c := dialVideo(t, url, tok)
	c.write(map[string]any{"type": "video_start", "conv": room, "ref": "s"})
	if f := c.until("error"); f["code"] != "video_unavailable" || f["ref"] != "s" {
		t.Fatalf("video_start without video: %v", f)
	}
}

func TestServeRefusesBadVideoSettings(t *testing.T) {
	for _, args := range [][]string{
		{"--video-max-participants", "1"},
		{"--video-turn", "turn:turn.example.org:3478"}, // no secret
	} {
		// Accepted settings would serve until the context ends.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := Run(ctx, append([]string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0",
			"--video-udp-port", "0", "--video-tcp-port", "0"}, args...), nil, io.Discard, io.Discard)
		cancel()
		if err == nil {
			t.Errorf("%q was accepted", args)
		}
	}
}

func TestServeHelpListsVideoFlags(t *testing.T) {
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"serve", "--help"}, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"video", "video-max-participants", "video-udp-port"} {
		listed := strings.Contains(out.String(), "  -"+flag+" ") || strings.Contains(out.String(), "  -"+flag+"\n")
		if !listed || !strings.Contains(out.String(), "$"+envName(flag)+"]") {
			t.Errorf("serve --help does not list -%s with $%s", flag, envName(flag))
		}
	}
}
