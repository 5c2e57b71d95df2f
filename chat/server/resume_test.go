package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/chat/server"
)

// A member cut off while 100 messages are sent reconnects, while the
// sending goes on, with the last sequence it saw, and receives what it
// missed and then live messages: across both connections every message
// arrives exactly once, in order. Edits and deletes made while it was away
// reach it on the next resume.
func TestResumeAfterCutOff(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoom(ann, "Resume")
	b := e.dial(bob, nil)
	b.join(room.ID)
	a := e.dial(ann, nil)
	a.expectSynced(room.ID)

	// Ann keeps sending, acked one by one, until told to stop, so that
	// live messages keep arriving while Bob reconnects and catches up.
	stop := make(chan struct{})
	total := make(chan int)
	go func() {
		n := 0
		for ; ; n++ {
			select {
			case <-stop:
				total <- n
				return
			default:
			}
			a.send(map[string]any{"type": "send", "conv": room.ID, "id": fmt.Sprint("m", n+1), "body": fmt.Sprint("message ", n+1)})
			a.take(func(f frame) bool { return f.Type == "ack" || f.Type == "error" })
		}
	}()
	seen := map[int64]int{}
	var order []int64
	for len(order) < 30 {
		f := b.expectEvent(room.ID)
		seen[f.Seq]++
		order = append(order, f.Seq)
	}
	// Frames already received but not processed die with the socket;
	// the client resumes from the last one it processed.
	b.ws.CloseNow()
	last := b.last[room.ID]

	b2 := e.dial(bob, map[string]int64{room.ID: last})
	synced, afterSync := false, 0
	for !synced || afterSync < 30 || len(order) < 100 {
		f := b2.take(func(f frame) bool { return isEvent(f) || f.Type == "synced" })
		if f.Type == "synced" {
			synced = true
			continue
		}
		if synced {
			afterSync++
		}
		seen[f.Seq]++
		order = append(order, f.Seq)
	}
	close(stop)
	n := int64(<-total)
	for order[len(order)-1] < n {
		f := b2.expectEvent(room.ID)
		seen[f.Seq]++
		order = append(order, f.Seq)
	}
	for i, seq := range order {
		if seq != int64(i+1) {
			t.Fatalf("delivery %d has seq %d; order across the cut: %v", i, seq, order)
		}
	}
	for seq := int64(1); seq <= n; seq++ {
		if seen[seq] != 1 {
			t.Fatalf("seq %d delivered %d times (cut after %d)", seq, seen[seq], last)
		}
	}
	if n < 100 {
		t.Fatalf("only %d messages sent", n)
	}
	for _, f := range a.backlog {
		if f.Type == "error" {
			t.Fatalf("send refused: %s", f.raw)
		}
	}

	// Cut off again; meanwhile Ann edits one message and deletes another.
	b2.ws.CloseNow()
	a.send(map[string]any{"type": "edit", "conv": room.ID, "seq": 5, "body": "message 5, edited"})
	a.expect("ack")
	a.send(map[string]any{"type": "delete", "conv": room.ID, "seq": 6})
	a.expect("ack")
	b3 := e.dial(bob, map[string]int64{room.ID: n})
	edit, del := b3.expectEvent(room.ID), b3.expectEvent(room.ID)
	if edit.Type != "edit" || edit.Seq != n+1 || edit.Target != 5 || edit.Body != "message 5, edited" ||
		del.Type != "delete" || del.Seq != n+2 || del.Target != 6 {
		t.Fatalf("changes made while away: %s / %s", edit.raw, del.raw)
	}
	if f := b3.expectSynced(room.ID); f.Seq != n+2 {
		t.Fatalf("synced at %d, want %d", f.Seq, n+2)
	}
	a.sendMsg(room.ID, "live", "live again")
	if f := b3.expectEvent(room.ID); f.Seq != n+3 || f.ID != "live" {
		t.Fatalf("live message after resume: %s", f.raw)
	}
}

// A client that does not read is closed with 4008 once its queue
// overflows, without slowing anyone else; it then resumes without loss.
func TestSlowConsumerClosedAndResumes(t *testing.T) {
	e := newEnv(t, noRateLimit, func(c *server.Config) { c.QueueSize = 8 })
	ann, bob, cat := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer), e.token("cat", auth.RolePeer)
	room := e.createRoom(ann, "Slow")
	slow := e.dialRaw(nil)
	slow.send(map[string]any{"type": "hello", "token": bob})
	slow.expect("welcome")
	slow.join(room.ID)
	fast := e.dial(cat, nil)
	fast.join(room.ID)
	slow.stopReading()

	a := e.dial(ann, nil)
	a.expectSynced(room.ID)
	body := strings.Repeat("x", 3900)
	sent := 0
	for ; sent%25 != 0 || metric(t, e, "kindred_queue_overflow_closes_total") < 1; sent++ {
		if sent == 5000 {
			t.Fatal("the slow consumer was never closed")
		}
		a.sendMsg(room.ID, fmt.Sprint("m", sent), body)
		// The reader that keeps up gets every message meanwhile.
		if f := fast.expectEvent(room.ID); f.Seq != int64(sent+1) {
			t.Fatalf("fast reader got seq %d, want %d", f.Seq, sent+1)
		}
	}
	slow.startReading()
	if code := slow.waitClosed(); code != protocol.CloseSlowConsumer {
		t.Fatalf("slow consumer closed with %d, want %d", code, protocol.CloseSlowConsumer)
	}
	last := slow.last[room.ID]
	again := e.dial(bob, map[string]int64{room.ID: last})
	for seq := last + 1; seq <= int64(sent); seq++ {
		if f := again.expectEvent(room.ID); f.Seq != seq {
			t.Fatalf("resumed at seq %d, want %d", f.Seq, seq)
		}
	}
	again.expectSynced(room.ID)
}

