package escalation_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
)

// replayReceiver checks deliveries as docs/deploy.md tells receivers to,
// with escalation.VerifySignature on its own clock, and keeps the last
// one it accepted so that the test can send it again.
type replayReceiver struct {
	secret []byte
	now    func() time.Time

	mu       sync.Mutex
	accepted int
	last     *http.Request
	lastBody []byte
}

func (rr *replayReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	err := escalation.VerifySignature(rr.secret, r.Header.Get(escalation.SignatureHeader), r.Header.Get(escalation.TimestampHeader),
		body, rr.now(), escalation.SignatureTolerance)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.accepted++
	rr.last, rr.lastBody = r.Clone(r.Context()), body
	w.WriteHeader(http.StatusNoContent)
}

// resend posts the last accepted delivery again, byte for byte, with hdr
// changes applied, and returns the receiver's status.
func (rr *replayReceiver) resend(t *testing.T, srv *httptest.Server, change func(http.Header)) int {
	t.Helper()
	rr.mu.Lock()
	h, body := rr.last.Header.Clone(), rr.lastBody
	rr.mu.Unlock()
	if change != nil {
		change(h)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(string(body)))
	req.Header = h
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A delivery carries a signed timestamp: the receiver accepts it on time,
// refuses it replayed past the tolerance, and refuses it when the
// timestamp is changed to pass for fresh.
func TestWebhookSignatureRefusesReplay(t *testing.T) {
	h := newHarness(t, true)
	secret := []byte("a webhook secret of some length")
	rr := &replayReceiver{secret: secret, now: h.clock.Now}
	srv := httptest.NewTLSServer(rr)
	defer srv.Close()
	w := &escalation.WebhookSender{URL: srv.URL, Secret: secret, Client: srv.Client(), Store: h.store,
		Clock: h.clock, Logger: slog.New(slog.DiscardHandler)}
	h.open(detectorEsc(3, crisis.High))
	if sent, err := w.RunOnce(h.ctx); err != nil || sent != 2 || rr.accepted != 2 {
		t.Fatalf("sent %d (%v), accepted %d; want 2 and 2", sent, err, rr.accepted)
	}
	if got := rr.resend(t, srv, nil); got != http.StatusNoContent {
		t.Fatalf("the same delivery within the tolerance: %d, want 204 (receivers deduplicate on the delivery id)", got)
	}
	h.clock.Advance(escalation.SignatureTolerance + time.Second)
	if got := rr.resend(t, srv, nil); got != http.StatusUnauthorized {
		t.Fatalf("replayed %v later: %d, want 401", escalation.SignatureTolerance+time.Second, got)
	}
	fresh := func(hd http.Header) {
		hd.Set(escalation.TimestampHeader, strconv.FormatInt(h.clock.Now().Unix(), 10))
	}
	if got := rr.resend(t, srv, fresh); got != http.StatusUnauthorized {
		t.Fatalf("replayed with a fresh timestamp: %d, want 401", got)
	}
	if rr.accepted != 3 {
		t.Fatalf("receiver accepted %d deliveries, want 3", rr.accepted)
	}
}

// A redirect is a failed delivery: the signed body never reaches where it
// points, and the timeline says why without naming the place.
func TestWebhookRedirectIsNotFollowed(t *testing.T) {
	h := newHarness(t, true)
	var elsewhere atomic.Int32
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer target.Close()
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/stolen?token=abc", code)
		}))
		w := &escalation.WebhookSender{URL: srv.URL, Secret: []byte("k"), Client: srv.Client(), Store: h.store,
			Clock: h.clock, Logger: slog.New(slog.DiscardHandler)}
		e := h.open(detectorEsc(int64(code), crisis.High))
		if sent, err := w.RunOnce(h.ctx); err != nil || sent != 0 {
			t.Fatalf("HTTP %d: sent %d (%v), want 0", code, sent, err)
		}
		srv.Close()
		l := last(h.get(e.ID))
		if l.Kind != escalation.StepWebhookFail || !strings.Contains(l.Detail, "redirect, not followed") || strings.Contains(l.Detail, "stolen") {
			t.Fatalf("HTTP %d: timeline ends with %+v", code, l)
		}
		h.clock.Advance(time.Hour) // past this escalation's retries
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}
}

// Plain http is refused unless allowed (development).
func TestWebhookNeedsHTTPS(t *testing.T) {
	w := &escalation.WebhookSender{URL: "http://pager.example/hook", Secret: []byte("k"), Store: escalation.NewMemoryStore()}
	if _, err := w.RunOnce(t.Context()); err == nil {
		t.Fatal("a plain http URL was used")
	}
	w.AllowHTTP = true
	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatalf("plain http with AllowHTTP: %v", err)
	}
	for url, ok := range map[string]bool{"https://pager.example/hook": true, "http://pager.example/hook": false,
		"ftp://pager.example/": false, "pager.example/hook": false, "https:///nohost": false} {
		if err := escalation.CheckWebhookURL(url, false); (err == nil) != ok {
			t.Errorf("CheckWebhookURL(%q) = %v", url, err)
		}
	}
}
