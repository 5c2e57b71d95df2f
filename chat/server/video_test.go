package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/auth"
)

// videoRoom is a room owned by ann (a specialist) with bo and cy (peers)
// as members, each with one session; dee is a peer who is not a member.
type videoRoom struct {
	e                *env
	room             string
	ann, bo, cy, dee *client
	annT, boT, cyT   string
	deeT             string
}

func newVideoRoom(t *testing.T) *videoRoom {
	e := newVideoEnv(t, noRateLimit)
	r := &videoRoom{e: e, annT: e.token("ann", auth.RoleSpecialist), boT: e.token("bo", auth.RolePeer),
		cyT: e.token("cy", auth.RolePeer), deeT: e.token("dee", auth.RolePeer)}
	r.room = e.createRoom(r.annT, "Tuesday group").ID
	r.ann = e.dial(r.annT, nil)
	r.bo, r.cy, r.dee = e.dial(r.boT, nil), e.dial(r.cyT, nil), e.dial(r.deeT, nil)
	r.bo.join(r.room)
	r.cy.join(r.room)
	return r
}

// start has ann start a session with the waiting room on and join it.
func (r *videoRoom) start(t *testing.T) string {
	t.Helper()
	s := r.ann.vok("start", map[string]any{"type": "video_start", "conv": r.room, "waiting_room": true}).Session
	if s == "" {
		t.Fatal("video_ok without a session")
	}
	r.ann.vok("join-ann", map[string]any{"type": "video_join", "session": s})
	if j := r.ann.vexpect("video_joined", s, nil); len(j.Participants) != 1 || !j.Participants[0].Host {
		t.Fatalf("ann's video_joined: %s", j.raw)
	}
	return s
}

// admit has c ask to join and wait, and ann admit them.
func (r *videoRoom) admit(t *testing.T, c *client, user, s string) {
	t.Helper()
	c.vok("join-"+user, map[string]any{"type": "video_join", "session": s})
	c.vexpect("video_waiting", s, nil)
	r.ann.vexpect("video_waiting_list", s, func(v vframe) bool { return len(v.Waiting) > 0 && v.Waiting[0].User == user })
	r.ann.vok("admit-"+user, map[string]any{"type": "video_admit", "session": s, "user": user})
	c.vexpect("video_joined", s, nil)
	r.ann.vexpect("video_participant", s, func(v vframe) bool { return v.User == user && !v.Left })
}

// A specialist starts; a peer may not; every member hears the session is
// live, a member who connects later too, and a peer waits, shown to the
// host by name, until admitted.
func TestVideoStartWaitAdmit(t *testing.T) {
	r := newVideoRoom(t)
	if v := r.bo.vreq("bo-start", map[string]any{"type": "video_start", "conv": r.room}); v.Code != "forbidden" {
		t.Fatalf("a peer's video_start: %s, want forbidden", v.raw)
	}
	s := r.start(t)
	for _, c := range []*client{r.ann, r.bo, r.cy} {
		v := c.vexpect("video_session", s, nil)
		if v.State != "live" || v.Conv != r.room || v.Host != "ann" || v.HostName != "Ann" {
			t.Errorf("video_session: %s", v.raw)
		}
	}
	late := r.e.dial(r.cyT, nil)
	if v := late.vexpect("video_session", s, nil); v.State != "live" {
		t.Errorf("a member connecting later: %s", v.raw)
	}
	r.dee.vnone("video_session")
	r.dee.join(r.room) // a new member hears of it too
	if v := r.dee.vexpect("video_session", s, nil); v.State != "live" {
		t.Errorf("a new member: %s", v.raw)
	}

	r.bo.vok("bo-join", map[string]any{"type": "video_join", "session": s})
	r.bo.vexpect("video_waiting", s, nil)
	w := r.ann.vexpect("video_waiting_list", s, func(v vframe) bool { return len(v.Waiting) == 1 })
	if w.Waiting[0].User != "bo" || w.Waiting[0].Name != "Bo" {
		t.Fatalf("waiting list: %s", w.raw)
	}
	// Waiting is not being in: no negotiation yet.
	if v := r.bo.vreq("bo-early", map[string]any{"type": "video_offer", "session": s, "sdp": "v=0"}); !strings.HasPrefix(v.Code, "video_") {
		t.Fatalf("an offer from the waiting room: %s", v.raw)
	}
	r.ann.vok("admit", map[string]any{"type": "video_admit", "session": s, "user": "bo"})
	j := r.bo.vexpect("video_joined", s, nil)
	if len(j.Participants) != 2 {
		t.Fatalf("bo's video_joined: %s", j.raw)
	}
	r.ann.vexpect("video_participant", s, func(v vframe) bool { return v.User == "bo" && v.Name == "Bo" && !v.Left })
}

