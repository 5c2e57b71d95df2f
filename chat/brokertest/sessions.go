package brokertest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kindred-health/kindred/chat"
)

// RunSessions checks the chat.SessionCounter contract. newSessions returns
// the counters of two nodes sharing one count (for an in-process counter,
// the same instance twice), already running whatever heartbeat they need;
// it is called once per subtest. Lapsing when a node stops and failing
// open when the shared count is unreachable depend on the implementation
// and are tested by each shared implementation itself.
func RunSessions(t *testing.T, newSessions func(t *testing.T) (chat.SessionCounter, chat.SessionCounter), opts ...Option) {
	cfg := newConfig(opts)

	cfg.run(t, "CapHoldsAcrossNodes", func(t *testing.T) {
		a, b := newSessions(t)
		u := user()
		expectAdmit(t, a, u, conn(), 3, true)
		expectAdmit(t, b, u, conn(), 3, true)
		expectAdmit(t, a, u, conn(), 3, true)
		expectAdmit(t, b, u, conn(), 3, false)
		expectAdmit(t, a, u, conn(), 3, false)
		// A refused session was not counted: still refused, not more.
		expectAdmit(t, b, u, conn(), 4, true)
		expectAdmit(t, a, u, conn(), 4, false)
	})

	cfg.run(t, "ReleaseOnOneNodeFreesASlotOnAnother", func(t *testing.T) {
		a, b := newSessions(t)
		u := user()
		s1, s2 := conn(), conn()
		expectAdmit(t, a, u, s1, 2, true)
		expectAdmit(t, a, u, s2, 2, true)
		expectAdmit(t, b, u, conn(), 2, false)
		release(t, a, u, s1)
		s3 := conn()
		expectAdmit(t, b, u, s3, 2, true)
		expectAdmit(t, a, u, conn(), 2, false)
		release(t, b, u, s3)
		release(t, a, u, s2)
		expectAdmit(t, b, u, conn(), 2, true)
		expectAdmit(t, a, u, conn(), 2, true)
	})

	cfg.run(t, "AdmitTwiceCountsOnce", func(t *testing.T) {
		a, b := newSessions(t)
		u, s := user(), conn()
		expectAdmit(t, a, u, s, 2, true)
		expectAdmit(t, a, u, s, 2, true)
		expectAdmit(t, b, u, conn(), 2, true)
		// At the cap, a session already counted is still admitted.
		expectAdmit(t, a, u, s, 2, true)
		expectAdmit(t, b, u, conn(), 2, false)
	})

	cfg.run(t, "ReleaseOfUnknownSessionsChangesNothing", func(t *testing.T) {
		a, b := newSessions(t)
		u, other, s := user(), user(), conn()
		release(t, a, u, conn()) // nothing counted at all
		expectAdmit(t, a, u, s, 1, true)
		release(t, b, u, conn()) // an unknown session
		release(t, b, other, s)  // the right ID with the wrong user
		expectAdmit(t, b, u, conn(), 1, false)
		release(t, a, u, s)
		release(t, a, u, s) // twice
		expectAdmit(t, b, u, conn(), 1, true)
	})

	cfg.run(t, "UsersAreCountedApart", func(t *testing.T) {
		a, b := newSessions(t)
		u1, u2 := user(), user()
		expectAdmit(t, a, u1, conn(), 1, true)
		expectAdmit(t, b, u2, conn(), 1, true)
		expectAdmit(t, b, u1, conn(), 1, false)
		expectAdmit(t, a, u2, conn(), 1, false)
	})

	cfg.run(t, "ConcurrentAdmitsNeverExceedTheCap", func(t *testing.T) {
		a, b := newSessions(t)
		u := user()
		const max, tries = 5, 40
		var admitted atomic.Int32
		var wg sync.WaitGroup
		for i := range tries {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				ok, err := s.Admit(context.Background(), u, fmt.Sprintf("s-%d", i), max)
				if err != nil {
					t.Errorf("Admit: %v", err)
				}
				if ok {
					admitted.Add(1)
				}
			})
		}
		wg.Wait()
		if n := admitted.Load(); n != max {
			t.Fatalf("%d of %d concurrent sessions admitted with a cap of %d", n, tries, max)
		}
	})
}

func expectAdmit(t *testing.T, s chat.SessionCounter, u, sess string, max int, want bool) {
	t.Helper()
	ok, err := s.Admit(context.Background(), u, sess, max)
	if err != nil {
		t.Fatalf("Admit(%s, %s, %d): %v", u, sess, max, err)
	}
	if ok != want {
		t.Fatalf("Admit(%s, %s, %d) = %v, want %v", u, sess, max, ok, want)
	}
}

func release(t *testing.T, s chat.SessionCounter, u, sess string) {
	t.Helper()
	if err := s.Release(context.Background(), u, sess); err != nil {
		t.Fatalf("Release(%s, %s): %v", u, sess, err)
	}
}
