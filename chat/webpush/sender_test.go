package webpush_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/webpush"
	"github.com/kindred-health/kindred/chat/webpush/webpushtest"
)

// memStore is a webpush.Store in memory, for the sender's own tests (the
// SQL stores run chat/storetest.RunPush).
type memStore struct {
	mu       sync.Mutex
	subs     []webpush.Subscription
	settings map[string]string
}

func (m *memStore) PutPushSubscription(_ context.Context, s webpush.Subscription, limit int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subs = slices.DeleteFunc(m.subs, func(x webpush.Subscription) bool { return x.Endpoint == s.Endpoint })
	m.subs = append(m.subs, s)
	return nil
}

func (m *memStore) PushSubscriptions(_ context.Context, user string) ([]webpush.Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []webpush.Subscription
	for _, s := range m.subs {
		if s.User == user {
			out = append(out, s)
		}
	}
	return out, nil
}

func (m *memStore) DeletePushSubscription(_ context.Context, user, endpoint string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.subs)
	m.subs = slices.DeleteFunc(m.subs, func(x webpush.Subscription) bool { return x.User == user && x.Endpoint == endpoint })
	return len(m.subs) < n, nil
}

func (m *memStore) InitSetting(_ context.Context, name, value string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.settings == nil {
		m.settings = map[string]string{}
	}
	if v, ok := m.settings[name]; ok {
		return v, nil
	}
	m.settings[name] = value
	return value, nil
}

type senderFixture struct {
	t     *testing.T
	store *memStore
	svc   *webpushtest.Service
	s     *webpush.Sender
}

func newSenderFixture(t *testing.T, o webpush.Options) *senderFixture {
	f := &senderFixture{t: t, store: &memStore{}, svc: webpushtest.New()}
	t.Cleanup(f.svc.Close)
	keys, err := webpush.StoredKeys(context.Background(), f.store)
	if err != nil {
		t.Fatal(err)
	}
	f.svc.VAPIDKey = keys.PublicKey()
	o.Store, o.Keys, o.Subject = f.store, keys, "mailto:oncall@example.org"
	if f.s, err = webpush.NewSender(o); err != nil {
		t.Fatal(err)
	}
	f.s.Start()
	t.Cleanup(f.s.Stop)
	return f
}

func (f *senderFixture) subscribe(user, name string) webpush.Subscription {
	sub := f.svc.Subscribe(name)
	sub.User = user
	if err := f.s.Subscribe(context.Background(), sub); err != nil {
		f.t.Fatal(err)
	}
	return sub
}

func (f *senderFixture) next() webpushtest.Push {
	f.t.Helper()
	p, err := f.svc.Next(10 * time.Second)
	if err != nil {
		f.t.Fatal(err)
	}
	if p.Err != nil {
		f.t.Fatalf("the push service refused a push: %v", p.Err)
	}
	return p
}

// TestSenderDelivers: a notification reaches each of the user's
// subscriptions, encrypted for it, with a VAPID token the service
// verifies and the headers of RFC 8030; other users' are not pushed to.
func TestSenderDelivers(t *testing.T) {
	f := newSenderFixture(t, webpush.Options{LoopbackHTTP: true, TTL: 90 * time.Second})
	a, b := f.subscribe("sup", "laptop"), f.subscribe("sup", "phone")
	f.subscribe("other", "elsewhere")
	payload := []byte(`{"type":"escalation","id":"esc_1","severity":"high"}`)
	if !f.s.Notify("sup", payload) {
		t.Fatal("Notify dropped the notification")
	}
	got := map[string]bool{}
	for range 2 {
		p := f.next()
		got[p.Endpoint] = true
		if string(p.Payload) != string(payload) {
			t.Errorf("payload %q, want %q", p.Payload, payload)
		}
		if p.Header.Get("TTL") != "90" || p.Header.Get("Urgency") != "high" || p.Header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("headers %v", p.Header)
		}
		if p.Claims["sub"] != "mailto:oncall@example.org" || p.Claims["aud"] != f.svc.URL {
			t.Errorf("claims %v", p.Claims)
		}
	}
	if !got[a.Endpoint] || !got[b.Endpoint] {
		t.Errorf("pushed to %v, want both of sup's subscriptions", got)
	}
	if extra, err := f.svc.Next(300 * time.Millisecond); err == nil {
		t.Errorf("an unexpected push to %s", extra.Endpoint)
	}
}

