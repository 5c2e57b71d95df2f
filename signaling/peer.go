package signaling

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// Track labels: what a published track is, from the client's offer.
const (
	LabelAudio  = "audio"
	LabelCamera = "camera"
	LabelScreen = "screen"
)

// peer is one participant's PeerConnection. Its owner goroutine (run)
// alone touches pc, the negotiation state and subs; everyone else posts
// work to its mailbox. The server is the impolite side of perfect
// negotiation: an offer that collides with its own is ignored, and the
// browser (polite) rolls back and answers.
type peer struct {
	call   *call
	user   string
	stream string // msid stream id of the tracks forwarded from this peer
	send   Sender
	conn   string // the connection that joined (Person.Conn)

	box  mailbox
	quit chan struct{} // closed by stop
	done chan struct{} // closed when run returns

	// Owner-only state.
	pc          *webrtc.PeerConnection
	started     bool // the client's first offer has been answered
	pending     bool // a renegotiation is wanted once stable
	ignoreOffer bool // the last offer collided and was ignored
	early       []webrtc.ICECandidateInit
	later       []*track // subscriptions waiting for the first offer
	subs        map[*track]*subscriber

	labelsMu sync.Mutex
	labels   map[string]string // mid -> label, from the client's offers

	connMu    sync.Mutex
	connected bool          // the media transport came up (replay.go)
	unstarted []*subscriber // bound before it did

	readersMu sync.Mutex
	closing   bool
	readers   sync.WaitGroup // layer readers and feedback readers

	// sections is the media section count of the client's last offer or
	// answer, against which its candidates' sdpMLineIndex is checked.
	sections atomic.Int32
}

func newPeer(c *call, user string, send Sender) *peer {
	p := &peer{call: c, user: user, stream: "p" + newID()[:16], send: send,
		quit: make(chan struct{}), done: make(chan struct{}), subs: make(map[*track]*subscriber),
		labels: make(map[string]string)}
	p.box.init()
	p.sections.Store(-1)
	if !c.sfu.goUnlessClosed(p.run) {
		close(p.done) // the node is shutting down: this peer never runs
	}
	return p
}

// run owns the peer: it makes the PeerConnection, then runs posted work
// until stop, then closes the PeerConnection.
func (p *peer) run() {
	defer close(p.done)
	pc, err := p.call.sfu.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		p.call.log.Error("video: new peer connection", "err", err)
		<-p.quit
		return
	}
	p.pc = pc
	pc.OnICECandidate(p.onCandidate)
	pc.OnTrack(p.onTrack)
	pc.OnConnectionStateChange(p.onState)
	// A participant whose media never connects (a lost answer between
	// nodes, a client that never offers) is taken out, not kept forever.
	never := time.AfterFunc(connectTimeout, func() {
		if !p.isConnected() {
			p.onState(webrtc.PeerConnectionStateFailed)
		}
	})
	defer never.Stop()
	for {
		select {
		case <-p.quit:
			p.shutdown()
			return
		case <-p.box.wake:
			for _, f := range p.box.take() {
				if p.stopped() {
					break // no more work for a participant who left
				}
				f()
			}
		}
	}
}

// connectTimeout is how long a participant may take to connect media.
const connectTimeout = 30 * time.Second

// onState follows the connection: connected starts the subscriptions that
// waited for it; failed (ICE gave up) or closed (the client's DTLS said
// goodbye, or we closed it and p is already out) takes the participant
// out, on a goroutine the SFU waits for (not pion's: failed stops p).
func (p *peer) onState(st webrtc.PeerConnectionState) {
	switch st {
	case webrtc.PeerConnectionStateConnected:
		p.connectedNow()
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		p.call.sfu.goUnlessClosed(func() { p.call.failed(p) })
	}
}

// shutdown closes the PeerConnection and waits for the goroutines that
// read from it (its published layers, its subscriptions' feedback).
func (p *peer) shutdown() {
	for t, s := range p.subs {
		t.removeSubscriber(s)
	}
	p.readersMu.Lock()
	p.closing = true
	p.readersMu.Unlock()
	_ = p.pc.Close()
	p.readers.Wait()
}

// goRead runs a reader of this peer's PeerConnection, unless it is
// closing; shutdown waits for every reader.
func (p *peer) goRead(f func()) {
	p.readersMu.Lock()
	defer p.readersMu.Unlock()
	if !p.closing {
		p.readers.Go(f)
	}
}

// stop ends the peer; it returns at once (the owner closes the
// PeerConnection). Idempotent.
func (p *peer) stop() {
	p.box.close(func() { close(p.quit) })
}

// stopped reports whether stop was called.
func (p *peer) stopped() bool {
	select {
	case <-p.quit:
		return true
	default:
		return false
	}
}

// errPeerGone: the participant left while a request was on its way.
var errPeerGone = &Error{"video_not_member", "not a participant of this session"}

// do runs f on the owner and waits for its answer.
func (p *peer) do(f func() error) error {
	res := make(chan error, 1)
	if !p.box.post(func() { res <- f() }) {
		return errPeerGone
	}
	select {
	case err := <-res:
		return err
	case <-p.done:
		return errPeerGone
	case <-time.After(10 * time.Second):
		return &Error{"video_not_allowed", "the server is too busy to negotiate now; try again"}
	}
}

