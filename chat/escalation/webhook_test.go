package escalation_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
)

// hookServer is a webhook receiver that verifies every request the way a
// receiver should, and fails the first failFirst of them with a 500.
type hookServer struct {
	t         *testing.T
	secret    []byte
	failFirst int
	now       func() time.Time // the receiver's clock

	mu     sync.Mutex
	n      int
	bodies map[string][]string // delivery ID -> bodies received
}

func (s *hookServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	// Recompute the signature independently of escalation.Sign, over
	// "timestamp.body", and check the timestamp is this receiver's now.
	ts := r.Header.Get("X-Kindred-Timestamp")
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
		ts != strconv.FormatInt(s.now().Unix(), 10) ||
		!hmac.Equal([]byte(r.Header.Get("X-Kindred-Signature")), []byte(want)) {
		s.t.Errorf("bad request: %s, content type %q, signature %q (want %q)", r.Method, r.Header.Get("Content-Type"), r.Header.Get("X-Kindred-Signature"), want)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var p escalation.WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil || p.Delivery != r.Header.Get("X-Kindred-Delivery") || p.Event != r.Header.Get("X-Kindred-Event") {
		s.t.Errorf("body %s does not match headers %v (%v)", body, r.Header, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if s.bodies == nil {
		s.bodies = map[string][]string{}
	}
	s.bodies[p.Delivery] = append(s.bodies[p.Delivery], string(body))
	if s.n <= s.failFirst {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *hookServer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func TestWebhookSender(t *testing.T) {
	h := newHarness(t, true)
	secret := []byte("s3cret")
	hs := &hookServer{t: t, secret: secret, failFirst: 4, now: h.clock.Now} // two deliveries, two failures each
	srv := httptest.NewTLSServer(hs)
	defer srv.Close()
	w := &escalation.WebhookSender{URL: srv.URL, Secret: secret, Client: srv.Client(), Store: h.store,
		Clock: h.clock, Logger: slog.New(slog.DiscardHandler), NodeID: "n1"}

	e := detectorEsc(9, crisis.Imminent)
	e.Reason = "private reason"
	e = h.open(e) // enqueues escalation.created and escalation.notified

	send := func(wantSent, wantRequests int) {
		t.Helper()
		sent, err := w.RunOnce(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sent != wantSent || hs.requests() != wantRequests {
			t.Fatalf("at +%v: sent %d, %d requests so far; want %d and %d", h.clock.Now().Sub(t0), sent, hs.requests(), wantSent, wantRequests)
		}
	}
	send(0, 2) // 500, 500: retry in 1s
	h.clock.Advance(999 * time.Millisecond)
	send(0, 2)
	h.clock.Advance(time.Millisecond)
	send(0, 4) // 500, 500: retry in 2s
	h.clock.Advance(2*time.Second - time.Millisecond)
	send(0, 4)
	h.clock.Advance(time.Millisecond)
	send(2, 6)
	h.clock.Advance(time.Hour)
	send(0, 6) // sent deliveries never go again

	// Every body is the same bytes each attempt, and carries no text or
	// names from the conversation.
	for id, bodies := range hs.bodies {
		if len(bodies) != 3 || bodies[0] != bodies[2] {
			t.Fatalf("delivery %s: %d attempts with bodies %v", id, len(bodies), bodies)
		}
		for _, leak := range []string{"secret text", "Sam", "Evening group", "private reason", "message 1"} {
			if strings.Contains(bodies[0], leak) {
				t.Fatalf("webhook body leaks %q: %s", leak, bodies[0])
			}
		}
	}

	g := h.get(e.ID)
	var failed, sent []escalation.Step
	for _, s := range g.Timeline {
		switch s.Kind {
		case escalation.StepWebhookFail:
			failed = append(failed, s)
		case escalation.StepWebhookSent:
			sent = append(sent, s)
		}
	}
	if len(failed) != 4 || len(sent) != 2 {
		t.Fatalf("timeline %v; want 4 webhook_failed and 2 webhook_sent", kinds(g))
	}
	if !strings.Contains(failed[0].Detail, "HTTP 500") || !strings.Contains(failed[0].Detail, "retry in 1s") ||
		!strings.Contains(failed[3].Detail, "retry in 2s") || !strings.Contains(sent[0].Detail, "attempt 3") {
		t.Fatalf("webhook steps: %+v / %+v", failed, sent)
	}
}

// TestWebhookSenderGivesUp: a receiver that never answers; the delivery is
// abandoned once retrying would pass MaxAge, and that is recorded. The
// URL, which may hold a token, appears nowhere.
func TestWebhookSenderGivesUp(t *testing.T) {
	h := newHarness(t, true)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/hook?token=abc"
	srv.Close() // connection refused from now on
	w := &escalation.WebhookSender{URL: url, Secret: []byte("k"), AllowHTTP: true, Store: h.store, Clock: h.clock,
		Logger: slog.New(slog.DiscardHandler), MaxAge: 10 * time.Second}
	if err := h.store.EnqueueWebhook(h.ctx, escalation.Delivery{ID: "whd_x", EscalationID: "esc_x", Event: "escalation.created",
		Body: []byte(`{}`), NextAttempt: t0, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	e := h.open(&escalation.Escalation{ID: "esc_x", Source: escalation.SourceConcern, Subject: "u", ReportedBy: "r"})
	if _, err := w.RunOnce(h.ctx); err != nil { // attempt 1, retry at +1s
		t.Fatal(err)
	}
	h.clock.Advance(9 * time.Second)
	if _, err := w.RunOnce(h.ctx); err != nil { // attempt 2, +2s would be past 10s
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	if ds, _ := h.store.DueWebhooks(h.ctx, h.clock.Now(), 10); len(ds) != 0 {
		t.Fatalf("abandoned delivery still due: %+v", ds)
	}
	g := h.get(e.ID)
	l := last(g)
	if l.Kind != escalation.StepWebhookFail || !strings.Contains(l.Detail, "abandoned") || !strings.Contains(l.Detail, "attempt 2") {
		t.Fatalf("timeline ends with %+v", l)
	}
	for _, s := range g.Timeline {
		if strings.Contains(s.Detail, "token") {
			t.Fatalf("step leaks the URL: %+v", s)
		}
	}
}

func TestBackoff(t *testing.T) {
	want := map[int]time.Duration{0: time.Second, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second,
		9: 256 * time.Second, 10: 5 * time.Minute, 11: 5 * time.Minute, 1000: 5 * time.Minute}
	for n, d := range want {
		if got := escalation.Backoff(n); got != d {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, d)
		}
	}
}

func TestSign(t *testing.T) {
	// HMAC-SHA256("key", "1700000000.The quick brown fox jumps over the lazy dog").
	got := escalation.Sign([]byte("key"), "1700000000", []byte("The quick brown fox jumps over the lazy dog"))
	if got != "sha256=2f658d6aef4f246e91cd741bbcded7479e9605f9d41c9e248122a117e0e1765b" {
		t.Fatalf("Sign = %s", got)
	}
}

func TestWebhookSenderNeedsConfig(t *testing.T) {
	w := &escalation.WebhookSender{URL: "http://x", Store: escalation.NewMemoryStore()}
	if err := w.Run(t.Context()); err == nil {
		t.Fatal("Run without a secret succeeded")
	}
}
