package signaling

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// streams returns each participant's stream id by user, from an event
// list of participants.
func streams(ps []ParticipantInfo) map[string]string {
	out := map[string]string{}
	for _, p := range ps {
		out[p.User] = p.Stream
	}
	return out
}

// streamIDs reads each participant's stream id from the session's
// participant list, as a client sees it in video_joined.
func streamIDs(t *testing.T, s *SFU, session string) map[string]string {
	t.Helper()
	c := s.call(session)
	if c == nil {
		t.Fatal("no such session")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return streams(c.participantInfos())
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Three participants publish audio and video; each reads the other two's
// packets, on tracks named by the publisher's stream, carrying that
// publisher's payload.
func TestThreeParticipantsForward(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, err := s.Start("conv1", Person{User: "h", Name: "Host"}, false)
	if err != nil {
		t.Fatal(err)
	}
	users := []string{"h", "a", "b"}
	clients := map[string]*testClient{}
	for _, u := range users {
		c, admitted := join(t, s, info.ID, u, u == "h")
		if !admitted {
			t.Fatalf("%s not admitted without a waiting room", u)
		}
		c.waitEvent(EvJoined, 5*time.Second)
		c.start()
		clients[u] = c
	}
	ids := streamIDs(t, s, info.ID)
	for _, rx := range users {
		for _, tx := range users {
			if rx == tx {
				continue
			}
			for _, label := range []string{LabelAudio, LabelCamera} {
				eventually(t, 10*time.Second, rx+" reads "+tx+"'s "+label, func() bool {
					n, body := clients[rx].count(ids[tx], label)
					return n >= 5 && body == tx
				})
			}
		}
		if n, _ := clients[rx].count(ids[rx], LabelAudio); n != 0 {
			t.Errorf("%s received its own audio (%d packets)", rx, n)
		}
	}
}

// call starts a session hosted by "h" with the given waiting room and
// brings in users (admitted by the host when they wait); each publishes.
func startCall(t *testing.T, s *SFU, waitingRoom bool, users ...string) (SessionInfo, map[string]*testClient) {
	t.Helper()
	info, err := s.Start("conv-"+t.Name(), Person{User: "h", Name: "Host"}, waitingRoom)
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*testClient{}
	for _, u := range append([]string{"h"}, users...) {
		c, admitted := join(t, s, info.ID, u, u == "h")
		if !admitted {
			c.waitEvent(EvWaiting, 5*time.Second)
			if err := s.Admit(info.ID, "h", u); err != nil {
				t.Fatal(err)
			}
		}
		c.waitEvent(EvJoined, 5*time.Second)
		c.start()
		clients[u] = c
	}
	return info, clients
}

// flowing waits until rx reads tx's label track.
func flowing(t *testing.T, clients map[string]*testClient, ids map[string]string, rx, tx, label string) {
	t.Helper()
	eventually(t, 10*time.Second, rx+" reads "+tx+"'s "+label, func() bool {
		n, _ := clients[rx].count(ids[tx], label)
		return n >= 3
	})
}

// A host mute stops forwarding within 200 ms, everyone hears of it, and
// the person's own unmute does not lift it.
func TestHostMuteStopsForwarding(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, clients := startCall(t, s, false, "a", "b")
	ids := streamIDs(t, s, info.ID)
	flowing(t, clients, ids, "b", "a", LabelAudio)
	if err := s.Control(info.ID, "a", "b", ActionMute); err != ErrNotHost {
		t.Fatalf("participant muting another = %v, want ErrNotHost", err)
	}
	if err := s.Control(info.ID, "h", "a", ActionMute); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"h", "a", "b"} {
		eventuallyEvent(t, clients[u], func(ev Event) bool {
			return ev.Type == EvParticipant && ev.Participant.User == "a" && ev.Participant.Audio == StateOffByHost
		})
	}
	time.Sleep(200 * time.Millisecond)
	before, _ := clients["b"].count(ids["a"], LabelAudio)
	_ = s.Control(info.ID, "a", "a", ActionUnmute) // cannot lift the host's hold
	time.Sleep(400 * time.Millisecond)
	if after, _ := clients["b"].count(ids["a"], LabelAudio); after != before {
		t.Fatalf("a's audio still forwarded 200 ms after the mute: %d -> %d packets", before, after)
	}
	if n0, _ := clients["b"].count(ids["a"], LabelCamera); n0 == 0 {
		t.Fatal("a's camera stopped with the microphone")
	}
	if err := s.Control(info.ID, "h", "a", ActionUnmute); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "audio forwarded again", func() bool {
		n, _ := clients["b"].count(ids["a"], LabelAudio)
		return n > before+3
	})
}

