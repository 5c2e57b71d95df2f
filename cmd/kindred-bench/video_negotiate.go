package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"
)

// negotiate is the participant's side of perfect negotiation, the polite
// one as the browser client is (docs/protocol.md "Video sessions"): it
// applies the server's frames and sends the local candidates, in order,
// until the participant stops or its connection closes.
func (p *participant) negotiate() {
	defer p.wg.Done()
	n := &negotiation{p: p}
	for {
		select {
		case <-p.stop:
			return
		case <-p.sig.done:
			return
		case f := <-p.sig.frames:
			if err := n.apply(f); err != nil {
				p.run.errs.add(errKind(err), 1)
			}
		case c := <-p.cands:
			if err := n.sendCandidate(c); err != nil {
				p.run.errs.add(errKind(err), 1)
			}
		}
	}
}

// negotiation is the negotiation goroutine's state.
type negotiation struct {
	p         *participant
	needOffer bool                      // ours was rolled back: offer again after answering
	pending   []webrtc.ICECandidateInit // the server's, before its description
	labels    map[string]string         // our media ids, once known
}

func (n *negotiation) apply(f vframe) error {
	p := n.p
	switch f.Type {
	case "video_joined":
		return n.offer()
	case "video_answer":
		if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: f.SDP}); err != nil {
			return fmt.Errorf("video_answer: %w", err)
		}
		return n.afterRemote()
	case "video_offer":
		return n.answer(f.SDP)
	case "video_candidate":
		if f.Candidate == nil || *f.Candidate == "" {
			return nil // the end of the server's candidates
		}
		c := webrtc.ICECandidateInit{Candidate: *f.Candidate, SDPMid: f.SDPMid, SDPMLineIndex: f.SDPMLineIndex}
		if p.pc.RemoteDescription() == nil {
			n.pending = append(n.pending, c)
			return nil
		}
		return p.pc.AddICECandidate(c)
	case "video_ended", "video_removed", "video_denied":
		p.fail(fmt.Errorf("%s: %s", f.Type, f.Reason))
		return fmt.Errorf("%s: %s", f.Type, f.Reason)
	}
	return nil // participants, speakers, waiting lists: not measured
}

// offer sends our offer with the labels of our two media.
func (n *negotiation) offer() error {
	p := n.p
	n.needOffer = false
	offer, err := p.pc.CreateOffer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	if err != nil {
		return fmt.Errorf("offer: %w", err)
	}
	if n.labels == nil {
		n.labels = map[string]string{}
		for _, t := range p.pc.GetTransceivers() {
			switch t.Sender().Track() {
			case p.pub.audio:
				n.labels[t.Mid()] = "audio"
			case p.pub.video:
				n.labels[t.Mid()] = "camera"
			}
		}
	}
	_, err = p.sig.send(context.Background(), "video_offer",
		map[string]any{"session": p.sess.id, "sdp": p.pc.LocalDescription().SDP, "labels": n.labels}, false)
	return err
}

// answer applies the server's offer, rolling ours back if it crossed.
func (n *negotiation) answer(sdp string) error {
	p := n.p
	if p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		if err := p.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback}); err != nil {
			return fmt.Errorf("rollback: %w", err)
		}
		n.needOffer = true
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return fmt.Errorf("video_offer: %w", err)
	}
	ans, err := p.pc.CreateAnswer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(ans)
	}
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if _, err := p.sig.send(context.Background(), "video_answer", map[string]any{"session": p.sess.id, "sdp": ans.SDP}, false); err != nil {
		return err
	}
	return n.afterRemote()
}

// afterRemote adds the candidates that came before the server's
// description and sends our offer again if it was rolled back.
func (n *negotiation) afterRemote() error {
	var errs []error
	for _, c := range n.pending {
		errs = append(errs, n.p.pc.AddICECandidate(c))
	}
	n.pending = nil
	if n.needOffer {
		errs = append(errs, n.offer())
	}
	return errors.Join(errs...)
}

func (n *negotiation) sendCandidate(c webrtc.ICECandidateInit) error {
	_, err := n.p.sig.send(context.Background(), "video_candidate", map[string]any{"session": n.p.sess.id,
		"candidate": c.Candidate, "sdp_mid": c.SDPMid, "sdp_mline_index": c.SDPMLineIndex}, false)
	return err
}
