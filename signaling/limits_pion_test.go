package signaling

import (
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// Helpers that make real offers, answers and candidates with pion, as a
// client would send them.

var (
	limOpus = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	limVP8  = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	limAV1  = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeAV1, ClockRate: 90000}
)

// limPeer returns a PeerConnection on an API with me (default codecs when
// nil) that gathers only loopback host candidates and never uses mDNS.
func limPeer(t testing.TB, me *webrtc.MediaEngine) *webrtc.PeerConnection {
	t.Helper()
	if me == nil {
		me = &webrtc.MediaEngine{}
		if err := me.RegisterDefaultCodecs(); err != nil {
			t.Fatal(err)
		}
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

// limAddTrack adds a local track of capability c with the given track id.
func limAddTrack(t testing.TB, pc *webrtc.PeerConnection, c webrtc.RTPCodecCapability, id string) *webrtc.RTPSender {
	t.Helper()
	kind := "video"
	if c.MimeType == webrtc.MimeTypeOpus {
		kind = "audio"
	}
	tr, err := webrtc.NewTrackLocalStaticRTP(c, id, "stream-"+kind)
	if err != nil {
		t.Fatal(err)
	}
	s, err := pc.AddTrack(tr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// limAddSimulcast adds a VP8 track sent in one simulcast layer per RID.
func limAddSimulcast(t testing.TB, pc *webrtc.PeerConnection, rids ...string) {
	t.Helper()
	var sender *webrtc.RTPSender
	for _, rid := range rids {
		tr, err := webrtc.NewTrackLocalStaticRTP(limVP8, "camera", "stream-video", webrtc.WithRTPStreamID(rid))
		if err != nil {
			t.Fatal(err)
		}
		if sender == nil {
			if sender, err = pc.AddTrack(tr); err != nil {
				t.Fatal(err)
			}
		} else if err := sender.AddEncoding(tr); err != nil {
			t.Fatal(err)
		}
	}
}

// limAddRecvonly adds n receive-only transceivers of kind.
func limAddRecvonly(t testing.TB, pc *webrtc.PeerConnection, kind webrtc.RTPCodecType, n int) {
	t.Helper()
	for range n {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
}

func limOfferOf(t testing.TB, pc *webrtc.PeerConnection) string {
	t.Helper()
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return o.SDP
}

// limPionOffer is a client's first offer: microphone and camera.
func limPionOffer(t testing.TB) string {
	pc := limPeer(t, nil)
	limAddTrack(t, pc, limOpus, "mic")
	limAddTrack(t, pc, limVP8, "camera")
	return limOfferOf(t, pc)
}

// limPionAnswer is a client's answer to a server offer that sends two other
// people's audio and video, the client sending its own microphone and
// camera back in two of those sections.
func limPionAnswer(t testing.TB) string {
	t.Helper()
	server := limPeer(t, nil)
	for _, p := range []string{"p1", "p2"} {
		limAddTrack(t, server, limOpus, p+"-audio")
		limAddTrack(t, server, limVP8, p+"-video")
	}
	offer, err := server.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := limPeer(t, nil)
	limAddTrack(t, client, limOpus, "mic")
	limAddTrack(t, client, limVP8, "camera")
	if err := client.SetRemoteDescription(offer); err != nil {
		t.Fatal(err)
	}
	answer, err := client.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return answer.SDP
}

// limGathered returns the candidates pion gathers for an offer
// with audio and video, as the browser hands them to JavaScript, and the
// number of media sections.
func limGathered(t testing.TB) ([]Candidate, int) {
	t.Helper()
	pc := limPeer(t, nil)
	limAddTrack(t, pc, limOpus, "mic")
	limAddTrack(t, pc, limVP8, "camera")
	got := make(chan Candidate, 64)
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			got <- Candidate{} // end of candidates, as the browser's null
			return
		}
		j := c.ToJSON()
		got <- Candidate{Candidate: j.Candidate, SDPMid: j.SDPMid, SDPMLineIndex: j.SDPMLineIndex}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	var cands []Candidate
	timeout := time.After(10 * time.Second)
	for {
		select {
		case c := <-got:
			cands = append(cands, c)
			if c.Candidate == "" {
				return cands, 2 // audio and video
			}
		case <-timeout:
			t.Fatalf("gathering did not finish; got %d candidates", len(cands))
		}
	}
}