// The waiting room: the host sees who waits by name, admits one, denies
// another; the denied person is told and gets no media.
func TestWaitingRoomAdmitDeny(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, clients := startCall(t, s, true)
	host := clients["h"]
	p, admitted := join(t, s, info.ID, "p", false)
	if admitted {
		t.Fatal("peer admitted without the host")
	}
	p.waitEvent(EvWaiting, 2*time.Second)
	eventuallyEvent(t, host, func(ev Event) bool {
		return ev.Type == EvWaitingList && len(ev.Waiting) == 1 && ev.Waiting[0].User == "p" && ev.Waiting[0].Name == "Name of p"
	})
	q, _ := join(t, s, info.ID, "q", false)
	q.waitEvent(EvWaiting, 2*time.Second)
	if err := s.Admit(info.ID, "p", "q"); err != ErrNotParticipant {
		t.Fatalf("a waiting person admitting = %v", err)
	}
	if err := s.Deny(info.ID, "h", "q"); err != nil {
		t.Fatal(err)
	}
	if ev := q.waitEvent(EvDenied, 2*time.Second); ev.Reason != ReasonHostDenied {
		t.Fatalf("denied reason %q", ev.Reason)
	}
	if err := s.Admit(info.ID, "h", "p"); err != nil {
		t.Fatal(err)
	}
	p.waitEvent(EvJoined, 2*time.Second)
	p.start()
	clients["p"] = p
	flowing(t, clients, streamIDs(t, s, info.ID), "p", "h", LabelCamera)
	if s.call(info.ID).snapshot().Participants != 2 {
		t.Fatal("the denied person is in")
	}
}

// A participant who leaves disappears from the others' sessions: they are
// told, and the leaver's tracks stop.
func TestLeaveRemovesTracks(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, clients := startCall(t, s, false, "a", "b")
	ids := streamIDs(t, s, info.ID)
	flowing(t, clients, ids, "b", "a", LabelCamera)
	clients["a"].quiet() // no answer in flight after leaving
	if err := s.Leave(info.ID, "a"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"h", "b"} {
		eventuallyEvent(t, clients[u], func(ev Event) bool {
			return ev.Type == EvParticipant && ev.Left && ev.Participant.User == "a"
		})
	}
	time.Sleep(300 * time.Millisecond)
	before, _ := clients["b"].count(ids["a"], LabelCamera)
	time.Sleep(300 * time.Millisecond)
	if after, _ := clients["b"].count(ids["a"], LabelCamera); after != before {
		t.Fatalf("b still reads a's camera after a left: %d -> %d", before, after)
	}
	flowing(t, clients, ids, "b", "h", LabelCamera)
}

// A subscriber's PLI reaches the publisher; two at once become one.
func TestPLIReachesPublisher(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, clients := startCall(t, s, false, "a")
	ids := streamIDs(t, s, info.ID)
	flowing(t, clients, ids, "a", "h", LabelCamera)
	time.Sleep(defaultKeyframeInterval + 100*time.Millisecond)
	before := clients["h"].pliCount()
	clients["a"].sendPLI(ids["h"] + "/" + LabelCamera)
	clients["a"].sendPLI(ids["h"] + "/" + LabelCamera)
	eventually(t, 2*time.Second, "the publisher gets a PLI", func() bool { return clients["h"].pliCount() > before })
	time.Sleep(200 * time.Millisecond)
	if got := clients["h"].pliCount() - before; got != 1 {
		t.Fatalf("two PLIs within 500 ms reached the publisher as %d", got)
	}
}

