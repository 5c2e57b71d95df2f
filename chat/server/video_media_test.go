package server_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// wsPeer is a browser played by pion over a real WebSocket: once joined it
// publishes audio and video, offers with labels, answers the server's
// offers politely (perfect negotiation), trickles candidates both ways and
// counts the RTP it reads from others. It owns its client's frames: the
// test reads the rest from others.
type wsPeer struct {
	t       *testing.T
	c       *client
	user    string
	session string
	pc      *webrtc.PeerConnection
	audio   *webrtc.TrackLocalStaticRTP
	video   *webrtc.TrackLocalStaticRTP
	others  chan vframe
	stop    chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	received map[string]int // "kind:user" (whose payload) -> packets read
}

func newWSPeer(t *testing.T, c *client, user, session string) *wsPeer {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	videoLoopback(&se)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	p := &wsPeer{t: t, c: c, user: user, session: session, pc: pc, others: make(chan vframe, 1024),
		stop: make(chan struct{}), received: map[string]int{}}
	p.audio, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", user)
	p.video, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "cam", user)
	for _, tr := range []*webrtc.TrackLocalStaticRTP{p.audio, p.video} {
		if _, err := pc.AddTrack(tr); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnICECandidate(func(ic *webrtc.ICECandidate) {
		m := map[string]any{"type": "video_candidate", "session": session, "candidate": ""}
		if ic != nil {
			j := ic.ToJSON()
			m["candidate"], m["sdp_mid"], m["sdp_mline_index"] = j.Candidate, j.SDPMid, j.SDPMLineIndex
		}
		p.write(m)
	})
	pc.OnTrack(p.read)
	t.Cleanup(p.close)
	return p
}

// write sends a frame from any goroutine (the socket's writes are safe
// for concurrent use); a failure after close is no news.
func (p *wsPeer) write(m map[string]any) {
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.c.ws.Write(ctx, websocket.MessageText, b)
}

// start offers (audio and camera, labelled by mid) and runs the
// negotiation loop and the synthetic publisher.
func (p *wsPeer) start() {
	p.wg.Add(2)
	go p.loop()
	go p.publish()
	p.offer()
}

func (p *wsPeer) offer() {
	offer, err := p.pc.CreateOffer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	if err != nil {
		p.fail("offer: %v", err)
		return
	}
	labels := map[string]string{}
	for _, tr := range p.pc.GetTransceivers() {
		if tr.Kind() == webrtc.RTPCodecTypeAudio {
			labels[tr.Mid()] = "audio"
		} else {
			labels[tr.Mid()] = "camera"
		}
	}
	p.write(map[string]any{"type": "video_offer", "session": p.session, "sdp": offer.SDP, "labels": labels, "ref": p.user + "-offer"})
}

// loop applies the server's negotiation frames in order and hands every
// other frame to others.
func (p *wsPeer) loop() {
	defer p.wg.Done()
	for {
		var f frame
		select {
		case <-p.stop:
			return
		case f = <-p.c.frames:
		}
		var v vframe
		if err := json.Unmarshal([]byte(f.raw), &v); err != nil {
			p.fail("frame %s: %v", f.raw, err)
			continue
		}
		v.raw = f.raw
		if err := p.apply(v); err != nil {
			p.fail("%s: %v", v.Type, err)
		}
	}
}

func (p *wsPeer) apply(v vframe) error {
	switch v.Type {
	case "video_answer":
		return p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: v.SDP})
	case "video_offer":
		if p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
			if err := p.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback}); err != nil {
				return err
			}
		}
		if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: v.SDP}); err != nil {
			return err
		}
		answer, err := p.pc.CreateAnswer(nil)
		if err == nil {
			err = p.pc.SetLocalDescription(answer)
		}
		if err == nil {
			p.write(map[string]any{"type": "video_answer", "session": p.session, "sdp": answer.SDP})
		}
		return err
	case "video_candidate":
		var c struct {
			Candidate     string  `json:"candidate"`
			SDPMid        *string `json:"sdp_mid"`
			SDPMLineIndex *uint16 `json:"sdp_mline_index"`
		}
		_ = json.Unmarshal([]byte(v.raw), &c)
		if c.Candidate == "" {
			return nil
		}
		return p.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex})
	case "error":
		p.fail("error frame: %s", v.raw)
	}
	p.others <- v
	return nil
}

// publish sends synthetic RTP every 20 ms whose payload names the user.
func (p *wsPeer) publish() {
	defer p.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for seq := uint16(0); ; seq++ {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		vp8 := append([]byte{0x10, 0x00, 0x9d, 0x01, 0x2a}, p.user...) // a VP8 key frame's first bytes
		_ = p.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, Marker: true}, Payload: vp8})
		_ = p.audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 960}, Payload: append([]byte{0xfc}, p.user...)})
	}
}

// read counts a remote track's packets by the user its payload names.
func (p *wsPeer) read(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		body := string(pkt.Payload)
		if tr.Kind() == webrtc.RTPCodecTypeVideo && len(body) >= 5 {
			body = tr.Kind().String() + ":" + body[5:]
		} else if len(body) >= 1 {
			body = tr.Kind().String() + ":" + body[1:]
		}
		p.mu.Lock()
		p.received[body]++
		p.mu.Unlock()
	}
}

func (p *wsPeer) count(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.received[key]
}

// fail reports a negotiation failure from the peer's goroutines.
func (p *wsPeer) fail(format string, args ...any) {
	p.t.Errorf(p.user+": "+format, args...)
}

func (p *wsPeer) close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	p.wg.Wait()
	_ = p.pc.Close()
}

// Two peers, each a pion PeerConnection signalling over the WebSocket,
// receive each other's audio and video RTP through the server; a bad SDP
// on the way is refused with video_bad_sdp and the session goes on.
func TestVideoMediaOverWebSocket(t *testing.T) {
	r := newVideoRoom(t)
	s := r.start(t)
	r.admit(t, r.bo, "bo", s)
	if v := r.bo.vreq("bad", map[string]any{"type": "video_offer", "session": s, "sdp": "v=0\r\nnot an offer"}); v.Code != "video_bad_sdp" {
		t.Fatalf("a bad SDP: %s, want video_bad_sdp", v.raw)
	}
	ann, bo := newWSPeer(t, r.ann, "ann", s), newWSPeer(t, r.bo, "bo", s)
	ann.start()
	bo.start()
	for _, k := range []struct {
		p   *wsPeer
		key string
	}{{ann, "video:bo"}, {ann, "audio:bo"}, {bo, "video:ann"}, {bo, "audio:ann"}} {
		waitFor(t, k.p.user+" reads "+k.key, func() bool { return k.p.count(k.key) >= 10 })
	}
	if ann.count("video:ann")+bo.count("video:bo") != 0 {
		t.Error("a participant's own media came back to them")
	}
}
