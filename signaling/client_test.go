package signaling

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// loopback keeps a test's ICE on 127.0.0.1, for the SFU and its clients.
func loopback(se *webrtc.SettingEngine) {
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
}

func newTestSFU(t *testing.T, cfg Config) *SFU {
	t.Helper()
	if cfg.Configure == nil {
		cfg.Configure = loopback
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// testClient is a participant played by a pion PeerConnection: the
// polite side of perfect negotiation, as the browser client is. Its
// events goroutine applies the server's offers, answers and candidates;
// every other event goes to others for the test to read.
type testClient struct {
	t       *testing.T
	sfu     *SFU
	session string
	user    string
	events  chan Event
	others  chan Event
	pc      *webrtc.PeerConnection
	audio   *webrtc.TrackLocalStaticRTP
	video   *webrtc.TrackLocalStaticRTP

	mu       sync.Mutex
	plis     int // key-frame requests the server sent us
	tccs     int // transport-wide feedback reports the server sent us
	withExt  int // forwarded packets that carried header extensions
	remotes  map[string]*webrtc.TrackRemote
	received map[string]int // "stream/label" -> packets read
	seqs     map[string]map[uint16]bool
	// interceptors, when set, registers the client's interceptors (the
	// default: none, so no NACKs).
	interceptors func(*webrtc.MediaEngine, *interceptor.Registry)
	settings     func(*webrtc.SettingEngine)
	// keyEvery, when set, makes only every keyEvery-th video packet a key
	// frame (the others are delta frames with the same header length).
	keyEvery uint16
	firstKey map[string]bool // "stream/label" -> whether its first packet read was a key frame
	// level, when set, is sent as every audio packet's audio level
	// (RFC 6464: 0 loudest, 127 silence), with the voice flag.
	level uint8
	// simulcast publishes the camera as three RID layers, q, h and f,
	// whose payloads are 100, 400 and 1000 bytes.
	simulcast bool
	labels    map[string]string // sent with the offer (nil: none)
	dropF     atomic.Bool       // stop sending the simulcast f layer
	layers    []*webrtc.TrackLocalStaticRTP
	midExt    uint8
	ridExt    uint8
	order     map[string][]uint16 // "stream/label" -> sequence numbers in arrival order
	payloads  map[string]string
	stop      chan struct{}
	wg        sync.WaitGroup
}

// join asks to join; the client publishes once it is admitted (start).
func join(t *testing.T, s *SFU, session, user string, host bool) (*testClient, bool) {
	t.Helper()
	c := &testClient{t: t, sfu: s, session: session, user: user,
		events: make(chan Event, 1024), others: make(chan Event, 1024),
		received: map[string]int{}, seqs: map[string]map[uint16]bool{}, order: map[string][]uint16{}, remotes: map[string]*webrtc.TrackRemote{}, payloads: map[string]string{}, stop: make(chan struct{})}
	admitted, err := s.Join(session, Person{User: user, Name: "Name of " + user}, host, func(ev Event) {
		select {
		case c.events <- ev:
		default:
			t.Errorf("%s: event queue full", user)
		}
	})
	if err != nil {
		t.Fatalf("%s join: %v", user, err)
	}
	c.wg.Add(1)
	go c.loop()
	t.Cleanup(c.close)
	return c, admitted
}

func (c *testClient) close() {
	c.quiet()
	if c.pc != nil {
		_ = c.pc.Close()
	}
}

// quiet stops the client's event loop and publishing, leaving its
// PeerConnection open, so it answers nothing more.
func (c *testClient) quiet() {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	c.wg.Wait()
}

// start makes the PeerConnection, publishes audio and video, and offers.
func (c *testClient) start() {
	c.t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		c.t.Fatal(err)
	}
	if c.simulcast {
		if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
			c.t.Fatal(err)
		}
	}
	if c.level != 0 {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
			c.t.Fatal(err)
		}
	}
	se := webrtc.SettingEngine{}
	loopback(&se)
	if c.settings != nil {
		c.settings(&se)
	}
	reg := &interceptor.Registry{}
	if c.interceptors != nil {
		c.interceptors(m, reg)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(reg))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		c.t.Fatal(err)
	}
	c.pc = pc
	c.audio, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "a", "s")
	var opts []func(*webrtc.TrackLocalStaticRTP)
	if c.simulcast {
		opts = append(opts, webrtc.WithRTPStreamID("q"))
	}
	c.video, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "v", "s", opts...)
	for _, tr := range []*webrtc.TrackLocalStaticRTP{c.audio, c.video} {
		sender, err := pc.AddTrack(tr)
		if err != nil {
			c.t.Fatal(err)
		}
		go c.readRTCP(sender)
		if tr == c.video && c.simulcast {
			c.addLayers(sender)
		}
	}
	pc.OnICECandidate(func(ic *webrtc.ICECandidate) {
		if ic == nil {
			return
		}
		j := ic.ToJSON()
		_ = c.sfu.Candidate(c.session, c.user, Candidate{Candidate: j.Candidate, SDPMid: j.SDPMid, SDPMLineIndex: j.SDPMLineIndex})
	})
	pc.OnTrack(c.read)
	c.offer()
	c.wg.Add(1)
	go c.publish()
}

