package server_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/postgres"
)

// Two nodes sharing PostgreSQL, keyed with one audit key, append audit
// entries at once (staff reads on both): the result is one unbroken
// chain, every entry keyed, and every read is in it.
func TestClusterAuditChain(t *testing.T) {
	key := []byte("cluster-audit-key-0123456789abcdef")
	c := newCluster(t, 2, "", func(_ int, _ *server.Config, st *postgres.Store) { st.SetAuditKey(key) })
	e0, e1 := c.env(0), c.env(1)
	spec := c.token("sam", auth.RoleSpecialist)
	room := e0.createRoom(spec, "Group")
	before, err := c.nodes[0].store.VerifyAudit(t.Context(), chat.AuditHead{})
	if err != nil {
		t.Fatal(err)
	}
	const perWorker = 15
	var wg sync.WaitGroup
	for w := range 8 {
		e := []*env{e0, e1}[w%2]
		wg.Go(func() {
			for range perWorker {
				if code := e.api("GET", "/api/conversations/"+room.ID+"/messages", spec, nil, nil); code != http.StatusOK {
					t.Errorf("read: %d", code)
					return
				}
			}
		})
	}
	wg.Wait()
	rep, err := c.nodes[1].store.VerifyAudit(t.Context(), before.Head)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("verify: %v %v", err, rep.Problems)
	}
	if rep.Count != before.Count+8*perWorker || rep.Keyed != rep.Count || rep.Head.Position != rep.Count {
		t.Fatalf("chain: %+v, want %d more keyed entries than %+v", rep, 8*perWorker, before)
	}
	reads, err := c.nodes[0].store.Audit(t.Context(), chat.AuditFilter{Action: "history.read", Room: room.ID, Limit: 500})
	if err != nil || len(reads) != 8*perWorker {
		t.Fatalf("history.read entries: %v %d, want %d", err, len(reads), 8*perWorker)
	}
	t.Logf("%d entries, head %s", rep.Count, rep.Head)
}