// End tells everyone, in and waiting, and the session is gone.
func TestEndTellsEveryone(t *testing.T) {
	var ended []string
	done := make(chan struct{})
	s := newTestSFU(t, Config{OnEnded: func(i SessionInfo, reason string) { ended = append(ended, reason); close(done) }})
	info, clients := startCall(t, s, true, "a")
	w, _ := join(t, s, info.ID, "w", false)
	if err := s.End(info.ID, "a"); err != ErrNotHost {
		t.Fatalf("End by a participant = %v", err)
	}
	if err := s.End(info.ID, "h"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*testClient{clients["h"], clients["a"], w} {
		if ev := c.waitEvent(EvEnded, 2*time.Second); ev.Reason != ReasonHostEnded {
			t.Fatalf("%s: reason %q", c.user, ev.Reason)
		}
	}
	<-done
	if _, ok := s.Live(info.Conversation); ok || len(ended) != 1 || ended[0] != ReasonHostEnded {
		t.Fatalf("after End: live %v, OnEnded %v", ok, ended)
	}
	if _, err := s.Join(info.ID, Person{User: "x"}, false, func(Event) {}); err != ErrEnded {
		t.Fatalf("join after end = %v", err)
	}
}

func eventuallyEvent(t *testing.T, c *testClient, match func(Event) bool) {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		select {
		case ev := <-c.others:
			if match(ev) {
				return
			}
		case <-deadline:
			t.Fatalf("%s: the expected event did not come", c.user)
		}
	}
}

// Bad signaling gets its documented code and leaves the session as it
// was: media keeps flowing both ways.
func TestBadSignalingLeavesSessionIntact(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, clients := startCall(t, s, false, "a")
	ids := streamIDs(t, s, info.ID)
	flowing(t, clients, ids, "a", "h", LabelCamera)
	huge := strings.Repeat("x", MaxCandidateBytes+1)
	for name, tt := range map[string]struct {
		err  error
		code string
	}{
		"garbage offer":    {s.Offer(info.ID, "a", "\x00\x01 not sdp", nil), "video_bad_sdp"},
		"oversized offer":  {s.Offer(info.ID, "a", strings.Repeat("v=0\r\n", MaxSDPBytes/5+1), nil), "video_bad_sdp"},
		"answer unasked":   {s.Answer(info.ID, "a", "v=0\r\n"), "video_bad_sdp"},
		"huge candidate":   {s.Candidate(info.ID, "a", Candidate{Candidate: huge}), "video_bad_candidate"},
		"broken candidate": {s.Candidate(info.ID, "a", Candidate{Candidate: "candidate:1 1 UDP nonsense", SDPMid: new(string)}), "video_bad_candidate"},
		"stranger's offer": {s.Offer(info.ID, "x", "v=0\r\n", nil), "video_not_member"},
	} {
		var e *Error
		if !errors.As(tt.err, &e) || e.Code != tt.code {
			t.Errorf("%s: %v, want code %s", name, tt.err, tt.code)
		}
	}
	before, _ := clients["a"].count(ids["h"], LabelCamera)
	beforeH, _ := clients["h"].count(ids["a"], LabelAudio)
	eventually(t, 5*time.Second, "media still flows both ways", func() bool {
		n, _ := clients["a"].count(ids["h"], LabelCamera)
		m, _ := clients["h"].count(ids["a"], LabelAudio)
		return n > before+5 && m > beforeH+5
	})
}

