package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/postgres"
)

type supervisorRow struct {
	ID, Name, Role string
	OnCall         string `json:"on_call"`
	Online         bool
}

func listSupervisors(t *testing.T, e *env, token string) map[string]supervisorRow {
	t.Helper()
	var out struct{ Supervisors []supervisorRow }
	if st := e.api("GET", "/api/supervisors", token, nil, &out); st != http.StatusOK {
		t.Fatalf("GET /api/supervisors: %d", st)
	}
	got := map[string]supervisorRow{}
	for _, s := range out.Supervisors {
		got[s.ID] = s
	}
	return got
}

// GET /api/supervisors lists every known supervisor and admin, with who is
// on call now (primary or backup) and who has a session open; not peers,
// specialists or the rota's past shifts. A peer may not ask.
func TestListSupervisors(t *testing.T) {
	e := newEscalatingEnv(t)
	sue, sam, ada := e.token("sue", auth.RoleSupervisor), e.token("sam", auth.RoleSupervisor), e.token("ada", auth.RoleAdmin)
	spec, peer := e.token("ann", auth.RoleSpecialist), e.token("pat", auth.RolePeer)
	e.dial(peer, nil)
	e.dial(spec, nil)
	suesSession := e.dial(sue, nil)
	if st := e.api("GET", "/api/me", sam, nil, nil); st != http.StatusOK { // known, never connected
		t.Fatalf("me: %d", st)
	}
	now := time.Now()
	for _, sh := range []map[string]any{
		{"supervisor": "sam", "tier": "primary", "start": now.Add(-time.Hour), "end": now.Add(time.Hour)},
		{"supervisor": "sue", "tier": "backup", "start": now.Add(-time.Hour), "end": now.Add(time.Hour)},
		{"supervisor": "ada", "tier": "primary", "start": now.Add(-3 * time.Hour), "end": now.Add(-2 * time.Hour)},
	} {
		if st := e.api("POST", "/api/oncall/shifts", ada, sh, nil); st != http.StatusCreated {
			t.Fatalf("shift %v: %d", sh, st)
		}
	}
	var refused struct{ Error struct{ Code string } }
	if st := e.api("GET", "/api/supervisors", peer, nil, &refused); st != http.StatusForbidden || refused.Error.Code != "forbidden" {
		t.Fatalf("a peer listing supervisors: %d %+v", st, refused)
	}
	// Presence is recorded just after the welcome.
	waitFor(t, "sue online", func() bool { return listSupervisors(t, e, spec)["sue"].Online })
	got := listSupervisors(t, e, spec)
	want := map[string]supervisorRow{
		"sam": {ID: "sam", Name: "Sam", Role: "supervisor", OnCall: "primary"},
		"sue": {ID: "sue", Name: "Sue", Role: "supervisor", OnCall: "backup", Online: true},
		"ada": {ID: "ada", Name: "Ada", Role: "admin"}, // her shift is over; online only over HTTP
	}
	if len(got) != len(want) {
		t.Fatalf("supervisors %+v, want %+v", got, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %+v, want %+v", id, got[id], w)
		}
	}
	// Sue signs out of her one session: she is offline at once.
	suesSession.ws.CloseNow()
	waitFor(t, "sue offline", func() bool { return !listSupervisors(t, e, sam)["sue"].Online })
}

// In a Redis and PostgreSQL cluster, who is online and on call is the same
// seen from any node: a supervisor connected to node 0 is online for a
// specialist asking node 1, and a shift added on node 1 shows on node 0.
func TestClusterListSupervisors(t *testing.T) {
	c := newCluster(t, 2, "", func(_ int, cfg *server.Config, st *postgres.Store) {
		withEscalation(t, cfg, st.Escalations(), server.EscalationOptions{})
	})
	sup := c.token("sue", auth.RoleSupervisor)
	c.dial(0, sup, nil)
	now := time.Now()
	shift := map[string]any{"supervisor": "sue", "tier": "primary", "start": now.Add(-time.Minute), "end": now.Add(time.Hour)}
	if st := c.env(1).api("POST", "/api/oncall/shifts", c.token("ada", auth.RoleAdmin), shift, nil); st != http.StatusCreated {
		t.Fatalf("shift on node 1: %d", st)
	}
	ann := c.token("ann", auth.RoleSpecialist)
	waitFor(t, "sue online", func() bool { return listSupervisors(t, c.env(1), ann)["sue"].Online })
	got := listSupervisors(t, c.env(1), ann)["sue"]
	if want := (supervisorRow{ID: "sue", Name: "Sue", Role: "supervisor", OnCall: "primary", Online: true}); got != want {
		t.Fatalf("sue seen from node 1: %+v, want %+v", got, want)
	}
	got = listSupervisors(t, c.env(0), sup)["ada"]
	if want := (supervisorRow{ID: "ada", Name: "Ada", Role: "admin"}); got != want {
		t.Fatalf("ada seen from node 0: %+v, want %+v", got, want)
	}
}

// The welcome tells each browser how long it may sit unused: supervisors
// and admins, who keep the dashboard open to be paged, get the longer
// supervisor timeout; everyone else the ordinary one.
func TestWelcomeIdleTimeoutByRole(t *testing.T) {
	e := newEscalatingEnv(t, func(c *server.Config) {
		c.IdleTimeout, c.SupervisorIdleTimeout = 30*time.Minute, 8*time.Hour
	})
	for _, tc := range []struct {
		user string
		role auth.Role
		want int64
	}{
		{"pat", auth.RolePeer, 30 * 60 * 1000}, {"ann", auth.RoleSpecialist, 30 * 60 * 1000},
		{"sue", auth.RoleSupervisor, 8 * 3600 * 1000}, {"ada", auth.RoleAdmin, 8 * 3600 * 1000},
	} {
		c := e.dialRaw(nil)
		c.send(map[string]any{"type": "hello", "token": e.token(tc.user, tc.role)})
		var w struct {
			IdleTimeoutMS int64 `json:"idle_timeout_ms"`
		}
		if err := json.Unmarshal([]byte(c.expect("welcome").raw), &w); err != nil || w.IdleTimeoutMS != tc.want {
			t.Errorf("%s (%s): idle_timeout_ms %d, want %d (%v)", tc.user, tc.role, w.IdleTimeoutMS, tc.want, err)
		}
	}
}
