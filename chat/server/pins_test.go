package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// Moderators pin messages (docs/moderation.md#pinned-messages): the list
// is told to the room on each change, read by members, limited, and loses
// a message once it is deleted or hidden.

type pinList struct {
	Pins  []chat.Pin
	Error chat.Error
}

func pinPath(room string, seq int64) string { return fmt.Sprintf("/api/rooms/%s/pins/%d", room, seq) }

func (e *env) pins(method, room string, seq int64, token string) (int, pinList) {
	e.t.Helper()
	var out pinList
	path := "/api/rooms/" + room + "/pins"
	if seq > 0 {
		path = pinPath(room, seq)
	}
	st := e.api(method, path, token, nil, &out)
	return st, out
}

func seqsOf(pins []chat.Pin) []int64 {
	out := make([]int64, len(pins))
	for i, p := range pins {
		out[i] = p.Seq
	}
	return out
}

// pinsFrame waits for the room's next pins frame on c and returns its seqs.
func pinsFrame(t *testing.T, c *client, room string) []int64 {
	t.Helper()
	f := c.take(func(f frame) bool { return f.Type == "pins" && f.Conv == room })
	var w struct{ Pins []chat.Pin }
	if err := json.Unmarshal([]byte(f.raw), &w); err != nil || w.Pins == nil {
		t.Fatalf("pins frame %s: %v", f.raw, err)
	}
	return seqsOf(w.Pins)
}

func TestModeratorPins(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, bob, cat := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer), e.token("cat", auth.RolePeer)
	room := e.createRoom(ann, "Support")
	a, b, c := e.dial(ann, nil), e.dial(bob, nil), e.dial(cat, nil)
	a.expectSynced(room.ID)
	b.join(room.ID)
	c.join(room.ID)
	var m [4]int64
	for i := range m {
		m[i] = b.sendMsg(room.ID, fmt.Sprint("b", i), fmt.Sprint("message ", i)).Seq
	}
	if st, out := e.pins("PUT", room.ID, m[0], cat); st != http.StatusForbidden || out.Error.Code != chat.CodeForbidden {
		t.Fatalf("a peer member pinning: %d %+v", st, out.Error)
	}
	st, out := e.pins("PUT", room.ID, m[0], ann)
	if st != http.StatusOK || len(out.Pins) != 1 || out.Pins[0].Seq != m[0] || out.Pins[0].By != "ann" || time.Since(out.Pins[0].At) > time.Minute {
		t.Fatalf("pin: %d %+v", st, out)
	}
	e.pins("PUT", room.ID, m[1], ann)
	e.pins("PUT", room.ID, m[1], ann) // again: no change
	e.pins("PUT", room.ID, m[2], ann)
	for name, s := range map[string]*client{"ann": a, "bob": b, "cat": c} {
		for i, want := range [][]int64{{m[0]}, {m[1], m[0]}, {m[2], m[1], m[0]}} {
			if got := pinsFrame(t, s, room.ID); !slices.Equal(got, want) {
				t.Errorf("%s's pins frame %d = %v, want %v", name, i, got, want)
			}
		}
	}
	if st, out := e.pins("DELETE", room.ID, m[1], ann); st != http.StatusOK || !slices.Equal(seqsOf(out.Pins), []int64{m[2], m[0]}) {
		t.Fatalf("unpin: %d %+v", st, out)
	}
	if got := pinsFrame(t, c, room.ID); !slices.Equal(got, []int64{m[2], m[0]}) {
		t.Errorf("pins frame after an unpin = %v", got)
	}
	if st, out := e.pins("GET", room.ID, 0, cat); st != http.StatusOK || !slices.Equal(seqsOf(out.Pins), []int64{m[2], m[0]}) {
		t.Errorf("a member's list: %d %+v", st, out)
	}
	// Hiding or deleting a pinned message unpins it; neither can be
	// pinned again.
	if st, _ := e.hide(room.ID, m[2], ann, nil); st != http.StatusOK {
		t.Fatalf("hide: %d", st)
	}
	if got := pinsFrame(t, c, room.ID); !slices.Equal(got, []int64{m[0]}) {
		t.Errorf("pins frame after a hide = %v", got)
	}
	b.send(map[string]any{"type": "delete", "conv": room.ID, "seq": m[0]})
	if got := pinsFrame(t, c, room.ID); len(got) != 0 {
		t.Errorf("pins frame after a delete = %v", got)
	}
	for _, seq := range []int64{m[0], m[2]} {
		if st, out := e.pins("PUT", room.ID, seq, ann); st != http.StatusConflict || out.Error.Code != chat.CodeConflict {
			t.Errorf("pinning an erased message: %d %+v", st, out.Error)
		}
	}
	if st, _ := e.pins("PUT", room.ID, 999, ann); st != http.StatusNotFound {
		t.Errorf("pinning no message: %d", st)
	}
	checkPinAudit(t, e, room.ID, 3, 1)
	lim := checkPinLimit(t, e, room.ID, b, ann)
	checkPinFloor(t, e, room.ID, ann, m[3], lim)
}

