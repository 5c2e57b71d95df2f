package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// freeAddr is a loopback address nothing listens on (just now).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// --metrics-addr serves the metrics on a listener of their own (shared
// with pprof when it is the --debug-addr), never on the public port;
// --metrics-token-file serves them on the public port to its bearer only.
func TestServeMetrics(t *testing.T) {
	ops := freeAddr(t)
	url, _ := serveProcess(t, "--data", t.TempDir(), "--metrics-addr", ops, "--debug-addr", ops)
	if st, body := get(t, "http://"+ops+"/metrics", ""); st != 200 || !strings.Contains(body, "kindred_connections") {
		t.Fatalf("metrics address: %d %.200s", st, body)
	}
	if st, _ := get(t, "http://"+ops+"/debug/pprof/cmdline", ""); st != 200 {
		t.Fatalf("pprof on the shared operator address: %d", st)
	}
	if st, body := get(t, url+"/metrics", ""); st != 404 || strings.Contains(body, "kindred_connections") {
		t.Fatalf("public port with --metrics-addr: %d %.200s", st, body)
	}

	dir := t.TempDir()
	tokFile := filepath.Join(dir, "metrics-token")
	const tok = "scrape-me-0123456789abcdef"
	if err := os.WriteFile(tokFile, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url, _ = serveProcess(t, "--data", filepath.Join(dir, "data"), "--metrics-token-file", tokFile)
	if st, _ := get(t, url+"/metrics", ""); st != 401 {
		t.Fatalf("public /metrics without the token: %d", st)
	}
	if st, _ := get(t, url+"/metrics", "not-the-token-0123456789"); st != 401 {
		t.Fatalf("public /metrics with a wrong token: %d", st)
	}
	if st, body := get(t, url+"/metrics", tok); st != 200 || !strings.Contains(body, "kindred_connections") {
		t.Fatalf("public /metrics with the token: %d %.200s", st, body)
	}
}

// A metrics token too short to be a secret stops the node at start.
func TestServeRefusesAShortMetricsToken(t *testing.T) {
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "metrics-token")
	if err := os.WriteFile(tokFile, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"),
		"--metrics-token-file", tokFile, "--video-udp-port", "0", "--video-tcp-port", "0"}, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "at least 16 are required") {
		t.Fatalf("serve with a 5-byte metrics token: %v", err)
	}
}