// TestSenderExpired: 404 and 410 remove the subscription; nothing is
// retried.
func TestSenderExpired(t *testing.T) {
	f := newSenderFixture(t, webpush.Options{LoopbackHTTP: true})
	for _, status := range []int{http.StatusGone, http.StatusNotFound} {
		f.subscribe("sup", "old")
		f.svc.Answer(status)
		f.s.Notify("sup", []byte(`{}`))
		if p := f.next(); p.Status != status {
			t.Fatalf("answered %d", p.Status)
		}
		waitFor(t, func() bool { subs, _ := f.store.PushSubscriptions(context.Background(), "sup"); return len(subs) == 0 })
	}
	if p, err := f.svc.Next(300 * time.Millisecond); err == nil {
		t.Errorf("an expired subscription was pushed to again: %+v", p)
	}
	if n := outcome(f.s, "expired"); n != 2 {
		t.Errorf("expired outcomes %v, want 2", n)
	}
}

// TestSenderRetries: 429 and 5xx are retried a bounded number of times,
// waiting what Retry-After asks; other refusals are not retried.
func TestSenderRetries(t *testing.T) {
	f := newSenderFixture(t, webpush.Options{LoopbackHTTP: true, Attempts: 3})
	f.subscribe("sup", "busy")
	f.svc.Answer(http.StatusTooManyRequests, http.StatusServiceUnavailable)
	f.s.Notify("sup", []byte(`{"n":1}`))
	for _, want := range []int{429, 503, 201} {
		if p := f.next(); p.Status != want {
			t.Fatalf("answer %d, want %d", p.Status, want)
		}
	}
	f.svc.Answer(500, 502, 503)
	f.s.Notify("sup", []byte(`{"n":2}`))
	for range 3 {
		f.next()
	}
	waitFor(t, func() bool { return outcome(f.s, "failed") == 1 })
	if p := f.svc.Pending(); len(p) != 0 {
		t.Fatalf("a fourth attempt: %+v", p)
	}
	f.s.Notify("sup", []byte(`{"n":3}`))
	f.next()
	f.svc.Answer(http.StatusForbidden)
	f.s.Notify("sup", []byte(`{"n":4}`))
	if p := f.next(); p.Status != http.StatusForbidden {
		t.Fatalf("answer %d", p.Status)
	}
	waitFor(t, func() bool { return outcome(f.s, "rejected") == 1 })
	if p := f.svc.Pending(); len(p) != 0 {
		t.Errorf("a 403 was retried: %+v", p)
	}
	if d, fl, r := outcome(f.s, "delivered"), outcome(f.s, "failed"), outcome(f.s, "rejected"); d != 2 || fl != 1 || r != 1 {
		t.Errorf("delivered %v failed %v rejected %v, want 2, 1, 1", d, fl, r)
	}
}

// outcome reads the sender's count of pushes that ended in o.
func outcome(s *webpush.Sender, o string) float64 {
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collectors()...)
	fams, _ := reg.Gather()
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if f.GetName() == "kindred_push_deliveries_total" && l.GetValue() == o {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
	}
}

// TestSenderNoRedirect: a redirect is an answer, not followed.
func TestSenderNoRedirect(t *testing.T) {
	f := newSenderFixture(t, webpush.Options{LoopbackHTTP: true})
	f.subscribe("sup", "moved")
	f.svc.Answer(http.StatusTemporaryRedirect)
	f.s.Notify("sup", []byte(`{}`))
	f.next()
	waitFor(t, func() bool { return outcome(f.s, "rejected") == 1 })
	if p := f.svc.Pending(); len(p) != 0 {
		t.Errorf("the redirect was followed or retried: %+v", p)
	}
}

// TestSenderPublicOnly: without LoopbackHTTP a push never connects to a
// loopback (or private) address, even for a subscription stored by other
// means than Subscribe, and Subscribe wants https.
func TestSenderPublicOnly(t *testing.T) {
	f := newSenderFixture(t, webpush.Options{Attempts: 1})
	sub := f.svc.Subscribe("local")
	sub.User = "sup"
	if err := f.s.Subscribe(context.Background(), sub); chat.ErrorCode(err) != chat.CodeInvalidField {
		t.Fatalf("Subscribe(http endpoint) = %v, want invalid_field", err)
	}
	_ = f.store.PutPushSubscription(context.Background(), sub, 10)
	f.s.Notify("sup", []byte(`{}`))
	waitFor(t, func() bool { return outcome(f.s, "failed") == 1 })
	if p, err := f.svc.Next(100 * time.Millisecond); err == nil {
		t.Errorf("the push reached a loopback address: %+v", p)
	}
}

