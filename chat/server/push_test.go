package server_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/sqlite"
	"github.com/kindred-health/kindred/chat/webpush"
	"github.com/kindred-health/kindred/chat/webpush/webpushtest"
)

// newPushEnv is an escalating node whose Web Push sender may reach a push
// service on a loopback address (a webpushtest.Service); imminent crises
// wait ackTimeout for an acknowledgement.
func newPushEnv(t *testing.T, ackTimeout time.Duration, logs io.Writer) *env {
	t.Helper()
	return newEscalatingPushEnv(t, server.EscalationOptions{Policy: escalation.Policy{AckTimeout: map[crisis.Severity]time.Duration{crisis.Imminent: ackTimeout}}},
		func(c *server.Config) {
			c.Detector = crisisDetector
			c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		})
}

// newEscalatingPushEnv is newEscalatingEnvWith with a Web Push sender on
// the node's store (its VAPID key made on first start).
func newEscalatingPushEnv(t *testing.T, o server.EscalationOptions, mod ...func(*server.Config)) *env {
	t.Helper()
	e := &env{t: t, dbPath: filepath.Join(t.TempDir(), "kindred.db"), secret: testSecret, escalations: true, escOpts: o}
	for _, m := range mod {
		m(&e.cfg)
	}
	e.push = func(st webpush.Store) *webpush.Sender {
		keys, err := webpush.StoredKeys(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		s, err := webpush.NewSender(webpush.Options{Store: st, Keys: keys, Subject: "mailto:oncall@example.org",
			LoopbackHTTP: true, Logger: e.cfg.Logger})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	e.start()
	t.Cleanup(e.stop)
	return e
}

// subscribePush subscribes one browser of the user whose token is tok, as
// the dashboard does: the key from /api/push/key (which the push service
// then binds the subscription to), the browser's toJSON() posted back.
func (e *env) subscribePush(svc *webpushtest.Service, tok, browser string) webpush.Subscription {
	e.t.Helper()
	var key struct {
		PublicKey string `json:"public_key"`
	}
	if st := e.api("GET", "/api/push/key", tok, nil, &key); st != http.StatusOK || key.PublicKey == "" {
		e.t.Fatalf("GET /api/push/key: %d %+v", st, key)
	}
	svc.VAPIDKey = key.PublicKey
	sub := svc.Subscribe(browser)
	body := map[string]any{"endpoint": sub.Endpoint, "expirationTime": nil, "keys": map[string]string{"p256dh": sub.P256DH, "auth": sub.Auth}}
	if st := e.api("POST", "/api/push/subscriptions", tok, body, nil); st != http.StatusCreated {
		e.t.Fatalf("subscribe %s: %d", browser, st)
	}
	return sub
}

// escalationPush reads the next push, which must be a verified, decrypted
// notice of an escalation, and returns it with its payload's fields.
func escalationPush(t *testing.T, svc *webpushtest.Service) (webpushtest.Push, map[string]string) {
	t.Helper()
	p, err := svc.Next(15 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p.Err != nil {
		t.Fatalf("the push service refused a push: %v", p.Err)
	}
	var fields map[string]string
	if err := json.Unmarshal(p.Payload, &fields); err != nil {
		t.Fatalf("payload %q: %v", p.Payload, err)
	}
	return p, fields
}

// TestWebPushPages: a crisis message sent over a real WebSocket pages the
// on-call supervisor, whose tab is closed, through a push service: the
// push carries a VAPID token signed with the key /api/push/key gives, for
// the service's origin, and a payload that decrypts (RFC 8291) to the
// escalation's id and severity and nothing the person wrote. Until someone
// acknowledges, each re-escalation pushes again; after, nothing more.
func TestWebPushPages(t *testing.T) {
	svc := webpushtest.New()
	defer svc.Close()
	logs := &syncBuffer{}
	e := newPushEnv(t, 2*time.Second, logs)
	now := time.Now()
	if _, err := e.store.(*sqlite.Store).Escalations().PutShift(context.Background(), escalation.Shift{
		Supervisor: "prim", Tier: escalation.ShiftPrimary, Start: now.Add(-time.Hour), End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	prim, spec, peer := e.token("prim", auth.RoleSupervisor), e.token("sam", auth.RoleSpecialist), e.token("pat", auth.RolePeer)
	sub := e.subscribePush(svc, prim, "prim-phone")

	marker := "zq" + strings.ToLower(rand.Text()[:10])
	room := e.createRoom(spec, "Group "+marker+"-room")
	p := e.dial(peer, nil)
	p.join(room.ID)
	text := "I have the pills and I'm taking them tonight " + marker
	p.sendMsg(room.ID, "c1", text)

	first, fields := escalationPush(t, svc)
	if first.Endpoint != sub.Endpoint {
		t.Fatalf("pushed to %s, want the primary's browser", first.Endpoint)
	}
	if len(fields) != 3 || fields["type"] != "escalation" || fields["severity"] != "imminent" || !strings.HasPrefix(fields["id"], "esc_") {
		t.Errorf("payload %s, want only type, id and severity", first.Payload)
	}
	for _, secret := range []string{marker, "pills", "pat", "Pat", room.ID} {
		if strings.Contains(string(first.Payload), secret) {
			t.Errorf("the push payload %s carries %q", first.Payload, secret)
		}
	}
	if first.Claims["aud"] != svc.URL || first.Claims["sub"] != "mailto:oncall@example.org" {
		t.Errorf("VAPID claims %v", first.Claims)
	}
	// Nobody acknowledges. The primary was not reached in the app, so the
	// wider tiers are paged at once (the primary with them); then, at the
	// deadline, it is escalated again: each page pushes again.
	t0 := time.Now()
	for {
		again, fields2 := escalationPush(t, svc)
		if again.Endpoint != sub.Endpoint || fields2["id"] != fields["id"] {
			t.Fatalf("a push to %s about %s, want the primary's browser about %s", again.Endpoint, fields2["id"], fields["id"])
		}
		if time.Since(t0) > 1500*time.Millisecond {
			break // the re-escalation at the 2 s deadline
		}
	}
	var ex escalation.Escalation
	if st := e.api("POST", "/api/escalations/"+fields["id"]+"/ack", prim, nil, &ex); st != http.StatusOK {
		t.Fatalf("ack: %d", st)
	}
	escalated := 0
	for _, st := range ex.Timeline {
		if st.Kind == escalation.StepEscalated && slices.Contains(st.Recipients, "prim") {
			escalated++
		}
	}
	if escalated == 0 {
		t.Errorf("the timeline has no re-escalation paging the primary: %+v", ex.Timeline)
	}
	time.Sleep(500 * time.Millisecond) // pushes of steps taken before the ack
	svc.Pending()
	time.Sleep(4 * time.Second) // two deadlines: an unacknowledged escalation would have pushed again
	if late := svc.Pending(); len(late) != 0 {
		t.Errorf("%d pushes after the acknowledgement", len(late))
	}
	if n := metric(t, e, `kindred_push_deliveries_total{outcome="delivered"}`); n < 2 {
		t.Errorf("delivered pushes %v, want at least 2", n)
	}
	if all := logs.String(); strings.Contains(all, marker) || strings.Contains(all, strings.TrimPrefix(sub.Endpoint, svc.URL)) {
		t.Error("the logs name the message or the subscription's endpoint")
	}
}

// TestWebPushExpired: a push service's 410 removes the subscription, so it
// is never pushed to again; the user's other browser still is.
func TestWebPushExpired(t *testing.T) {
	svc := webpushtest.New()
	defer svc.Close()
	e := newPushEnv(t, time.Minute, io.Discard)
	now := time.Now()
	if _, err := e.store.(*sqlite.Store).Escalations().PutShift(context.Background(), escalation.Shift{
		Supervisor: "sue", Tier: escalation.ShiftPrimary, Start: now.Add(-time.Hour), End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	sup, peer := e.token("sue", auth.RoleSupervisor), e.token("pat", auth.RolePeer)
	gone := e.subscribePush(svc, sup, "old-laptop")
	kept := e.subscribePush(svc, sup, "phone")
	svc.Expire(gone)
	room := e.createRoom(sup, "Evening group")
	p := e.dial(peer, nil)
	p.join(room.ID)
	p.sendMsg(room.ID, "c1", "I have the pills and I'm taking them tonight")
	waitFor(t, "the expired subscription removed", func() bool {
		subs, _ := e.store.(webpush.Store).PushSubscriptions(context.Background(), "sue")
		return len(subs) == 1 && subs[0].Endpoint == kept.Endpoint
	})
	time.Sleep(500 * time.Millisecond) // pushes of this page that read the list before the removal
	for _, push := range svc.Pending() {
		if push.Endpoint == gone.Endpoint && push.Status != http.StatusGone {
			t.Fatalf("the expired browser answered %d", push.Status)
		}
	}
	// The next page pushes to the browser that is left, and only to it.
	room2 := e.createRoom(sup, "Morning group")
	p.join(room2.ID)
	p.sendMsg(room2.ID, "c2", "I have the pills and I'm taking them tonight")
	for range 3 { // tiers 0 to 2, as nobody has the app open
		if push, _ := escalationPush(t, svc); push.Endpoint != kept.Endpoint || push.Status != http.StatusCreated {
			t.Fatalf("pushed to %s (answer %d) after the 410", push.Endpoint, push.Status)
		}
	}
}

// TestWebPushPermission: only roles that may be paged subscribe; a peer or
// a specialist is refused by every push route, and a supervisor removes
// only their own subscription.
func TestWebPushPermission(t *testing.T) {
	svc := webpushtest.New()
	defer svc.Close()
	e := newPushEnv(t, time.Minute, io.Discard)
	sub := svc.Subscribe("x")
	body := map[string]any{"endpoint": sub.Endpoint, "keys": map[string]string{"p256dh": sub.P256DH, "auth": sub.Auth}}
	for _, role := range []auth.Role{auth.RolePeer, auth.RoleSpecialist} {
		tok := e.token("someone", role)
		for _, r := range []struct {
			method, path string
			body         any
		}{{"GET", "/api/push/key", nil}, {"POST", "/api/push/subscriptions", body}, {"DELETE", "/api/push/subscriptions", body}} {
			var out struct{ Error struct{ Code string } }
			if st := e.api(r.method, r.path, tok, r.body, &out); st != http.StatusForbidden || out.Error.Code != "forbidden" {
				t.Errorf("%s %s as %s: %d %+v, want 403 forbidden", r.method, r.path, role, st, out)
			}
		}
	}
	if subs, _ := e.store.(webpush.Store).PushSubscriptions(context.Background(), "someone"); len(subs) != 0 {
		t.Errorf("a peer's subscription was stored: %+v", subs)
	}
	a, b := e.token("ann", auth.RoleSupervisor), e.token("ben", auth.RoleAdmin)
	own := e.subscribePush(svc, a, "ann-laptop")
	var del struct{ Deleted bool }
	if st := e.api("DELETE", "/api/push/subscriptions", b, map[string]string{"endpoint": own.Endpoint}, &del); st != http.StatusOK || del.Deleted {
		t.Errorf("ben removed ann's subscription: %d %+v", st, del)
	}
	if st := e.api("DELETE", "/api/push/subscriptions", a, map[string]string{"endpoint": own.Endpoint}, &del); st != http.StatusOK || !del.Deleted {
		t.Errorf("ann removing her own: %d %+v", st, del)
	}
	for name, bad := range map[string]map[string]any{
		"http endpoint": {"endpoint": "http://push.example.org/x", "keys": map[string]string{"p256dh": sub.P256DH, "auth": sub.Auth}},
		"no keys":       {"endpoint": "https://push.example.org/x"},
		"short auth":    {"endpoint": "https://push.example.org/x", "keys": map[string]string{"p256dh": sub.P256DH, "auth": "AAAA"}},
	} {
		var out struct{ Error struct{ Code string } }
		if st := e.api("POST", "/api/push/subscriptions", a, bad, &out); st != http.StatusBadRequest || out.Error.Code != "invalid_field" {
			t.Errorf("%s: %d %+v, want 400 invalid_field", name, st, out)
		}
	}
}

// TestWebPushUnconfigured: without a sender the routes answer
// unavailable.
func TestWebPushUnconfigured(t *testing.T) {
	e := newEscalatingEnv(t)
	var out struct{ Error struct{ Code string } }
	if st := e.api("GET", "/api/push/key", e.token("sue", auth.RoleSupervisor), nil, &out); st != http.StatusServiceUnavailable || out.Error.Code != "unavailable" {
		t.Errorf("GET /api/push/key: %d %+v, want 503 unavailable", st, out)
	}
}