// Everything stored survives a restart of the server: history, sequence
// numbers and resume.
func TestRestartKeepsHistory(t *testing.T) {
	e := newEnv(t)
	ann := e.token("ann", auth.RoleSpecialist)
	room := e.createRoom(ann, "Durable")
	a := e.dial(ann, nil)
	a.expectSynced(room.ID)
	for i := 1; i <= 5; i++ {
		a.sendMsg(room.ID, fmt.Sprint("m", i), fmt.Sprint("before restart ", i))
	}
	e.restart()

	var p struct{ Messages []chat.Event }
	if st := e.api("GET", "/api/conversations/"+room.ID+"/messages", ann, nil, &p); st != 200 || len(p.Messages) != 5 {
		t.Fatalf("history after restart: %d, %d messages", st, len(p.Messages))
	}
	a2 := e.dial(ann, map[string]int64{room.ID: 2})
	for seq := int64(3); seq <= 5; seq++ {
		if f := a2.expectEvent(room.ID); f.Seq != seq || f.Body != fmt.Sprint("before restart ", seq) {
			t.Fatalf("resume after restart: %s", f.raw)
		}
	}
	if ack := a2.sendMsg(room.ID, "after", "after restart"); ack.Seq != 6 {
		t.Fatalf("sequence after restart: %d, want 6", ack.Seq)
	}
}

// Shutdown closes sessions with 1001 (going away), and new connections are
// refused meanwhile.
func TestShutdownClosesWithGoingAway(t *testing.T) {
	e := newEnv(t)
	ann := e.token("ann", auth.RoleSpecialist)
	room := e.createRoom(ann, "Shutdown")
	a := e.dial(ann, nil)
	a.expectSynced(room.ID)
	ack := a.sendMsg(room.ID, "m1", "stored before shutdown")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if code := a.waitClosed(); code != protocol.CloseGoingAway {
		t.Fatalf("closed with %d, want 1001", code)
	}
	if resp, err := http.Get(e.http.URL + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz during shutdown: %v %v", resp.StatusCode, err)
	}
	e.restart()
	var p struct{ Messages []chat.Event }
	e.api("GET", "/api/conversations/"+room.ID+"/messages", ann, nil, &p)
	if len(p.Messages) != 1 || p.Messages[0].Seq != ack.Seq {
		t.Fatalf("acked message after shutdown: %+v", p.Messages)
	}
}

// A session whose socket write stays stuck longer than WriteTimeout (the
// peer stopped reading and its buffers are full) is dropped by the write
// watchdog, even when its queue has room; others are not slowed.
func TestStuckWriteIsDropped(t *testing.T) {
	// Long enough that the sender's own session, which reads all along,
	// is never the one dropped on a loaded CI machine.
	e := newEnv(t, noRateLimit, func(c *server.Config) { c.QueueSize = 1 << 20; c.WriteTimeout = 2 * time.Second })
	ann, bob := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer)
	room := e.createRoom(ann, "Stuck")
	slow := e.dialRaw(nil)
	slow.hello(bob, nil)
	slow.join(room.ID)
	slow.stopReading()
	a := e.dial(ann, nil)
	a.expectSynced(room.ID)
	body := strings.Repeat("x", 3900)
	for i := 0; i%50 != 0 || metric(t, e, "kindred_connections") > 1; i++ {
		if i == 20000 {
			t.Fatal("the stuck session was never dropped")
		}
		a.send(map[string]any{"type": "send", "conv": room.ID, "id": fmt.Sprint("m", i), "body": body})
		if i%50 == 49 { // keep the sender's own queue drained
			a.take(func(f frame) bool { return f.Type == "ack" && f.ID == fmt.Sprint("m", i) })
			a.backlog = a.backlog[:0]
		}
	}
	// The session dropped was the stuck one: the sender still works.
	a.sendMsg(room.ID, "after", "still here")
	slow.startReading()
	if code := slow.waitClosed(); code == protocol.CloseSlowConsumer {
		t.Fatal("closed as a slow consumer; the queue should have had room")
	}
}
