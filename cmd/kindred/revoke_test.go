package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// kindred revoke --user, against a node on PostgreSQL and Redis: the
// user's open session on the node closes with 4011 within a second and
// their token is refused at the next hello; another user's session stays.
func TestRevokeCommand(t *testing.T) {
	common := clusterArgs(t)
	url, _ := serveProcess(t, append([]string{"--data", t.TempDir()}, common...)...)
	wsURL := strings.Replace(url, "http", "ws", 1) + "/ws"
	pat, bob := mintToken(t, "--sub", "pat"), mintToken(t, "--sub", "bob")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	open := func(tok string) *websocket.Conn {
		ws, _, err := websocket.Dial(ctx, wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		b, _ := json.Marshal(map[string]any{"type": "hello", "token": tok})
		ws.Write(ctx, websocket.MessageText, b)
		if _, data, err := ws.Read(ctx); err != nil || !bytes.Contains(data, []byte(`"welcome"`)) {
			t.Fatalf("hello: %s %v", data, err)
		}
		return ws
	}
	wp, wb := open(pat), open(bob)

	var out bytes.Buffer
	if err := Run(ctx, append([]string{"revoke", "--user", "pat", "--data", t.TempDir()}, common...), nil, &out, io.Discard); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	since := time.Now()
	var err error
	told := false
	for err == nil {
		var data []byte
		_, data, err = wp.Read(ctx)
		told = told || bytes.Contains(data, []byte(`"code":"token_revoked"`))
	}
	if !told {
		t.Error("pat's session was not told token_revoked")
	}
	if code := websocket.CloseStatus(err); code != 4011 || time.Since(since) > time.Second {
		t.Errorf("pat's session: close %d (%v) %v after the revocation, want 4011 within a second", code, err, time.Since(since))
	}
	if !strings.Contains(out.String(), "generation 1") || !strings.Contains(out.String(), "every node") {
		t.Errorf("revoke printed:\n%s", out.String())
	}
	if code, reply := helloOnce(t, wsURL, pat); code != 4011 || !strings.Contains(reply, `"token_revoked"`) {
		t.Errorf("pat's token after the revocation: close %d, %s", code, reply)
	}
	wb.Write(ctx, websocket.MessageText, []byte(`{"type":"ping","ref":"p"}`))
	if _, data, err := wb.Read(ctx); err != nil || !bytes.Contains(data, []byte(`"pong"`)) {
		t.Errorf("bob's session: %s %v", data, err)
	}
	if err := Run(ctx, []string{"revoke", "--user", "a\nb", "--data", t.TempDir()}, nil, io.Discard, io.Discard); err == nil {
		t.Error("revoke accepted a user id no token could carry")
	}
}
