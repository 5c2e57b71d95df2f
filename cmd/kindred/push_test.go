package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/kindred-health/kindred/chat/webpush"
)

func pushKey(t *testing.T, url, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/api/push/key", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var k struct {
		PublicKey string `json:"public_key"`
	}
	json.NewDecoder(resp.Body).Decode(&k)
	return resp.StatusCode, k.PublicKey
}

// Web Push is on with --push-subject; its key pair is made on first start
// and kept in the store, so a restart (or another node) signs with the
// same; --vapid-key-file gives one instead. Bad settings are refused.
func TestServePush(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--data", t.TempDir(), "--push-subject", "oncall@example.org"},
		{"serve", "--data", t.TempDir(), "--push-subject", "http://example.org"},
		{"serve", "--data", t.TempDir(), "--vapid-key-file", "/dev/null"},
		{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--push-subject", "mailto:a@example.org", "--vapid-key-file", filepath.Join(t.TempDir(), "none")},
	} {
		if err := Run(context.Background(), args, nil, io.Discard, io.Discard); err == nil {
			t.Errorf("%q was accepted", args)
		}
	}
	data := filepath.Join(t.TempDir(), "data")
	tok := mintToken(t, "--data", data, "--sub", "sue", "--name", "Sue", "--role", "supervisor")
	url, stop := serveProcess(t, "--data", data)
	if st, _ := pushKey(t, url, tok); st != http.StatusServiceUnavailable {
		t.Errorf("without --push-subject: %d, want 503", st)
	}
	stop()
	url, stop = serveProcess(t, "--data", data, "--push-subject", "mailto:oncall@example.org")
	st, first := pushKey(t, url, tok)
	if st != http.StatusOK || first == "" {
		t.Fatalf("GET /api/push/key: %d %q", st, first)
	}
	stop()
	url, stop = serveProcess(t, "--data", data, "--push-subject", "mailto:oncall@example.org")
	if _, again := pushKey(t, url, tok); again != first {
		t.Errorf("the key changed across a restart: %q then %q", first, again)
	}
	stop()
	keys, _ := webpush.GenerateKeys()
	file := filepath.Join(t.TempDir(), "vapid")
	if err := os.WriteFile(file, []byte(keys.Private()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url, _ = serveProcess(t, "--data", data, "--push-subject", "https://example.org/contact", "--vapid-key-file", file)
	if _, given := pushKey(t, url, tok); given != keys.PublicKey() {
		t.Errorf("with --vapid-key-file the key is %q, want %q", given, keys.PublicKey())
	}
}
