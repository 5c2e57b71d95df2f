package server_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/server"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Message bodies and tokens never reach logs or metrics, even at debug
// level and on refused frames; IDs do, so operators can follow a session.
func TestLogsAndMetricsCarryNoContentOrTokens(t *testing.T) {
	logs := &syncBuffer{}
	e := newEnv(t, func(c *server.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.MaxMessageBytes = 100
	})
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoom(ann, "Private")
	b := e.dial(bob, nil)
	b.join(room.ID)
	const secret = "my-private-disclosure-7f3a"
	b.sendMsg(room.ID, "m1", "today "+secret)
	b.send(map[string]any{"type": "send", "conv": room.ID, "id": "m2", "body": secret + strings.Repeat("!", 200)})
	b.expect("error")
	b.send(map[string]any{"type": "edit", "conv": room.ID, "seq": 1, "body": "edited " + secret})
	b.expect("ack")
	b.send(map[string]any{"type": "bogus", "body": secret})
	b.expect("error")
	bad := e.dialRaw(nil)
	bad.send(map[string]any{"type": "hello", "token": ann + "x"})
	bad.waitClosed()
	b.ws.CloseNow()

	metrics := scrape(e)
	e.stop()

	all := logs.String()
	if !strings.Contains(all, `"user":"bob"`) || !strings.Contains(all, "session started") {
		t.Fatalf("logs should identify sessions by ID:\n%s", all)
	}
	for _, leak := range []string{secret, ann, bob, strings.Split(ann, ".")[2]} {
		if strings.Contains(all, leak) {
			t.Errorf("logs contain %q", leak)
		}
		if strings.Contains(string(metrics), leak) {
			t.Errorf("metrics contain %q", leak)
		}
	}
	for _, series := range []string{"kindred_connections", "kindred_messages_received_total", "kindred_messages_stored_total",
		"kindred_frames_sent_total", "kindred_frames_rejected_total{code=\"message_too_long\"}", "kindred_queue_overflow_closes_total",
		"kindred_store_append_seconds_bucket", "process_resident_memory_bytes"} {
		if !strings.Contains(string(metrics), series) {
			t.Errorf("metrics lack %s", series)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		resp, err := http.Get(e.http.URL + path)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("%s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	// With the store gone, the node is not ready.
	e.store.Close()
	resp, err := http.Get(e.http.URL + "/readyz")
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz with a closed store: %v %v", resp, err)
	}
	resp.Body.Close()
}
