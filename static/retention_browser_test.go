package static_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// A tab that last saw a room before the retention purge removed the start
// of its log comes back: it moves past the purged part (purged_seq), is
// replayed what was kept without seeing a gap (no reconnect loop), and
// shows neither purged message; live messages arrive after.
func TestReturnAfterPurge(t *testing.T) {
	n := startNode(t, 0, nil)
	ctx := context.Background()
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Short memory", "")
	n.join(bobTok, room.ID)
	old := time.Now().Add(-72 * time.Hour)
	add := func(id, body string, at time.Time) {
		t.Helper()
		items := []chat.AppendItem{{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage, Sender: "ann", ClientID: id, Body: body, Time: at}}}
		if err := n.store.Append(ctx, items); err != nil || items[0].Err != nil {
			t.Fatal(err, items[0].Err)
		}
	}
	add("o1", "old one", old)

	b := newBrowser(t)
	bob := b.page("bob", 1280, 800)
	bob.signIn(n, bobTok)
	bob.openConversation(room.ID)
	bob.waitSent("old one")
	marks := fmt.Sprintf(`(JSON.parse(sessionStorage.getItem('kindred.marks') || '{}')[%s] || {}).seen`, js(room.ID))
	bob.waitJS("seen 1", marks+` === 1`)
	bob.do(chromedp.Navigate("about:blank"))

	add("o2", "old two", old)
	add("o3", "old three", old)
	add("k4", "kept", time.Now())
	days := 1
	if err := n.store.SetRoomSettings(ctx, room.ID, chat.RoomSettings{RetainDays: &days}); err != nil {
		t.Fatal(err)
	}
	if res, err := n.store.PurgeMessages(ctx, chat.PurgeRequest{Now: time.Now(), Limit: 100}); err != nil || res.Messages != 3 {
		t.Fatalf("purge: %+v, %v", res, err)
	}

	bob.do(chromedp.Navigate(n.url + "/"))
	bob.waitJS("reconnected", `document.getElementById('conn-status').dataset.state === 'connected'`)
	bob.openConversation(room.ID)
	bob.waitSent("kept")
	bob.waitJS("moved past the purge", marks+` === 4`)
	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	ann.write("live")
	ann.waitSent("live")
	bob.waitSent("live")
	for _, body := range bob.bodies() {
		if body == "old one" || body == "old two" || body == "old three" {
			t.Errorf("a purged message is shown: %q (%v)", body, bob.bodies())
		}
	}
	if s := eval[string](bob, `document.getElementById('conn-status').dataset.state`); s != "connected" {
		t.Errorf("connection %s after the return", s)
	}
}
