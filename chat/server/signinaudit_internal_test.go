package server

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sqlite"
)

// Refusals from one address within a window make one entry at once and,
// when the window ends, one more with how many followed; the next refusal
// after it opens a new window.
func TestSigninFailuresAreCounted(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := &Server{store: st, auditW: newAuditWriter(st, slog.New(slog.NewTextHandler(io.Discard, nil)))}
	go s.auditW.run()
	defer s.auditW.stop()
	f := newSigninFailures(s)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	entries := func() []string {
		es, err := st.Audit(t.Context(), chat.AuditFilter{Action: "signin.fail", Source: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(es))
		for i, e := range es {
			out[len(es)-1-i] = e.Detail
		}
		return out
	}
	for range 4 {
		f.refused(t.Context(), "192.0.2.1", "http", "", chat.CodeTokenInvalid)
	}
	f.refused(t.Context(), "192.0.2.1", "websocket", "", chat.CodeTokenExpired)
	if got := entries(); len(got) != 1 || got[0] != "via=http code=token_invalid count=1" {
		t.Fatalf("within the window: %q", got)
	}
	now = now.Add(9 * time.Second)
	f.flush(t.Context(), false)
	if got := entries(); len(got) != 1 {
		t.Fatalf("flushed before the window ended: %q", got)
	}
	now = now.Add(2 * time.Second)
	f.flush(t.Context(), false)
	want := []string{"via=http code=token_invalid count=1", "via=websocket code=token_expired count=4 since=2026-12-03T10:00:00Z"}
	if got := entries(); len(got) != 2 || got[1] != want[1] {
		t.Fatalf("after the window: %q, want %q", got, want)
	}
	f.refused(t.Context(), "192.0.2.1", "http", "", chat.CodeTokenInvalid)
	if got := entries(); len(got) != 3 || got[2] != want[0] {
		t.Fatalf("a new window: %q", got)
	}
}