// checkPinAudit: one entry per pin and unpin that changed something.
func checkPinAudit(t *testing.T, e *env, room string, pins, unpins int) {
	t.Helper()
	got := map[string]int{}
	for _, en := range auditOf(t, e, e.token("ada", auth.RoleAdmin), "?room="+room) {
		got[en.Action]++
		if (en.Action == "message.pin" || en.Action == "message.unpin") && (en.Actor != "ann" || en.Detail == "") {
			t.Errorf("audit entry %+v", en)
		}
	}
	if got["message.pin"] != pins || got["message.unpin"] != unpins {
		t.Errorf("audit has %d pins and %d unpins, want %d and %d", got["message.pin"], got["message.unpin"], pins, unpins)
	}
}

// checkPinLimit: a room holds at most 50 pins. It returns the messages
// pinned.
func checkPinLimit(t *testing.T, e *env, room string, b *client, owner string) []int64 {
	t.Helper()
	var pinned []int64
	for i := range chat.MaxPins + 1 {
		seq := b.sendMsg(room, fmt.Sprint("lim", i), "pin me").Seq
		st, out := e.pins("PUT", room, seq, owner)
		switch {
		case i < chat.MaxPins && st != http.StatusOK:
			t.Fatalf("pin %d: %d %+v", i+1, st, out.Error)
		case i == chat.MaxPins && (st != http.StatusConflict || out.Error.Code != chat.CodeConflict):
			t.Fatalf("pin %d, beyond the limit: %d %+v", i+1, st, out.Error)
		case i < chat.MaxPins:
			pinned = append(pinned, seq)
		}
	}
	return pinned
}

// checkPinFloor: in a room with joined history, a newcomer's list leaves
// out the pins of messages from before they joined.
func checkPinFloor(t *testing.T, e *env, room, owner string, old int64, pinned []int64) {
	t.Helper()
	if st, out := e.pins("DELETE", room, pinned[0], owner); st != http.StatusOK {
		t.Fatalf("making room for one more pin: %d %+v", st, out.Error)
	}
	if st, _ := e.pins("PUT", room, old, owner); st != http.StatusOK {
		t.Fatalf("pinning an old message: %d", st)
	}
	dan := e.token("dan", auth.RolePeer)
	d := e.dial(dan, nil)
	d.join(room)
	newer := d.sendMsg(room, "d1", "I am new here").Seq
	if st, _ := e.pins("DELETE", room, pinned[1], owner); st != http.StatusOK {
		t.Fatal("unpin")
	}
	if st, _ := e.pins("PUT", room, newer, owner); st != http.StatusOK {
		t.Fatal("pinning the newcomer's message")
	}
	st, out := e.pins("GET", room, 0, dan)
	if st != http.StatusOK || len(out.Pins) != 1 || out.Pins[0].Seq != newer {
		t.Errorf("the newcomer's list: %d %v, want only %d", st, seqsOf(out.Pins), newer)
	}
	if _, all := e.pins("GET", room, 0, owner); len(all.Pins) != chat.MaxPins {
		t.Errorf("the owner's list has %d pins, want %d", len(all.Pins), chat.MaxPins)
	}
}
