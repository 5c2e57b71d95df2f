package signaling

import (
	"slices"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// onTrack is pion telling a peer that its client publishes a stream: a
// new track, which every other participant subscribes to, or another
// simulcast layer of a track already published under that MID (pion
// fires OnTrack for each layer, concurrently).
func (p *peer) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	mid := ""
	for _, tr := range p.pc.GetTransceivers() {
		if tr.Receiver() == recv {
			mid = tr.Mid()
		}
	}
	if l := p.call.published(p, mid, remote); l != nil {
		if remote.Kind() == webrtc.RTPCodecTypeAudio {
			for _, ext := range recv.GetParameters().HeaderExtensions {
				if ext.URI == sdp.AudioLevelURI {
					l.level = uint8(ext.ID)
				}
			}
		}
		p.goRead(l.run)
	}
}

// published adds remote to pub's track for mid, creating the track and
// subscribing everyone else to it if it is new. It returns nil if pub is
// no longer in (the stream is then left unread and dies with the
// PeerConnection).
func (c *call) published(pub *peer, mid string, remote *webrtc.TrackRemote) *layer {
	var d deliveries
	defer func() { d.send() }()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended || c.peers[pub.user] != pub {
		return nil
	}
	haveCamera := false
	for _, x := range c.tracks {
		if x.pub == pub && x.mid == mid {
			return x.addLayer(remote)
		}
		if x.pub == pub && x.label == LabelCamera {
			haveCamera = true
		}
	}
	t := newTrack(pub, mid, remote)
	l := t.addLayer(remote)
	t.label = pub.label(mid, t.kind, haveCamera)
	c.tracks = append(c.tracks, t)
	c.applyPauses(pub.user)
	for user, q := range c.peers {
		if user != pub.user {
			q.subscribe(t)
		}
	}
	if t.label == LabelScreen {
		c.changed(&d, pub.user)
	}
	return l
}

// unpublished takes an ended track out of the call.
func (c *call) unpublished(t *track) {
	var d deliveries
	defer func() { d.send() }()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.tracks {
		if x != t {
			continue
		}
		c.tracks = append(c.tracks[:i], c.tracks[i+1:]...)
		for user, q := range c.peers {
			if user != t.pub.user {
				q.unsubscribe(t)
			}
		}
		if t.label == LabelScreen {
			c.changed(&d, t.pub.user)
		}
		return
	}
}

// subscribe gives the peer a local track fed by t, then renegotiates.
// Before the client's first offer is answered the track waits: added
// earlier, it would be matched to the client's offered sections in the
// answer. Later pion may still send it in a section the client opened
// sendrecv (its own camera's, say); clients tell tracks apart by the
// msid stream, which names the publisher.
func (p *peer) subscribe(t *track) {
	p.box.post(func() {
		if !p.started {
			p.later = append(p.later, t)
			return
		}
		p.addSubscription(t)
		p.negotiate()
	})
}

// addSubscription runs on the owner; the caller negotiates.
func (p *peer) addSubscription(t *track) {
	if p.pc == nil || p.subs[t] != nil {
		return
	}
	static, err := webrtc.NewTrackLocalStaticRTP(t.codec, t.label, t.pub.stream)
	if err != nil {
		return
	}
	s := &subscriber{t: t, owner: p}
	s.cur.Store(-1)
	s.local = &boundTrack{TrackLocalStaticRTP: static, onBound: s.bound}
	sender, err := p.pc.AddTrack(s.local)
	if err != nil {
		p.call.log.Warn("video: add track", "err", err)
		return
	}
	s.sender = sender
	t.choose(s)
	p.subs[t] = s
	p.goRead(s.readRTCP)
	p.pending = true
}

// unsubscribe stops forwarding t to the peer and renegotiates.
func (p *peer) unsubscribe(t *track) {
	p.box.post(func() {
		p.later = slices.DeleteFunc(p.later, func(x *track) bool { return x == t })
		s := p.subs[t]
		if s == nil {
			return
		}
		delete(p.subs, t)
		t.removeSubscriber(s)
		if err := p.pc.RemoveTrack(s.sender); err != nil {
			p.call.log.Debug("video: remove track", "err", err)
		}
		p.pending = true
		p.negotiate()
	})
}