// Everyone learns who is speaking from the audio level the publishers
// send; a host mute takes the floor away.
func TestSpeakerAnnounced(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, err := s.Start("conv-speak", Person{User: "h", Name: "Host"}, false)
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*testClient{}
	for _, u := range []string{"h", "a", "b"} {
		c, _ := join(t, s, info.ID, u, u == "h")
		c.waitEvent(EvJoined, 5*time.Second)
		c.level = map[string]uint8{"h": 120, "a": 10, "b": 110}[u] // a is loud
		c.start()
		clients[u] = c
	}
	for _, u := range []string{"h", "a", "b"} {
		eventuallyEvent(t, clients[u], func(ev Event) bool { return ev.Type == EvSpeaking && ev.User == "a" })
	}
	if err := s.Control(info.ID, "h", "a", ActionMute); err != nil {
		t.Fatal(err)
	}
	eventuallyEvent(t, clients["b"], func(ev Event) bool { return ev.Type == EvSpeaking && ev.User != "a" })
}

// A participant whose connection dies without leaving (a phone that lost
// its network, a node that crashed with the WebSocket) is taken out once
// ICE gives up: the others are told, and so is the person.
func TestFailedConnectionLeaves(t *testing.T) {
	s := newTestSFU(t, Config{Configure: func(se *webrtc.SettingEngine) {
		loopback(se)
		se.SetICETimeouts(300*time.Millisecond, 700*time.Millisecond, 100*time.Millisecond)
	}})
	info, clients := startCall(t, s, false, "a")
	flowing(t, clients, streamIDs(t, s, info.ID), "h", "a", LabelCamera)
	_ = clients["a"].pc.Close() // no Leave: the client is simply gone
	eventuallyEvent(t, clients["h"], func(ev Event) bool {
		return ev.Type == EvParticipant && ev.Left && ev.Participant.User == "a"
	})
	eventuallyEvent(t, clients["a"], func(ev Event) bool {
		return ev.Type == EvRemoved && ev.Reason == ReasonConnFailed
	})
	if n := s.call(info.ID).snapshot().Participants; n != 1 {
		t.Fatalf("%d participants after a's connection failed, want 1", n)
	}
}

