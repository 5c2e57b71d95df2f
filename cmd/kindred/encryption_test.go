package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sealer"
	"github.com/kindred-health/kindred/chat/store/sqlite"
)

// keysRun runs kindred keys with args and returns what it printed.
func keysRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), append([]string{"keys"}, args...), nil, &out, &errOut)
	return out.String() + errOut.String(), err
}

// newKey runs kindred keys generate.
func newKey(t *testing.T, id string) string {
	t.Helper()
	out, err := keysRun(t, "generate", "--id", id)
	if err != nil || !regexp.MustCompile(`^`+id+`:[A-Za-z0-9+/]{43}=\n$`).MatchString(out) {
		t.Fatalf("keys generate: %q %v", out, err)
	}
	return strings.TrimSpace(out)
}

func writeKeys(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Encryption at rest through the command: messages stored in clear are
// counted by keys status, sealed by keys rotate, moved to a new key by a
// running node in the background; a node without the key refuses to
// start, naming it; the data directory and database are private.
func TestKeysCommands(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	keyFile := filepath.Join(dir, "keys")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	seedMessages(t, data, 12)

	out, err := keysRun(t, "status", "--data", data)
	if err != nil || !regexp.MustCompile(`events\s+-\s+12\s+in clear`).MatchString(out) || !strings.Contains(out, "Encryption: off") {
		t.Fatalf("keys status in clear:\n%s%v", out, err)
	}
	if _, err := keysRun(t, "rotate", "--data", data); err == nil {
		t.Error("keys rotate without keys succeeded")
	}

	k1 := newKey(t, "k1")
	writeKeys(t, keyFile, k1)
	out, err = keysRun(t, "rotate", "--data", data, "--encryption-key-file", keyFile)
	if err != nil || !strings.Contains(out, "Re-encrypted 12 rows with key k1") || !regexp.MustCompile(`events\s+k1\s+12\s*\n`).MatchString(out) {
		t.Fatalf("keys rotate:\n%s%v", out, err)
	}

	// A node with another key refuses to start and names the one missing.
	writeKeys(t, filepath.Join(dir, "other"), newKey(t, "k9"))
	err = Run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data", data,
		"--encryption-key-file", filepath.Join(dir, "other"), "--video-udp-port", "0", "--video-tcp-port", "0"}, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `"k1"`) {
		t.Fatalf("serve with the wrong key = %v, want a refusal naming k1", err)
	}

	// Rotation: k2 first. The node re-encrypts in the background while
	// it serves.
	writeKeys(t, keyFile, newKey(t, "k2"), k1)
	_, stop := serveProcess(t, "--data", data, "--encryption-key-file", keyFile, "--reseal-rate", "50")
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err = keysRun(t, "status", "--data", data, "--encryption-key-file", keyFile)
		if err == nil && regexp.MustCompile(`events\s+k2\s+12\s*\n`).MatchString(out) && !strings.Contains(out, "k1 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node did not re-encrypt with k2:\n%s%v", out, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// While it runs (the -wal and -shm go when the last connection closes).
	for path, want := range map[string]os.FileMode{data: 0o700, filepath.Join(data, "kindred.db"): 0o600,
		filepath.Join(data, "kindred.db-wal"): 0o600, filepath.Join(data, "kindred.db-shm"): 0o600,
		filepath.Join(data, "jwt-secret"): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, want mode %o", filepath.Base(path), err, want)
		}
	}
	stop()
	// k1 can go: everything opens with k2 alone.
	writeKeys(t, keyFile, strings.SplitN(readFile(t, keyFile), "\n", 2)[0])
	s, err := sqlite.Open(context.Background(), filepath.Join(data, "kindred.db"), sqlite.WithKeys(mustLoadKeys(t, keyFile)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CheckKeys(context.Background()); err != nil {
		t.Errorf("CheckKeys with k2 alone: %v", err)
	}
}

// seedMessages stores n messages in clear in the SQLite store of data.
func seedMessages(t *testing.T, data string, n int) {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(data, "kindred.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "Room", CreatedBy: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		items := []chat.AppendItem{{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: "ann",
			ClientID: fmt.Sprint("c", i), Body: fmt.Sprint("message ", i)}}}
		if err := s.Append(ctx, items); err != nil || items[0].Err != nil {
			t.Fatal(err, items[0].Err)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustLoadKeys(t *testing.T, path string) *sealer.Ring {
	t.Helper()
	flags := backendFlags{keyFile: &path}
	r, err := flags.loadKeys()
	if err != nil || r == nil {
		t.Fatalf("keys: %v", err)
	}
	return r
}

// The key ring from the environment, and the refusal of both sources.
func TestEncryptionKeysFromEnvironment(t *testing.T) {
	data := t.TempDir()
	seedMessages(t, data, 2)
	t.Setenv(envEncryptionKeys, newKey(t, "env1"))
	out, err := keysRun(t, "rotate", "--data", data)
	if err != nil || !strings.Contains(out, "Re-encrypted 2 rows with key env1") {
		t.Fatalf("keys rotate with %s:\n%s%v", envEncryptionKeys, out, err)
	}
	path := filepath.Join(t.TempDir(), "keys")
	writeKeys(t, path, newKey(t, "file1"))
	if _, err := keysRun(t, "status", "--data", data, "--encryption-key-file", path); err == nil {
		t.Error("keys status accepted keys from both the file and the environment")
	}
}