// onCandidate sends one of the server's candidates. It goes through the
// owner, so the client always gets the offer or answer before the
// candidates gathered for it (pion starts gathering inside
// SetLocalDescription, before the owner has sent the description).
func (p *peer) onCandidate(c *webrtc.ICECandidate) {
	cand := &Candidate{}
	if c != nil {
		init := c.ToJSON()
		cand = &Candidate{Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex}
	}
	p.box.post(func() { p.send(Event{Type: EvCandidate, Session: p.call.id, Candidate: cand}) })
}

// offer answers the client's offer, unless it collides with the server's
// own (impolite: ignored, with its candidates).
func (p *peer) offer(sdp string, labels map[string]string) error {
	if err := p.check(sdp, webrtc.SDPTypeOffer); err != nil {
		return err
	}
	return p.do(func() error {
		if p.pc == nil {
			return errPeerGone
		}
		if p.pc.SignalingState() != webrtc.SignalingStateStable {
			p.ignoreOffer = true
			return nil
		}
		p.ignoreOffer = false
		p.setLabels(labels)
		if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
			return badSDP(err)
		}
		answer, err := p.pc.CreateAnswer(nil)
		if err != nil {
			return badSDP(err)
		}
		if err := p.pc.SetLocalDescription(answer); err != nil {
			return badSDP(err)
		}
		p.send(Event{Type: EvAnswer, Session: p.call.id, SDP: withOpusDTX(p.pc.LocalDescription().SDP)})
		p.started = true
		p.flushEarly()
		for _, t := range p.later {
			p.addSubscription(t)
		}
		p.later = nil
		p.negotiate()
		return nil
	})
}

// answer applies the client's answer to the server's offer.
func (p *peer) answer(sdp string) error {
	if err := p.check(sdp, webrtc.SDPTypeAnswer); err != nil {
		return err
	}
	return p.do(func() error {
		if p.pc == nil || p.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
			return &Error{"video_bad_sdp", "no offer from the server is waiting for an answer"}
		}
		if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
			return badSDP(err)
		}
		p.flushEarly()
		p.negotiate()
		return nil
	})
}

// candidate adds one of the client's ICE candidates; before a remote
// description they wait, and after an ignored offer they are dropped.
func (p *peer) candidate(c Candidate) error {
	if err := checkCandidate(c, int(p.sections.Load())); err != nil {
		return err
	}
	init := webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex}
	return p.do(func() error {
		switch {
		case p.pc == nil:
			return errPeerGone
		case p.ignoreOffer:
			return nil
		case p.pc.RemoteDescription() == nil:
			if len(p.early) >= 64 {
				return &Error{"video_bad_candidate", "too many candidates before an offer"}
			}
			p.early = append(p.early, init)
			return nil
		}
		if err := p.pc.AddICECandidate(init); err != nil {
			return &Error{"video_bad_candidate", "the candidate was refused"}
		}
		return nil
	})
}

// check refuses a description the session cannot take (limits.go) before
// pion sees it, and remembers its section count for the candidates.
func (p *peer) check(sdp string, kind webrtc.SDPType) error {
	sd, err := checkOffer(sdp, kind, p.call.st.MaxParticipants)
	if err != nil {
		return err
	}
	p.sections.Store(int32(len(sd.MediaDescriptions)))
	return nil
}

func (p *peer) flushEarly() {
	for _, c := range p.early {
		_ = p.pc.AddICECandidate(c)
	}
	p.early = nil
}

// negotiate sends the server's offer when the subscriptions changed and
// the connection is stable; otherwise it waits for the next stable state.
func (p *peer) negotiate() {
	if !p.pending {
		return
	}
	if !p.started || p.pc.SignalingState() != webrtc.SignalingStateStable {
		return
	}
	p.pending = false
	offer, err := p.pc.CreateOffer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	if err != nil {
		p.call.log.Warn("video: renegotiation offer", "err", err)
		return
	}
	p.send(Event{Type: EvOffer, Session: p.call.id, SDP: withOpusDTX(p.pc.LocalDescription().SDP)})
}

func badSDP(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{"video_bad_sdp", "the session description was refused"}
}

func (p *peer) setLabels(labels map[string]string) {
	p.labelsMu.Lock()
	defer p.labelsMu.Unlock()
	for mid, l := range labels {
		if len(p.labels) < 16 && (l == LabelAudio || l == LabelCamera || l == LabelScreen) {
			p.labels[mid] = l
		}
	}
}

// label names a published track. An audio track is always "audio",
// whatever the client says, so a host's mute holds every microphone
// (and shared-tab audio) of the person; a video track is "camera" or
// "screen" as the client labelled it, else the first is the camera and a
// further one the screen.
func (p *peer) label(mid string, kind webrtc.RTPCodecType, haveCamera bool) string {
	if kind == webrtc.RTPCodecTypeAudio {
		return LabelAudio
	}
	p.labelsMu.Lock()
	l, ok := p.labels[mid]
	p.labelsMu.Unlock()
	switch {
	case ok && l != LabelAudio:
		return l
	case haveCamera:
		return LabelScreen
	}
	return LabelCamera
}
