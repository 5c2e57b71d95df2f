package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/server"
)

// purge runs one purge on e's node, waiting for the purge the node ran
// at start to let go of the lease.
func purge(t *testing.T, e *env) server.PurgeReport {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rep, err := e.srv.Purge(context.Background(), "test-node")
		if err != nil {
			t.Fatalf("Purge: %v", err)
		}
		if rep.Ran {
			return rep
		}
		if time.Now().After(deadline) {
			t.Fatal("the purge lease stays taken")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// appendAt writes messages of sender to conv directly to the node's store,
// dated at.
func appendAt(t *testing.T, e *env, conv, sender string, at time.Time, bodies ...string) {
	t.Helper()
	var items []chat.AppendItem
	for i, b := range bodies {
		items = append(items, chat.AppendItem{Event: chat.Event{Conv: conv, Kind: chat.EventMessage, Sender: sender,
			ClientID: fmt.Sprintf("%s-%d-%d", sender, at.UnixNano(), i), Body: b, Time: at}})
	}
	if err := e.store.Append(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Err != nil {
			t.Fatal(it.Err)
		}
	}
}

// Only the owner (and admins) set a room's retention, never longer than
// the deployment's; the purge removes the old start of the log; a client
// resuming from before it is told where the log now starts (purged_seq)
// and replayed the rest without a gap; history starts there too.
func TestPurgeRoomRetention(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.RetainMessages = 30 * 24 * time.Hour })
	owner, mod, pat := e.token("olga", auth.RoleSpecialist), e.token("mo", auth.RoleSpecialist), e.token("pat", auth.RolePeer)
	room := e.createRoom(owner, "Short memory")
	for _, tok := range []string{mod, pat} {
		e.dial(tok, nil).join(room.ID)
	}
	e.mustMod("PUT", members(room.ID, "mo", "/role"), owner, map[string]string{"role": "moderator"})
	days := func(n int) map[string]int { return map[string]int{"retain_days": n} }
	var out struct{ Error chat.Error }
	if st := e.api("PATCH", "/api/rooms/"+room.ID, mod, days(1), &out); st != http.StatusForbidden {
		t.Errorf("a moderator set the retention: %d %+v", st, out)
	}
	if st := e.api("PATCH", "/api/rooms/"+room.ID, owner, days(31), &out); st != http.StatusBadRequest || out.Error.Code != chat.CodeInvalidField {
		t.Errorf("a retention longer than the deployment's: %d %+v", st, out)
	}
	var c chat.Conversation
	if st := e.api("PATCH", "/api/rooms/"+room.ID, owner, days(1), &c); st != 200 || c.RetainDays != 1 {
		t.Fatalf("the owner set the retention: %d %+v", st, c)
	}
	old := time.Now().Add(-72 * time.Hour)
	base := e.conv(room.ID).LastSeq
	appendAt(t, e, room.ID, "pat", old, "old 1", "old 2", "old 3")
	appendAt(t, e, room.ID, "pat", time.Now(), "new 1", "new 2")

	if rep := purge(t, e); rep.Messages != 3 || rep.Convs != 1 {
		t.Fatalf("purge = %+v, want 3 messages of 1 conversation", rep)
	}
	horizon := base + 3
	cl := e.dialRaw(nil)
	cl.send(map[string]any{"type": "hello", "token": pat, "resume": map[string]int64{room.ID: 1}})
	var welcome struct{ Conversations []chat.Conversation }
	if err := json.Unmarshal([]byte(cl.expect("welcome").raw), &welcome); err != nil {
		t.Fatal(err)
	}
	for _, wc := range welcome.Conversations {
		if wc.ID == room.ID && wc.PurgedSeq != horizon {
			t.Errorf("welcome: purged_seq %d, want %d", wc.PurgedSeq, horizon)
		}
	}
	var seqs []int64
	for f := cl.next(); f.Type != "synced"; f = cl.next() {
		if f.Conv == room.ID && isEvent(f) {
			seqs = append(seqs, f.Seq)
		}
	}
	if len(seqs) != 2 || seqs[0] != horizon+1 || seqs[1] != horizon+2 {
		t.Errorf("resumed from 1 after the purge: events %v, want %d and %d", seqs, horizon+1, horizon+2)
	}
	var page struct{ Messages []chat.Event }
	if st := e.api("GET", "/api/conversations/"+room.ID+"/messages?after=0", pat, nil, &page); st != 200 ||
		len(page.Messages) != 2 || page.Messages[0].Body != "new 1" {
		t.Errorf("history after the purge: %d %+v", st, page.Messages)
	}
}

func (e *env) conv(id string) chat.Conversation {
	e.t.Helper()
	c, err := e.store.Conversation(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// One node at a time: while another node holds the purge's lease, a
// purge does not run.
func TestPurgeOneNodeAtATime(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) { // the node's own may run
		ok, err := e.store.TryJobLease(ctx, "purge", "other-node", time.Now().Add(time.Minute))
		if err != nil || (!ok && time.Now().After(deadline)) {
			t.Fatalf("TryJobLease: %t %v", ok, err)
		}
		if ok {
			break
		}
	}
	if rep, err := e.srv.Purge(ctx, "test-node"); err != nil || rep.Ran {
		t.Errorf("a purge while another node holds it: %+v, %v", rep, err)
	}
	if err := e.store.ReleaseJobLease(ctx, "purge", "other-node"); err != nil {
		t.Fatal(err)
	}
	purge(t, e)
}