// A host denies someone waiting; a peer may not admit or deny.
func TestVideoDeny(t *testing.T) {
	r := newVideoRoom(t)
	s := r.start(t)
	r.admit(t, r.bo, "bo", s)
	r.cy.vok("cy-join", map[string]any{"type": "video_join", "session": s})
	r.cy.vexpect("video_waiting", s, nil)
	if v := r.bo.vreq("bo-admit", map[string]any{"type": "video_admit", "session": s, "user": "cy"}); v.Code != "forbidden" {
		t.Fatalf("a peer admitting: %s, want forbidden", v.raw)
	}
	r.ann.vok("deny", map[string]any{"type": "video_deny", "session": s, "user": "cy"})
	if v := r.cy.vexpect("video_denied", s, nil); v.Reason != "host_denied" {
		t.Fatalf("video_denied: %s", v.raw)
	}
	// Denied is out: the next frame about the session is refused.
	if v := r.cy.vreq("cy-leave", map[string]any{"type": "video_leave", "session": s}); v.Code != "video_not_admitted" {
		t.Fatalf("leave after denial: %s, want video_not_admitted", v.raw)
	}
}

// A non-member is refused with video_not_member and learns nothing of the
// session: not its conversation, its host or who is in it.
func TestVideoNonMemberLearnsNothing(t *testing.T) {
	r := newVideoRoom(t)
	s := r.start(t)
	for _, typ := range []string{"video_join", "video_leave", "video_end"} {
		v := r.dee.vreq("dee-"+typ, map[string]any{"type": typ, "session": s})
		if v.Type != "error" || v.Code != "video_not_member" {
			t.Fatalf("%s by a non-member: %s, want video_not_member", typ, v.raw)
		}
		if contains(v.raw, r.room, "ann", "Ann", "Tuesday") {
			t.Fatalf("%s by a non-member tells too much: %s", typ, v.raw)
		}
	}
	if v := r.dee.vreq("dee-start", map[string]any{"type": "video_start", "conv": r.room}); v.Code != "video_not_member" {
		t.Fatalf("video_start by a non-member: %s", v.raw)
	}
	r.ann.vnone("video_waiting_list", "dee")
	if v := r.dee.vreq("dee-bogus", map[string]any{"type": "video_join", "session": "v_nope"}); v.Code != "video_no_session" {
		t.Fatalf("an unknown session: %s", v.raw)
	}
}

// A host's mute reaches every participant as off_by_host; a peer may
// mute themselves but not others.
func TestVideoHostMute(t *testing.T) {
	r := newVideoRoom(t)
	s := r.start(t)
	r.admit(t, r.bo, "bo", s)
	r.admit(t, r.cy, "cy", s)
	if v := r.bo.vreq("bo-mute-cy", map[string]any{"type": "video_control", "session": s, "user": "cy", "action": "mute"}); v.Code != "forbidden" {
		t.Fatalf("a peer muting another: %s, want forbidden", v.raw)
	}
	r.ann.vok("mute", map[string]any{"type": "video_control", "session": s, "user": "bo", "action": "mute"})
	for _, c := range []*client{r.ann, r.bo, r.cy} {
		c.vexpect("video_participant", s, func(v vframe) bool { return v.User == "bo" && v.Audio == "off_by_host" })
	}
	r.cy.vok("cy-self", map[string]any{"type": "video_control", "session": s, "user": "cy", "action": "stop_camera"})
	r.ann.vexpect("video_participant", s, func(v vframe) bool { return v.User == "cy" && v.Video == "off" })
	if v := r.bo.vreq("bo-bad", map[string]any{"type": "video_control", "session": s, "user": "bo", "action": "explode"}); v.Code != "invalid_field" {
		t.Fatalf("an unknown action: %s", v.raw)
	}
}

// Leaving and closing the WebSocket both take a participant out; the
// others are told.
func TestVideoLeaveAndClose(t *testing.T) {
	r := newVideoRoom(t)
	s := r.start(t)
	r.admit(t, r.bo, "bo", s)
	r.admit(t, r.cy, "cy", s)
	r.bo.vok("bo-leave", map[string]any{"type": "video_leave", "session": s})
	r.ann.vexpect("video_participant", s, func(v vframe) bool { return v.User == "bo" && v.Left })
	r.cy.vexpect("video_participant", s, func(v vframe) bool { return v.User == "bo" && v.Left })
	r.cy.ws.CloseNow()
	r.ann.vexpect("video_participant", s, func(v vframe) bool { return v.User == "cy" && v.Left })
}

