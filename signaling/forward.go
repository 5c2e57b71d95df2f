package signaling

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// track is one published (incoming) track and its forwarder: one reader
// goroutine (run) reads each packet once and writes it to every
// subscriber's local track. Subscribers are an immutable slice swapped
// under subsMu, so the reader never takes a lock per packet.
type track struct {
	pub    *peer
	label  string
	codec  webrtc.RTPCodecCapability
	kind   webrtc.RTPCodecType
	remote *webrtc.TrackRemote

	subsMu sync.Mutex
	subs   atomic.Pointer[[]*subscriber]
	paused atomic.Bool // muted: read, but written to nobody

	// Video only: the packets subscribers' NACKs are answered from, and
	// the key-frame requests coalesced toward the publisher.
	cache *packetCache
	kf    *keyframeLimiter
}

// subscriber is one participant receiving a track: its own local track
// (SSRC and payload type are rewritten per subscriber by pion) and the
// RTPSender whose RTCP it reads.
type subscriber struct {
	t      *track
	owner  *peer
	local  *webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender
}

func newTrack(pub *peer, remote *webrtc.TrackRemote, label string) *track {
	t := &track{pub: pub, label: label, codec: remote.Codec().RTPCodecCapability,
		kind: remote.Kind(), remote: remote}
	t.subs.Store(&[]*subscriber{})
	if t.kind == webrtc.RTPCodecTypeVideo {
		t.cache = newPacketCache(defaultPacketCacheSize)
		t.kf = newKeyframeLimiter(defaultKeyframeInterval)
	}
	return t
}

// run forwards until the publisher's track ends, then tells the call.
func (t *track) run() {
	defer t.pub.call.unpublished(t)
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := t.remote.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		if t.cache != nil {
			t.cache.store(pkt.SequenceNumber, buf[:n])
			if isKeyframe(t.codec.MimeType, pkt.Payload) {
				t.cache.markKeyframe(pkt.SequenceNumber)
				t.kf.got()
			}
			if t.kf.pending() && t.kf.due(time.Now()) {
				t.sendPLI()
			}
		}
		if t.paused.Load() {
			continue
		}
		for _, s := range *t.subs.Load() {
			_ = s.local.WriteRTP(&pkt)
		}
	}
}

func (t *track) setPaused(on bool) {
	if t.paused.Swap(on) && !on && t.kind == webrtc.RTPCodecTypeVideo {
		t.requestKeyframe() // the subscribers need a key frame to resume
	}
}

func (t *track) addSubscriber(s *subscriber) {
	t.subsMu.Lock()
	defer t.subsMu.Unlock()
	old := *t.subs.Load()
	next := make([]*subscriber, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	t.subs.Store(&next)
}

func (t *track) removeSubscriber(s *subscriber) {
	t.subsMu.Lock()
	defer t.subsMu.Unlock()
	old := *t.subs.Load()
	next := make([]*subscriber, 0, len(old))
	for _, x := range old {
		if x != s {
			next = append(next, x)
		}
	}
	t.subs.Store(&next)
}

// dropSubscriber removes every subscription of owner at once, so nothing
// more is written to a participant who is leaving (their owner closes the
// PeerConnection afterwards).
func (t *track) dropSubscriber(owner *peer) {
	t.subsMu.Lock()
	defer t.subsMu.Unlock()
	old := *t.subs.Load()
	next := make([]*subscriber, 0, len(old))
	for _, x := range old {
		if x.owner != owner {
			next = append(next, x)
		}
	}
	t.subs.Store(&next)
}

// requestKeyframe asks the publisher for a key frame (PLI): at once, or
// when the limiter's interval is over (the reader sends it then), unless
// a key frame comes first.
func (t *track) requestKeyframe() {
	if t.kf != nil && t.kf.want(time.Now()) {
		t.sendPLI()
	}
}

func (t *track) sendPLI() {
	_ = t.pub.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.remote.SSRC())}})
}

// readRTCP reads the subscriber's feedback until its sender stops: key
// frame requests go to the publisher (coalesced), NACKs are answered from
// the track's cache on the original SSRC (no RTX).
func (s *subscriber) readRTCP() {
	var buf [packetCacheMTU]byte
	resend := func(seq uint16) {
		if n, ok := s.t.cache.get(seq, buf[:]); ok {
			_, _ = s.local.Write(buf[:n])
		}
	}
	for {
		pkts, _, err := s.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				s.t.requestKeyframe()
			case *rtcp.TransportLayerNack:
				if s.t.cache != nil {
					nackSeqs(p, resend)
				}
			}
		}
	}
}
