package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// kindred token will not mint past --max-token-age (7 days by default),
// and serve refuses, at the WebSocket hello, a token that lives longer
// than its own --max-token-age with token_invalid and close 4001.
func TestMaxTokenAge(t *testing.T) {
	t.Setenv("KINDRED_JWT_SECRET", "")
	data := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{
		{"--ttl", "192h"}, // 8 days, past the default
		{"--ttl", "2h", "--max-token-age", "1h"},
		{"--max-token-age", "0"},
	} {
		var errOut bytes.Buffer
		args = append([]string{"token", "--data", data, "--sub", "ann"}, args...)
		if err := Run(context.Background(), args, nil, io.Discard, &errOut); err == nil {
			t.Errorf("%q minted a token", args)
		}
	}
	week := mintToken(t, "--data", data, "--sub", "ann", "--ttl", "168h")
	twoDays := mintToken(t, "--data", data, "--sub", "ann", "--ttl", "48h")
	hour := mintToken(t, "--data", data, "--sub", "ann", "--ttl", "1h")

	url, _ := serveProcess(t, "--data", data, "--max-token-age", "24h")
	wsURL := strings.Replace(url, "http", "ws", 1) + "/ws"
	if code, reply := helloOnce(t, wsURL, hour); !strings.Contains(reply, `"type":"welcome"`) {
		t.Fatalf("a one-hour token was refused (%d): %s", code, reply)
	}
	for name, tok := range map[string]string{"two days": twoDays, "a week": week} {
		code, reply := helloOnce(t, wsURL, tok)
		if code != 4001 || !strings.Contains(reply, `"code":"token_invalid"`) || !strings.Contains(reply, "lives longer") {
			t.Errorf("a token of %s under a 24h cap: close %d, %s", name, code, reply)
		}
	}
	if _, err := serveWithArgs(t, "--data", data, "--max-token-age", "-1h"); err == nil {
		t.Error("serve accepted a negative --max-token-age")
	}
}

// helloOnce connects to wsURL, says hello with tok and returns the close
// code (0 if still open) and the first frame.
func helloOnce(t *testing.T, wsURL, tok string) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	b, _ := json.Marshal(map[string]any{"type": "hello", "token": tok})
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	_, first, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("no reply to hello: %v", err)
	}
	if bytes.Contains(first, []byte(`"type":"welcome"`)) {
		return 0, string(first)
	}
	for err == nil {
		_, _, err = ws.Read(ctx)
	}
	return websocket.CloseStatus(err), string(first)
}

// serveWithArgs runs serve with args expecting it to fail at start-up.
func serveWithArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--video-udp-port", "0", "--video-tcp-port", "0"}, args...), nil, &out, io.Discard)
	return out.String(), err
}