// Removal from the room takes the member out of its session at once.
func TestVideoRemovedFromRoom(t *testing.T) {
	r := newVideoRoom(t)
	s := r.start(t)
	r.admit(t, r.bo, "bo", s)
	if st, _ := r.e.mod("DELETE", "/api/rooms/"+r.room+"/members/bo", r.annT, nil); st != http.StatusOK {
		t.Fatalf("remove bo: %d", st)
	}
	r.ann.vexpect("video_participant", s, func(v vframe) bool { return v.User == "bo" && v.Left })
	r.bo.expect("left")
	if v := r.bo.vreq("bo-after", map[string]any{"type": "video_join", "session": s}); v.Code != "video_not_member" {
		t.Fatalf("join after removal: %s, want video_not_member", v.raw)
	}
}

// Ending tells everyone in the session, and every member of the room
// (on every node) that it ended.
func TestVideoEnd(t *testing.T) {
	r := newVideoRoom(t)
	s := r.start(t)
	r.admit(t, r.bo, "bo", s)
	if v := r.bo.vreq("bo-end", map[string]any{"type": "video_end", "session": s}); v.Code != "forbidden" {
		t.Fatalf("a peer ending: %s, want forbidden", v.raw)
	}
	r.ann.vok("end", map[string]any{"type": "video_end", "session": s})
	for _, c := range []*client{r.ann, r.bo} {
		if v := c.vexpect("video_ended", s, nil); v.Reason != "host_ended" {
			t.Errorf("video_ended: %s", v.raw)
		}
	}
	for _, c := range []*client{r.ann, r.bo, r.cy} {
		if v := c.vexpect("video_session", s, func(v vframe) bool { return v.State == "ended" }); v.Reason != "host_ended" {
			t.Errorf("video_session ended: %s", v.raw)
		}
	}
	// A new session may start at once.
	r.ann.vok("again", map[string]any{"type": "video_start", "conv": r.room})
}

// In a DM the staff member starts; a block that closes the DM closes its
// video too.
func TestVideoDMAndBlocks(t *testing.T) {
	r := newVideoRoom(t)
	r.ann.send(map[string]any{"type": "open_dm", "user": "bo", "ref": "dm"})
	dm := r.ann.take(func(f frame) bool { return f.Ref == "dm" }).Conversation.ID
	r.bo.expectSynced(dm)
	if v := r.bo.vreq("bo-start", map[string]any{"type": "video_start", "conv": dm}); v.Code != "forbidden" {
		t.Fatalf("a peer starting in a DM: %s, want forbidden", v.raw)
	}
	s := r.ann.vok("start", map[string]any{"type": "video_start", "conv": dm}).Session
	r.bo.vexpect("video_session", s, nil)
	if st := r.e.api("PUT", "/api/blocks/bo", r.annT, nil, nil); st != http.StatusOK {
		t.Fatalf("block: %d", st)
	}
	r.ann.expect("blocks")
	if v := r.ann.vreq("ann-join", map[string]any{"type": "video_join", "session": s}); v.Code != "blocked" {
		t.Fatalf("joining a call in a DM one closed: %s, want blocked", v.raw)
	}
	// A new session of bo's knows the block from its hello.
	bo := r.e.dial(r.boT, nil)
	if v := bo.vreq("bo-join", map[string]any{"type": "video_join", "session": s}); v.Code != "blocked" {
		t.Fatalf("joining a call in a DM the other closed: %s, want blocked", v.raw)
	}
}

// An SDP frame may be far larger than other frames (a browser's offer in a
// full session passes 100 KB), up to max_video_frame_bytes, which welcome
// states; any other frame that large is still frame_too_large.
func TestVideoFrameSize(t *testing.T) {
	r := newVideoRoom(t)
	s := r.start(t)
	c := r.e.dialRaw(nil)
	c.send(map[string]any{"type": "hello", "token": r.annT})
	var w struct {
		Limits struct {
			MaxFrame int `json:"max_frame_bytes"`
			MaxVideo int `json:"max_video_frame_bytes"`
		} `json:"limits"`
	}
	if err := json.Unmarshal([]byte(c.expect("welcome").raw), &w); err != nil || w.Limits.MaxVideo < 256<<10 || w.Limits.MaxFrame >= 150<<10 {
		t.Fatalf("welcome limits %+v (%v)", w.Limits, err)
	}
	big := "v=0\r\n" + strings.Repeat("a=x-padding:0123456789abcdef0123456789abcdef\r\n", 150<<10/45)
	c.vok("join", map[string]any{"type": "video_join", "session": s})
	if v := c.vreq("offer", map[string]any{"type": "video_offer", "session": s, "sdp": big}); v.Code == "frame_too_large" || v.Type != "error" {
		t.Fatalf("a 150 KB offer: %s, want the SFU's verdict", v.raw[:min(len(v.raw), 200)])
	}
	if v := c.vreq("typing", map[string]any{"type": "typing", "conv": r.room, "pad": big}); v.Code != "frame_too_large" {
		t.Fatalf("a 150 KB typing frame: %s, want frame_too_large", v.raw[:min(len(v.raw), 200)])
	}
	// Past the limit the frame is drained unread: its ref is not known.
	c.send(map[string]any{"type": "video_offer", "session": s, "sdp": big + big, "ref": "over"})
	c.take(func(f frame) bool { return f.Type == "error" && f.Code == "frame_too_large" && f.Ref == "" })
	c.vok("still", map[string]any{"type": "video_control", "session": s, "user": "ann", "action": "mute"})
}