func (c *testClient) offer() {
	offer, err := c.pc.CreateOffer(nil)
	if err == nil {
		err = c.pc.SetLocalDescription(offer)
	}
	if err != nil {
		c.t.Errorf("%s offer: %v", c.user, err)
		return
	}
	if err := c.sfu.Offer(c.session, c.user, c.pc.LocalDescription().SDP, c.labels); err != nil {
		c.t.Errorf("%s Offer: %v", c.user, err)
	}
}

// loop applies negotiation events in order, politely.
func (c *testClient) loop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.stop:
			return
		case ev := <-c.events:
			c.apply(ev)
		}
	}
}

func (c *testClient) apply(ev Event) {
	var err error
	switch ev.Type {
	case EvAnswer:
		err = c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ev.SDP})
	case EvOffer:
		if c.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
			err = c.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
		}
		if err == nil {
			err = c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: ev.SDP})
		}
		var answer webrtc.SessionDescription
		if err == nil {
			answer, err = c.pc.CreateAnswer(nil)
		}
		if err == nil {
			err = c.pc.SetLocalDescription(answer)
		}
		if err == nil {
			err = c.sfu.Answer(c.session, c.user, browserAnswer(answer.SDP))
		}
	case EvCandidate:
		if ev.Candidate.Candidate != "" {
			err = c.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: ev.Candidate.Candidate,
				SDPMid: ev.Candidate.SDPMid, SDPMLineIndex: ev.Candidate.SDPMLineIndex})
		}
	default:
		c.others <- ev
	}
	select {
	case <-c.stop:
	default:
		if err != nil {
			c.t.Errorf("%s %s: %v", c.user, ev.Type, err)
		}
	}
}

// publish sends synthetic RTP every 20 ms: the payload names the user, so
// a receiver can tell whose packet it read.
func (c *testClient) publish() {
	defer c.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for seq := uint16(0); ; seq++ {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		if c.simulcast {
			c.publishLayers(seq)
		}
		vp8 := append(testVP8Key(), c.user...)
		if c.keyEvery > 0 && seq%c.keyEvery != 0 {
			vp8 = append([]byte{0x10, 0x01, 0, 0, 0, 0, 0}, c.user...) // P=1: a delta frame
		}
		if c.simulcast {
			continue
		}
		_ = c.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, Marker: true}, Payload: vp8})
		audio := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 960}, Payload: append([]byte{0xfc}, c.user...)}
		if id := c.audioLevelID(); id != 0 {
			_ = audio.Header.SetExtension(id, []byte{0x80 | c.level})
		}
		_ = c.audio.WriteRTP(audio)
	}
}

// read counts a remote track's packets and keeps the last payload.
func (c *testClient) read(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	key := tr.StreamID() + "/" + tr.ID()
	c.mu.Lock()
	c.remotes[key] = tr
	c.mu.Unlock()
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		body := pkt.Payload
		if tr.Kind() == webrtc.RTPCodecTypeVideo && len(body) >= len(testVP8Key()) {
			body = body[len(testVP8Key()):]
		} else if len(body) >= 1 {
			body = body[1:]
		}
		c.mu.Lock()
		if c.firstKey == nil {
			c.firstKey = map[string]bool{}
		}
		if _, seen := c.firstKey[key]; !seen && tr.Kind() == webrtc.RTPCodecTypeVideo {
			c.firstKey[key] = len(pkt.Payload) > 6 && pkt.Payload[1]&1 == 0
		}
		if c.seqs[key] == nil {
			c.seqs[key] = map[uint16]bool{}
		}
		c.seqs[key][pkt.SequenceNumber] = true
		if pkt.Header.Extension {
			c.withExt++
		}
		if len(c.order[key]) < 4096 {
			c.order[key] = append(c.order[key], pkt.SequenceNumber)
		}
		c.received[key]++
		c.payloads[key] = string(body)
		c.mu.Unlock()
	}
}

// count returns packets read so far from stream's track label.
func (c *testClient) count(stream, label string) (int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := stream + "/" + label
	return c.received[k], c.payloads[k]
}

// waitEvent returns the next non-negotiation event of type typ, skipping
// others, or fails after d.
func (c *testClient) waitEvent(typ string, d time.Duration) Event {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-c.others:
			if ev.Type == typ {
				return ev
			}
		case <-deadline:
			c.t.Fatalf("%s: no %s event within %v", c.user, typ, d)
		}
	}
}

// readRTCP counts the PLIs the server sends for one of our tracks.
func (c *testClient) readRTCP(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			c.mu.Lock()
			switch p.(type) {
			case *rtcp.PictureLossIndication:
				c.plis++
			case *rtcp.TransportLayerCC:
				c.tccs++
			}
			c.mu.Unlock()
		}
	}
}

func (c *testClient) pliCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.plis
}

