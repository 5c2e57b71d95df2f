package server_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
)

// A held crisis message whose escalation store hangs stalls neither its
// sender's session nor anyone else's held message (the deadline is far
// beyond the harness's wait); it is acked pending once the store answers.
func TestPremodSlowEscalation(t *testing.T) {
	bs := &blockingEscalations{entered: make(chan struct{}, 1)}
	e := &env{t: t, dbPath: filepath.Join(t.TempDir(), "kindred.db"), secret: testSecret, escalations: true,
		escWrap: func(s escalation.Store) escalation.Store { bs.Store = s; return bs }}
	e.cfg.Detector, e.cfg.SendRate, e.cfg.EscalationTimeout = crisisDetector, -1, time.Minute
	e.start()
	t.Cleanup(e.stop)
	spec := e.token("sam", auth.RoleSpecialist)
	room := e.createRoom(spec, "Group").ID
	pat, bob := e.dial(e.token("pat", auth.RolePeer), nil), e.dial(e.token("bob", auth.RolePeer), nil)
	for _, c := range []*client{pat, bob} {
		c.join(room)
	}
	e.setRules(spec, room, map[string]any{"premod_messages": 1})
	for _, c := range []*client{pat, bob} {
		c.membership(room, func(cv chat.Conversation) bool { return cv.PremodMessages == 1 })
	}

	bs.blocked.Store(true)
	pat.send(map[string]any{"type": "send", "conv": room, "id": "c1", "body": crisisText})
	<-bs.entered
	bob.sendHeld(room, "b1", "hello, I am new here")
	for _, f := range pat.drain() {
		if f.ID == "c1" {
			t.Fatalf("the crisis message was answered while its escalation hung: %s", f.raw)
		}
	}
	if !bs.blocked.Load() {
		t.Fatal("the store stopped hanging before the others were answered")
	}
	bs.blocked.Store(false)
	f := pat.take(func(f frame) bool { return f.ID == "c1" && (f.Type == "ack" || f.Type == "error") })
	if p := decodePending(t, f); f.Type != "ack" || !strings.HasPrefix(p.PendingID, "p_") {
		t.Fatalf("the held crisis message once its escalation is recorded: %s", f.raw)
	}
	pat.take(func(f frame) bool { return f.Type == "support" })
	var queue struct{ Pending []chat.PendingMessage }
	if e.api("GET", pendingPath(room, "", ""), spec, nil, &queue); len(queue.Pending) != 2 {
		t.Fatalf("the queue: %+v", queue)
	}
}