// A host removes a participant: they hear video_removed and the others
// see them leave; their next frame about the session is refused.
func TestVideoHostRemove(t *testing.T) {
	r := newVideoRoom(t)
	s := r.start(t)
	r.admit(t, r.bo, "bo", s)
	r.admit(t, r.cy, "cy", s)
	r.ann.vok("remove", map[string]any{"type": "video_control", "session": s, "user": "bo", "action": "remove"})
	if v := r.bo.vexpect("video_removed", s, nil); v.Reason != "host_removed" {
		t.Fatalf("video_removed: %s", v.raw)
	}
	r.cy.vexpect("video_participant", s, func(v vframe) bool { return v.User == "bo" && v.Left })
	if v := r.bo.vreq("bo-offer", map[string]any{"type": "video_offer", "session": s, "sdp": "v=0"}); v.Code != "video_not_admitted" {
		t.Fatalf("an offer after removal: %s, want video_not_admitted", v.raw)
	}
}

// Joining again from another connection replaces the first place (once
// admitted, straight in); the first connection closing then does not
// take the user out.
func TestVideoJoinElsewhereReplaces(t *testing.T) {
	r := newVideoRoom(t)
	s := r.start(t)
	r.admit(t, r.bo, "bo", s)
	tab := r.e.dial(r.boT, nil)
	tab.vok("join-tab", map[string]any{"type": "video_join", "session": s})
	tab.vexpect("video_joined", s, nil)
	if v := r.bo.vexpect("video_removed", s, nil); v.Reason != "replaced" {
		t.Fatalf("the first connection was told %s", v.raw)
	}
	open := metric(t, r.e, "kindred_connections")
	r.bo.ws.CloseNow()
	waitFor(t, "the first connection's end", func() bool { return metric(t, r.e, "kindred_connections") < open })
	// Still a participant: had the closing connection left on bo's
	// behalf, this would be video_not_member.
	tab.vok("mute", map[string]any{"type": "video_control", "session": s, "user": "bo", "action": "mute"})
	r.ann.vexpect("video_participant", s, func(v vframe) bool { return v.User == "bo" && v.Audio == "off" })
}

// A member made moderator mid-session becomes a host there (everyone
// sees it, and they get the waiting list); made a member again, they stop
// being one. The host's actions on others are in the audit log.
func TestVideoHostFollowsRoomRole(t *testing.T) {
	r := newVideoRoom(t)
	s := r.start(t)
	r.admit(t, r.bo, "bo", s)
	role := func(to string) {
		path := "/api/rooms/" + r.room + "/members/bo/role"
		if code := r.e.api("PUT", path, r.annT, map[string]string{"role": to}, nil); code != 200 {
			t.Fatalf("PUT %s %s: %d", path, to, code)
		}
	}
	role("moderator")
	r.ann.vexpect("video_participant", s, func(v vframe) bool { return v.User == "bo" && v.Host == true })
	r.bo.vexpect("video_waiting_list", s, nil)
	r.cy.vok("join-cy", map[string]any{"type": "video_join", "session": s})
	r.bo.vexpect("video_waiting_list", s, func(v vframe) bool { return len(v.Waiting) == 1 && v.Waiting[0].User == "cy" })
	role("member")
	r.ann.vexpect("video_participant", s, func(v vframe) bool { return v.User == "bo" && v.Host != true })
	if v := r.bo.vreq("admit-cy", map[string]any{"type": "video_admit", "session": s, "user": "cy"}); v.Code == "" {
		t.Fatalf("a former moderator admitted: %s", v.raw)
	}
	r.ann.vok("remove-bo", map[string]any{"type": "video_control", "session": s, "user": "bo", "action": "remove"})
	r.ann.vok("deny-cy", map[string]any{"type": "video_deny", "session": s, "user": "cy"})
	got := map[string]bool{}
	for _, e := range auditOf(t, r.e, r.e.token("root", auth.RoleAdmin), "?room="+r.room) {
		if strings.HasPrefix(e.Action, "video.") {
			got[e.Action+" "+e.Target] = e.Actor == "ann" && strings.Contains(e.Detail, "session="+s)
		}
	}
	for _, want := range []string{"video.start ", "video.remove bo", "video.deny cy"} {
		if !got[want] {
			t.Errorf("audit log lacks %q by ann for the session: %v", want, got)
		}
	}
}