// TestSenderStopDrains: what was queued before Stop is sent; Notify after
// Stop is refused.
func TestSenderStopDrains(t *testing.T) {
	f := newSenderFixture(t, webpush.Options{LoopbackHTTP: true, Workers: 1})
	f.subscribe("sup", "drain")
	for i := range 5 {
		if !f.s.Notify("sup", []byte{'0' + byte(i)}) {
			t.Fatal("dropped")
		}
	}
	f.s.Stop()
	if n := len(f.svc.Pending()); n != 5 {
		t.Errorf("%d pushes sent by Stop's return, want 5", n)
	}
	if f.s.Notify("sup", []byte(`{}`)) {
		t.Error("Notify after Stop was accepted")
	}
}

// TestCheck: what a subscription must look like.
func TestCheck(t *testing.T) {
	svc := webpushtest.New()
	defer svc.Close()
	good := svc.Subscribe("x")
	good.Endpoint = "https://push.example.org/send/abc"
	if err := webpush.Check(good, false); err != nil {
		t.Fatalf("a good subscription: %v", err)
	}
	padded := good
	padded.Auth += "=="
	if err := webpush.Check(padded, false); err != nil {
		t.Errorf("padded base64: %v", err)
	}
	bad := func(name string, change func(*webpush.Subscription), loopback bool, code chat.Code) {
		s := good
		change(&s)
		if err := webpush.Check(s, loopback); chat.ErrorCode(err) != code {
			t.Errorf("%s: %v, want %s", name, err, code)
		}
	}
	bad("no endpoint", func(s *webpush.Subscription) { s.Endpoint = "" }, false, chat.CodeMissingField)
	bad("http", func(s *webpush.Subscription) { s.Endpoint = "http://push.example.org/x" }, true, chat.CodeInvalidField)
	bad("http loopback, not allowed", func(s *webpush.Subscription) { s.Endpoint = svc.URL + "/push/x" }, false, chat.CodeInvalidField)
	bad("relative", func(s *webpush.Subscription) { s.Endpoint = "/push/x" }, false, chat.CodeInvalidField)
	bad("user info", func(s *webpush.Subscription) { s.Endpoint = "https://a:b@push.example.org/x" }, false, chat.CodeInvalidField)
	bad("too long", func(s *webpush.Subscription) { s.Endpoint += strings.Repeat("a", webpush.MaxEndpointBytes) }, false, chat.CodeInvalidField)
	bad("short key", func(s *webpush.Subscription) { s.P256DH = s.P256DH[:40] }, false, chat.CodeInvalidField)
	bad("not a point", func(s *webpush.Subscription) { s.P256DH = "B" + strings.Repeat("A", 86) }, false, chat.CodeInvalidField)
	bad("short auth", func(s *webpush.Subscription) { s.Auth = "AAAA" }, false, chat.CodeInvalidField)
	bad("not base64", func(s *webpush.Subscription) { s.Auth = "!!!!!!!!!!!!!!!!!!!!!!" }, false, chat.CodeInvalidField)
	loop := good
	loop.Endpoint = svc.URL + "/push/x"
	if err := webpush.Check(loop, true); err != nil {
		t.Errorf("loopback http when allowed: %v", err)
	}
}

// TestKeys: a stored key pair is generated once and read back the same;
// subjects are mailto: or https:.
func TestKeys(t *testing.T) {
	st := &memStore{}
	a, err := webpush.StoredKeys(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := webpush.StoredKeys(context.Background(), st)
	if a.PublicKey() != b.PublicKey() || a.Private() != b.Private() {
		t.Error("a second start made another key pair")
	}
	if raw, _ := base64.RawURLEncoding.DecodeString(a.PublicKey()); len(raw) != 65 || raw[0] != 4 {
		t.Errorf("public key %q is not an uncompressed P-256 point", a.PublicKey())
	}
	if c, err := webpush.ParseKeys(a.Private()); err != nil || c.PublicKey() != a.PublicKey() {
		t.Errorf("ParseKeys(Private()) = %v, %v", c, err)
	}
	if _, err := webpush.ParseKeys("not a key"); err == nil {
		t.Error("ParseKeys took garbage")
	}
	for s, ok := range map[string]bool{"mailto:oncall@example.org": true, "https://example.org/contact": true,
		"http://example.org": false, "mailto:": false, "oncall@example.org": false, "": false} {
		if err := webpush.CheckSubject(s); (err == nil) != ok {
			t.Errorf("CheckSubject(%q) = %v", s, err)
		}
	}
}
