package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
)

// A block recorded during a one-on-one video call takes both people out
// of it, the one blocked too (who learns nothing else of the block): a
// block closes the DM's video as it closes its messages.
func TestVideoBlockDuringDMCall(t *testing.T) {
	v := withVideo(t, 0)
	e := newEnv(t, noRateLimit, v.set)
	v.wire(e)
	annT, boT := e.token("ann", auth.RoleSpecialist), e.token("bo", auth.RolePeer)
	room := e.createRoom(annT, "Shared").ID // the DM policy wants a shared room
	ann, bo := e.dial(annT, nil), e.dial(boT, nil)
	bo.join(room)
	ann.send(map[string]any{"type": "open_dm", "user": "bo", "ref": "dm"})
	dm := ann.take(func(f frame) bool { return f.Ref == "dm" }).Conversation.ID
	bo.expectSynced(dm)
	s := ann.vok("start", map[string]any{"type": "video_start", "conv": dm}).Session
	ann.vok("join-ann", map[string]any{"type": "video_join", "session": s})
	ann.vexpect("video_joined", s, nil)
	bo.vok("join-bo", map[string]any{"type": "video_join", "session": s})
	bo.vexpect("video_joined", s, nil)
	ann.vexpect("video_participant", s, func(v vframe) bool { return v.User == "bo" && !v.Left })

	if st := e.api("PUT", "/api/blocks/ann", boT, nil, nil); st != http.StatusOK {
		t.Fatalf("block: %d", st)
	}
	// Well before the 30 s after which a participant whose media never
	// connected (none does here) is taken out anyway.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if info, live := v.sfu.Session(s); !live || info.Participants == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the block left both in the DM's call")
		}
	}
	for user, c := range map[string]*client{"ann": ann, "bo": bo} {
		if r := c.vreq("mute", map[string]any{"type": "video_control", "session": s, "user": user, "action": "mute"}); r.Code != "video_not_admitted" && r.Code != "video_no_session" {
			t.Fatalf("a control after the block: %s, want the place gone", r.raw)
		}
		c.vnone("video_removed") // left, not dropped for failed media
	}
}
