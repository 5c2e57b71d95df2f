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
	paused atomic.Bool  // muted: read, but written to nobody
	pli    atomic.Int64 // unix nanoseconds of the last key-frame request sent
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

// keyframeInterval is the least time between two key-frame requests sent
// to a publisher, however many subscribers ask (Galène: 500 ms too).
const keyframeInterval = 500 * time.Millisecond

func newTrack(pub *peer, remote *webrtc.TrackRemote, label string) *track {
	t := &track{pub: pub, label: label, codec: remote.Codec().RTPCodecCapability,
		kind: remote.Kind(), remote: remote}
	t.subs.Store(&[]*subscriber{})
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
		if t.paused.Load() {
			continue
		}
		if pkt.Unmarshal(buf[:n]) != nil {
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

// requestKeyframe asks the publisher for a key frame (PLI), at most once
// per keyframeInterval.
func (t *track) requestKeyframe() {
	if t.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	now := time.Now().UnixNano()
	last := t.pli.Load()
	if now-last < int64(keyframeInterval) || !t.pli.CompareAndSwap(last, now) {
		return
	}
	_ = t.pub.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.remote.SSRC())}})
}

// readRTCP reads the subscriber's feedback until its sender stops: key
// frame requests go to the publisher (rate-limited).
func (s *subscriber) readRTCP() {
	for {
		pkts, _, err := s.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				s.t.requestKeyframe()
			}
		}
	}
}