// A second connection of one user replaces the first, in the waiting
// room as in the session, and the first connection's late leave does not
// take the second out.
func TestSecondConnectionReplacesFirst(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, err := s.Start("conv-two-tabs", Person{User: "h", Name: "Host"}, true)
	if err != nil {
		t.Fatal(err)
	}
	events := func() (Sender, chan Event) {
		ch := make(chan Event, 64)
		return func(ev Event) { ch <- ev }, ch
	}
	send1, ev1 := events()
	send2, ev2 := events()
	if _, err := s.Join(info.ID, Person{User: "p", Name: "P", Conn: "tab1"}, false, send1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Join(info.ID, Person{User: "p", Name: "P", Conn: "tab2"}, false, send2); err != nil {
		t.Fatal(err)
	}
	want := func(ch chan Event, typ, reason string) {
		t.Helper()
		for {
			select {
			case ev := <-ch:
				if ev.Type == typ && ev.Reason == reason {
					return
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("no %s %s", typ, reason)
			}
		}
	}
	want(ev1, EvRemoved, ReasonReplaced)
	mustNil(t, s.LeaveFrom(info.ID, "p", "tab1")) // the old tab closes
	c := s.call(info.ID)
	c.mu.Lock()
	_, waiting := c.waiters["p"]
	c.mu.Unlock()
	if !waiting {
		t.Fatal("the old tab's leave took the new tab out of the waiting room")
	}
	mustNil(t, s.LeaveFrom(info.ID, "p", "tab2"))
	c.mu.Lock()
	_, waiting = c.waiters["p"]
	c.mu.Unlock()
	if waiting {
		t.Fatal("the current tab's leave did not take it out")
	}
	_ = ev2
}

// A client that labels its microphone and camera "screen" is still held
// by the host's mute and stop_camera: an audio track is always audio, and
// a host's stop holds every video track of the person.
func TestHostHoldIgnoresClientLabels(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, h, _ := pubSub(t, s, "conv-labels", "p", nil, func(p *testClient) {
		p.labels = map[string]string{"0": LabelScreen, "1": LabelScreen}
	})
	ids := streamIDs(t, s, info.ID)
	eventually(t, 10*time.Second, "h hears p", func() bool { n, _ := h.count(ids["p"], LabelAudio); return n > 5 })
	mustNil(t, s.Control(info.ID, "h", "p", ActionMute))
	mustNil(t, s.Control(info.ID, "h", "p", ActionStopCamera))
	time.Sleep(300 * time.Millisecond)
	a1, _ := h.count(ids["p"], LabelAudio)
	v1, _ := h.count(ids["p"], LabelScreen)
	time.Sleep(time.Second)
	a2, _ := h.count(ids["p"], LabelAudio)
	v2, _ := h.count(ids["p"], LabelScreen)
	if a2 != a1 || v2 != v1 {
		t.Fatalf("after the host's mute and stop: %d audio and %d video packets still forwarded", a2-a1, v2-v1)
	}
}

// When a publisher stops sending its top simulcast layer (as a browser
// does when its uplink shrinks), its subscribers move to a layer still
// arriving instead of freezing.
func TestSimulcastSilentLayerLeft(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, h, p := pubSub(t, s, "conv-silent", "p", nil, func(p *testClient) { p.simulcast = true })
	ids := streamIDs(t, s, info.ID)
	eventually(t, 10*time.Second, "h gets p's f layer", func() bool {
		_, body := h.count(ids["p"], LabelCamera)
		return strings.HasPrefix(body, "p:f|")
	})
	p.dropF.Store(true)
	eventually(t, 6*time.Second, "h moved to a layer still sent", func() bool {
		_, body := h.count(ids["p"], LabelCamera)
		return strings.HasPrefix(body, "p:h|")
	})
}

// Close returns once every participant's goroutines have stopped.
func TestCloseWaitsForPeers(t *testing.T) {
	s, err := New(Config{Configure: loopback})
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s.Start("conv-close", Person{User: "h", Name: "H"}, false)
	var cs []*testClient
	for _, u := range []string{"h", "a", "b"} {
		c, _ := join(t, s, info.ID, u, u == "h")
		c.waitEvent(EvJoined, 5*time.Second)
		c.start()
		cs = append(cs, c)
	}
	ids := streamIDs(t, s, info.ID)
	eventually(t, 10*time.Second, "a reads h", func() bool { n, _ := cs[1].count(ids["h"], LabelCamera); return n > 5 })
	for _, c := range cs {
		c.quiet() // no answers in flight to a closing SFU
	}
	s.Close()
	buf := make([]byte, 1<<20)
	st := string(buf[:runtime.Stack(buf, true)])
	for _, f := range []string{"signaling.(*peer).run(", "signaling.(*layer).run(", "signaling.(*subscriber).readRTCP(", "signaling.(*call).failed("} {
		if n := strings.Count(st, f); n != 0 {
			t.Errorf("%d goroutines in %s still running after Close", n, f)
		}
	}
}

// The server's answer asks publishers for Opus DTX, so silent
// microphones send almost nothing.
func TestAnswerAsksForOpusDTX(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, err := s.Start("conv-dtx", Person{User: "h", Name: "Host"}, false)
	if err != nil {
		t.Fatal(err)
	}
	answers := make(chan string, 8)
	if _, err := s.Join(info.ID, Person{User: "h"}, true, func(ev Event) {
		if ev.Type == EvAnswer {
			answers <- ev.SDP
		}
	}); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	mustNil(t, pc.SetLocalDescription(offer))
	mustNil(t, s.Offer(info.ID, "h", pc.LocalDescription().SDP, nil))
	select {
	case sdp := <-answers:
		if !strings.Contains(sdp, "usedtx=1") {
			t.Fatalf("the answer's Opus parameters lack usedtx=1:\n%s", sdp)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer")
	}
}