// sendPLI asks the server for a key frame on the remote track key.
func (c *testClient) sendPLI(key string) {
	c.mu.Lock()
	tr := c.remotes[key]
	c.mu.Unlock()
	if tr == nil {
		c.t.Fatalf("%s: no remote track %s", c.user, key)
	}
	if err := c.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(tr.SSRC())}}); err != nil {
		c.t.Fatal(err)
	}
}

// addLayers makes the camera a simulcast sender: q (the video track
// itself), h and f.
func (c *testClient) addLayers(sender *webrtc.RTPSender) {
	c.layers = []*webrtc.TrackLocalStaticRTP{c.video}
	for _, rid := range []string{"h", "f"} {
		l, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "v", "s", webrtc.WithRTPStreamID(rid))
		if err := sender.AddEncoding(l); err != nil {
			c.t.Fatal(err)
		}
		c.layers = append(c.layers, l)
	}
}

// publishLayers sends packet seq of each layer, its payload "user:rid"
// padded to the layer's size, with the MID and RID header extensions.
func (c *testClient) publishLayers(seq uint16) {
	mid := ""
	for _, tr := range c.pc.GetTransceivers() {
		if tr.Sender() != nil && tr.Sender().Track() == c.video {
			mid = tr.Mid()
			// The extension ids are known once negotiated.
			for _, ext := range tr.Sender().GetParameters().HeaderExtensions {
				switch ext.URI {
				case sdp.SDESMidURI:
					c.midExt = uint8(ext.ID)
				case sdp.SDESRTPStreamIDURI:
					c.ridExt = uint8(ext.ID)
				}
			}
		}
	}
	if c.midExt == 0 || c.ridExt == 0 {
		return
	}
	for i, l := range c.layers {
		if c.dropF.Load() && l.RID() == "f" {
			continue
		}
		body := append(testVP8Key(), c.user+":"+l.RID()+"|"...)
		body = append(body, make([]byte, []int{100, 400, 1000}[i])...)
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq + uint16(i)*10000, Timestamp: uint32(seq)*3000 + uint32(i)*777, Marker: true}, Payload: body}
		_ = pkt.Header.SetExtension(c.midExt, []byte(mid))
		_ = pkt.Header.SetExtension(c.ridExt, []byte(l.RID()))
		_ = l.WriteRTP(pkt)
	}
}

// sendREMB tells the server our estimate for the remote track key.
func (c *testClient) sendREMB(key string, bps float32) {
	c.mu.Lock()
	tr := c.remotes[key]
	c.mu.Unlock()
	if tr == nil {
		c.t.Fatalf("%s: no remote track %s", c.user, key)
	}
	_ = c.pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: bps, SSRCs: []uint32{uint32(tr.SSRC())}}})
}

// testVP8Key is the start of a VP8 key frame's first packet: the payload
// descriptor (S=1, PID 0), a frame tag with the P bit clear, the start
// code.
func testVP8Key() []byte { return []byte{0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a} }

// browserAnswer drops the "recv" RID lines pion's answerer copies from
// the offer into its own sending section (beside its "send" ones), which
// a browser's answer does not carry; left in, the server's next offer
// would list each received RID twice (pion collects every a=rid of the
// remote section), and so on at every renegotiation.
func browserAnswer(sdp string) string {
	lines := strings.SplitAfter(sdp, "\r\n")
	out := lines[:0]
	for _, l := range lines {
		if strings.HasPrefix(l, "a=rid:") && strings.Contains(l, " recv") || strings.HasPrefix(l, "a=simulcast:recv") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
}

// audioLevelID is the negotiated audio-level extension id, 0 if none.
func (c *testClient) audioLevelID() uint8 {
	if c.level == 0 {
		return 0
	}
	for _, tr := range c.pc.GetTransceivers() {
		if tr.Sender() == nil || tr.Sender().Track() != c.audio {
			continue
		}
		for _, ext := range tr.Sender().GetParameters().HeaderExtensions {
			if ext.URI == sdp.AudioLevelURI {
				return uint8(ext.ID)
			}
		}
	}
	return 0
}

// inCall brings user into session (which must admit them at once), lets
// setup configure the client, and starts publishing.
func inCall(t *testing.T, s *SFU, session, user string, host bool, setup func(*testClient)) *testClient {
	t.Helper()
	c, _ := join(t, s, session, user, host)
	c.waitEvent(EvJoined, 5*time.Second)
	if setup != nil {
		setup(c)
	}
	c.start()
	return c
}

// pubSub starts a session in conv hosted by "h", without a waiting room,
// and brings in h and then sub, each set up by its function.
func pubSub(t *testing.T, s *SFU, conv, sub string, setPub, setSub func(*testClient)) (SessionInfo, *testClient, *testClient) {
	t.Helper()
	info, err := s.Start(conv, Person{User: "h", Name: "Host"}, false)
	if err != nil {
		t.Fatal(err)
	}
	pub := inCall(t, s, info.ID, "h", true, setPub)
	return info, pub, inCall(t, s, info.ID, sub, false, setSub)
}
