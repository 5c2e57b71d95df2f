package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/kindred-health/kindred/auth"
)

// participant is one pion participant: its WebSocket (sig), its
// PeerConnection, the media it publishes and the remote tracks it reads.
// Its negotiation goroutine (negotiate) is the only one that touches the
// PeerConnection's descriptions; pion callbacks hand it their work.
type participant struct {
	run  *videoRun
	idx  int
	sess *vsess
	user string
	host bool

	sig *vsignal
	pc  *webrtc.PeerConnection
	pub *publisher

	joinSent  atomic.Int64  // unix ns when video_join was written
	connected atomic.Int64  // unix ns when ICE and DTLS were up
	settled   chan struct{} // closed once connected or failed
	settle    sync.Once
	failure   atomic.Pointer[string]

	cands chan webrtc.ICECandidateInit // local candidates, to send in order
	stop  chan struct{}
	wg    sync.WaitGroup // negotiation, RTCP and track goroutines

	mu       sync.Mutex
	tracks   []*rtrack
	stopping bool
}

func newParticipant(r *videoRun, s *vsess, idx int, host bool) *participant {
	return &participant{run: r, idx: idx, sess: s, host: host, user: userID(r.runID, idx),
		settled: make(chan struct{}), cands: make(chan webrtc.ICECandidateInit, 64), stop: make(chan struct{})}
}

// fail records the participant's first failure and settles it.
func (p *participant) fail(err error) {
	msg := errKind(err)
	p.failure.CompareAndSwap(nil, &msg)
	p.settle.Do(func() { close(p.settled) })
}

// join signs in, starts the session (the host) or waits for its id, waits
// for the participant before it to be connected (joins in a session are
// one at a time, so each joiner meets everyone before it publishing), and
// joins. It returns once connected, or failed.
func (p *participant) join(ctx context.Context, prev *participant) {
	ctx, cancel := context.WithTimeout(ctx, p.run.cfg.timeout*time.Duration(p.run.cfg.people+1))
	defer cancel()
	role := auth.RolePeer
	if p.host {
		role = auth.RoleSpecialist
	}
	token, err := p.run.a.token(p.user, role)
	if err == nil {
		p.sig, err = dialSignal(ctx, p.run.cfg.wsURL(), token, &p.run.errs)
	}
	if err != nil {
		if p.host {
			p.sess.setID("", err)
		}
		p.fail(fmt.Errorf("sign-in: %w", err))
		return
	}
	if p.host {
		id, err := p.sig.request(ctx, "video_start", map[string]any{"conv": p.sess.room, "waiting_room": false})
		p.sess.setID(id, err)
	}
	if err := p.waitTurn(ctx, prev); err != nil {
		p.fail(err)
		return
	}
	if err := p.connect(ctx); err != nil {
		p.fail(err)
	}
}

// waitTurn waits for the session's id and for the previous joiner.
func (p *participant) waitTurn(ctx context.Context, prev *participant) error {
	select {
	case <-p.sess.ready:
	case <-ctx.Done():
		return errors.New("no session: the host did not start one in time")
	}
	if p.sess.err != nil {
		return fmt.Errorf("no session: %w", p.sess.err)
	}
	if prev != nil {
		select {
		case <-prev.settled:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// connect makes the PeerConnection, sends video_join and waits until the
// media connection is up; negotiation goes on in negotiate.
func (p *participant) connect(ctx context.Context) error {
	if err := p.newPC(); err != nil {
		return err
	}
	p.wg.Add(1)
	go p.negotiate()
	p.joinSent.Store(time.Now().UnixNano())
	if _, err := p.sig.request(ctx, "video_join", map[string]any{"session": p.sess.id}); err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, p.run.cfg.timeout)
	defer cancel()
	select {
	case <-p.settled:
		return nil
	case <-tctx.Done():
		return errors.New("media not connected within --timeout")
	}
}

// newPC builds the PeerConnection with the publisher's two tracks.
func (p *participant) newPC() error {
	pc, err := p.run.webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	p.pc = pc
	if p.pub, err = newPublisher(p.run.cfg, p.idx); err != nil {
		return err
	}
	for _, tr := range []*webrtc.TrackLocalStaticRTP{p.pub.audio, p.pub.video} {
		// Send-only: what the others send comes on the server's own
		// transceivers, added by its offers.
		t, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return err
		}
		p.goOwned(func() { p.pub.readRTCP(t.Sender()) })
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		select {
		case p.cands <- c.ToJSON():
		case <-p.stop:
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		p.goOwned(func() { p.readTrack(tr) })
	})
	pc.OnConnectionStateChange(p.onState)
	return nil
}

// goOwned runs f on a goroutine the participant waits for, unless it is
// already stopping (pion may call back while the connection closes).
func (p *participant) goOwned(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
}

func (p *participant) onState(s webrtc.PeerConnectionState) {
	switch s {
	case webrtc.PeerConnectionStateConnected:
		if p.connected.CompareAndSwap(0, time.Now().UnixNano()) {
			p.pub.audioExt.Store(uint32(p.audioLevelID()))
			p.pub.start()
			p.settle.Do(func() { close(p.settled) })
		}
	case webrtc.PeerConnectionStateFailed:
		p.run.errs.add("ICE or DTLS failed", 1)
		p.fail(errors.New("media connection failed"))
	}
}

// audioLevelID is the negotiated id of the audio-level extension on the
// audio sender, 0 if it was not negotiated.
func (p *participant) audioLevelID() int {
	for _, t := range p.pc.GetTransceivers() {
		if s := t.Sender(); s != nil && s.Track() == p.pub.audio {
			for _, e := range s.GetParameters().HeaderExtensions {
				if e.URI == sdp.AudioLevelURI {
					return e.ID
				}
			}
		}
	}
	return 0
}

// close stops publishing, closes the connections and waits for every
// goroutine the participant owns.
func (p *participant) close() {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	close(p.stop)
	if p.pub != nil {
		p.pub.close()
	}
	if p.pc != nil {
		_ = p.pc.Close()
	}
	if p.sig != nil {
		p.sig.close()
	}
	p.wg.Wait()
}
