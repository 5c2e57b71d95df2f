package server_test

import (
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/signaling"
)

// A lease renewal that comes between a session's start in the SFU and its
// record being written leaves it alone (it would find no record and end
// it); a recorded session stays live through it too.
func TestVideoRenewalSparesUnrecordedSession(t *testing.T) {
	v := withVideo(t, 0)
	e := newEnv(t, v.set)
	v.wire(e)
	annT := e.token("ann", auth.RoleSpecialist)
	room := e.createRoom(annT, "Lease").ID
	ann := e.dial(annT, nil)
	recorded := ann.vok("start", map[string]any{"type": "video_start", "conv": room}).Session

	// Started in the SFU, its claim not written yet.
	info, err := v.sfu.Start("r_unrecorded", signaling.Person{User: "ann", Name: "Ann"}, false)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.RenewVideoNow()
	for _, id := range []string{info.ID, recorded} {
		if _, live := v.sfu.Session(id); !live {
			t.Fatalf("session %s ended by the renewal", id)
		}
	}
}
