package brokertest

import (
	"context"
	"fmt"
	"testing"

	"github.com/kindred-health/kindred/chat"
)

// RunPresence checks the chat.Presence contract. newPresence returns two
// presence tables of two nodes sharing one store (for an in-process table,
// the same instance twice), already running whatever heartbeat they need;
// it is called once per subtest. Expiry of a node that stops heartbeating
// depends on the implementation's timing and is tested by each shared
// implementation itself.
func RunPresence(t *testing.T, newPresence func(t *testing.T) (chat.Presence, chat.Presence), opts ...Option) {
	cfg := newConfig(opts)

	cfg.run(t, "UnknownUsersAreOffline", func(t *testing.T) {
		a, _ := newPresence(t)
		u := user()
		expectOnline(t, a, map[string]bool{u: false})
		got, err := a.Online(context.Background(), nil)
		if err != nil {
			t.Fatalf("Online(nil): %v", err)
		}
		if len(got) != 0 {
			t.Fatalf("Online(nil) = %v, want an empty map", got)
		}
	})

	cfg.run(t, "ConnectIsVisibleOnEveryNode", func(t *testing.T) {
		a, b := newPresence(t)
		u, other := user(), user()
		connect(t, a, u, conn())
		expectOnline(t, a, map[string]bool{u: true, other: false})
		expectOnline(t, b, map[string]bool{u: true, other: false})
	})

	cfg.run(t, "OnlineUntilLastConnectionCloses", func(t *testing.T) {
		a, b := newPresence(t)
		u := user()
		tab1, tab2, phone := conn(), conn(), conn()
		connect(t, a, u, tab1)
		connect(t, a, u, tab2)
		connect(t, b, u, phone) // the same user on another node
		for _, step := range []struct {
			p    chat.Presence
			conn string
			want bool
		}{
			{a, tab1, true},    // two connections left
			{b, phone, true},   // one left, on the other node
			{a, tab2, false},   // the last one
			{a, tab2, false},   // disconnecting again changes nothing
			{b, conn(), false}, // nor does an unknown connection
		} {
			disconnect(t, step.p, u, step.conn)
			expectOnline(t, a, map[string]bool{u: step.want})
			expectOnline(t, b, map[string]bool{u: step.want})
		}
		// And back online.
		connect(t, b, u, conn())
		expectOnline(t, a, map[string]bool{u: true})
	})

	cfg.run(t, "ReconnectAfterLastDisconnect", func(t *testing.T) {
		a, b := newPresence(t)
		u := user()
		c1 := conn()
		connect(t, a, u, c1)
		disconnect(t, a, u, c1)
		expectOnline(t, b, map[string]bool{u: false})
		connect(t, b, u, conn())
		expectOnline(t, a, map[string]bool{u: true})
	})

	cfg.run(t, "UsersAreIndependent", func(t *testing.T) {
		a, b := newPresence(t)
		u1, u2 := user(), user()
		c1, c2 := conn(), conn()
		connect(t, a, u1, c1)
		connect(t, b, u2, c2)
		expectOnline(t, a, map[string]bool{u1: true, u2: true})
		disconnect(t, a, u1, c1)
		expectOnline(t, b, map[string]bool{u1: false, u2: true})
		// A connection ID is only meaningful with its user.
		disconnect(t, b, u1, c2)
		expectOnline(t, a, map[string]bool{u1: false, u2: true})
	})

	cfg.run(t, "OnlineAnswersEveryUserAsked", func(t *testing.T) {
		a, b := newPresence(t)
		const n = 300
		ids := make([]string, n)
		want := make(map[string]bool, n)
		for i := range ids {
			ids[i] = user()
			want[ids[i]] = i%3 == 0
			if i%3 == 0 {
				p := a
				if i%2 == 1 {
					p = b
				}
				connect(t, p, ids[i], conn())
			}
		}
		// Duplicates in the question are fine.
		ids = append(ids, ids[0], ids[1])
		for _, p := range []chat.Presence{a, b} {
			got, err := p.Online(context.Background(), ids)
			if err != nil {
				t.Fatalf("Online: %v", err)
			}
			if len(got) != n {
				t.Fatalf("Online answered %d users, want %d", len(got), n)
			}
			for id, w := range want {
				if v, ok := got[id]; !ok || v != w {
					t.Fatalf("Online[%s] = %v (present %v), want %v", id, v, ok, w)
				}
			}
		}
	})
}

func connect(t *testing.T, p chat.Presence, u, c string) {
	t.Helper()
	if err := p.Connect(context.Background(), u, c); err != nil {
		t.Fatalf("Connect(%s, %s): %v", u, c, err)
	}
}

func disconnect(t *testing.T, p chat.Presence, u, c string) {
	t.Helper()
	if err := p.Disconnect(context.Background(), u, c); err != nil {
		t.Fatalf("Disconnect(%s, %s): %v", u, c, err)
	}
}

// expectOnline asks p about the users of want in one call.
func expectOnline(t *testing.T, p chat.Presence, want map[string]bool) {
	t.Helper()
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	got, err := p.Online(context.Background(), ids)
	if err != nil {
		t.Fatalf("Online: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Online(%v) = %v: want an answer for each user", ids, got)
	}
	for id, w := range want {
		if got[id] != w {
			t.Fatalf("Online[%s] = %v, want %v (all: %v)", id, got[id], w, got)
		}
	}
}

func user() string { return fmt.Sprintf("u-%s", randomHex(6)) }
func conn() string { return fmt.Sprintf("c-%s", randomHex(6)) }
