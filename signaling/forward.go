package signaling

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// track is one published media source (one MID of a publisher): its
// layers (one, or one per simulcast RID, each read by its own goroutine)
// and its subscribers. Subscribers and layers are immutable slices
// swapped under mu, so readers take no lock per packet.
type track struct {
	pub   *peer
	mid   string
	label string
	codec webrtc.RTPCodecCapability
	kind  webrtc.RTPCodecType

	mu     sync.Mutex
	subs   atomic.Pointer[[]*subscriber]
	layers atomic.Pointer[[]*layer]
	paused atomic.Bool // muted: read, but neither cached nor written
}

// layer is one incoming RTP stream of a track, with the packets
// subscribers' NACKs are answered from (video) and the key-frame requests
// coalesced toward the publisher.
type layer struct {
	t      *track
	idx    int32
	rid    string
	remote *webrtc.TrackRemote
	cache  *packetCache
	kf     *keyframeLimiter
	level  uint8         // audio: the negotiated audio-level extension id; 0 none
	askKey atomic.Bool   // a key frame is wanted: the reader asks for it
	last   atomic.Int64  // unix nanoseconds of the last packet read
	bits   atomic.Uint64 // bits received in the current second
	rate   atomic.Uint64 // bits per second over the last whole second

	// The reader's scratch for replays to new subscribers (replay.go).
	replayBuf [packetCacheMTU]byte
	replayPkt rtp.Packet
}

// subscriber is one participant receiving a track: its own local track
// (pion rewrites SSRC and payload type), the RTPSender whose RTCP it
// reads, and the numbering of what it receives.
type subscriber struct {
	t      *track
	owner  *peer
	local  *boundTrack
	sender *webrtc.RTPSender

	mu       sync.Mutex // held only to choose and number a packet
	rw       seqRewriter
	cur      atomic.Int32  // layer index being forwarded; -1 before the first
	want     atomic.Int32  // layer index chosen (simulcast.go)
	estimate atomic.Uint64 // the subscriber's REMB, bits/s; 0 unknown
	lastSent atomic.Int64  // unix nanoseconds of the last forwarded packet
	fresh    atomic.Bool   // just bound: start with a replay (replay.go)
}

func newTrack(pub *peer, mid string, remote *webrtc.TrackRemote) *track {
	t := &track{pub: pub, mid: mid, codec: remote.Codec().RTPCodecCapability, kind: remote.Kind()}
	t.subs.Store(&[]*subscriber{})
	t.layers.Store(&[]*layer{})
	return t
}

// addLayer adds an incoming stream; the caller starts its reader.
func (t *track) addLayer(remote *webrtc.TrackRemote) *layer {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.layers.Load()
	l := &layer{t: t, idx: int32(len(old)), rid: remote.RID(), remote: remote}
	if t.kind == webrtc.RTPCodecTypeVideo {
		l.cache = newPacketCache(defaultPacketCacheSize)
		l.kf = newKeyframeLimiter(defaultKeyframeInterval)
	}
	next := append(append(make([]*layer, 0, len(old)+1), old...), l)
	t.layers.Store(&next)
	return l
}

func (t *track) layer(i int32) *layer {
	ls := *t.layers.Load()
	if i < 0 || int(i) >= len(ls) {
		return nil
	}
	return ls[i]
}

// run forwards one layer until the publisher's stream ends; the first
// layer's end ends the track.
func (l *layer) run() {
	if l.idx == 0 {
		defer l.t.pub.call.unpublished(l.t)
	}
	buf := make([]byte, packetCacheMTU)
	var pkt rtp.Packet
	second := time.Now()
	for {
		n, _, err := l.remote.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		now := time.Now()
		l.last.Store(now.UnixNano())
		l.bits.Add(uint64(n) * 8)
		if now.Sub(second) >= time.Second {
			l.rate.Store(l.bits.Swap(0))
			second = now
			l.t.chooseAll()
		}
		l.forward(&pkt, buf[:n], now)
	}
}

// forward handles one packet: cached, checked for a key frame, then
// written to every subscriber on this layer (or switching to it).
func (l *layer) forward(pkt *rtp.Packet, raw []byte, now time.Time) {
	t := l.t
	if t.paused.Load() {
		// Not cached either: nothing said while muted can be resent.
		for _, s := range *t.subs.Load() {
			s.mu.Lock()
			if s.cur.Load() == l.idx {
				s.rw.drop(pkt.SequenceNumber)
			}
			s.mu.Unlock()
		}
		return
	}
	if l.level != 0 && !t.pub.stopped() { // one who left is nobody's speaker
		if b := pkt.GetExtension(l.level); len(b) > 0 {
			t.pub.call.spk.observe(t.pub.user, b[0]&0x7f, b[0]&0x80 != 0, now)
		}
	}
	key := false
	if l.cache != nil {
		l.cache.store(pkt.SequenceNumber, raw)
		if key = isKeyframe(t.codec.MimeType, pkt.Payload); key {
			l.cache.markKeyframe(pkt.SequenceNumber)
			l.kf.got()
		} else if l.kf.pending() && l.kf.due(now) {
			l.sendPLI()
		}
		if l.askKey.Load() && l.askKey.Swap(false) {
			l.requestKeyframe()
		}
	}
	stripExtensions(pkt)
	seq, ts := pkt.SequenceNumber, pkt.Timestamp
	single := len(*t.layers.Load()) == 1
	for _, s := range *t.subs.Load() {
		if s.fresh.Load() && l.cache != nil && s.want.Load() == l.idx && l.replay(s, seq, now) {
			continue
		}
		out, outTS, ok := s.number(l.idx, seq, ts, key || single, now)
		if !ok {
			continue
		}
		pkt.SequenceNumber, pkt.Timestamp = out, outTS
		_ = s.local.WriteRTP(pkt)
	}
	pkt.SequenceNumber, pkt.Timestamp = seq, ts
}

// number decides whether layer idx's packet goes to s, switching s to
// that layer at a key frame (canSwitch) when it is the one wanted, and
// gives the packet's numbers as s sees them. The check and the rewrite
// are one step under s.mu, so a packet from the layer s just left is not
// numbered as if from the new one (another reader may be at it); the
// write itself is outside the lock, so at a switch the old layer's last
// packet may reach the wire just after the new layer's first. Numbers
// stay gap-free, and a receiver's jitter buffer orders by them.
func (s *subscriber) number(idx int32, seq uint16, ts uint32, canSwitch bool, now time.Time) (uint16, uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.cur.Load()
	switched := false
	if cur != idx {
		if s.want.Load() != idx || !canSwitch {
			return 0, 0, false
		}
		switched = cur >= 0
		s.cur.Store(idx)
	}
	out, outTS, ok := s.rw.rewrite(seq, ts, switched, s.elapsed(now, s.t.codec.ClockRate))
	if ok {
		s.lastSent.Store(now.UnixNano())
	}
	return out, outTS, ok
}

// elapsed is the clock ticks since the last packet forwarded to s.
func (s *subscriber) elapsed(now time.Time, clock uint32) uint32 {
	last := s.lastSent.Load()
	if last == 0 || clock == 0 {
		return 0
	}
	return uint32(now.Sub(time.Unix(0, last)).Seconds() * float64(clock))
}

// setPaused pauses or resumes forwarding. Resuming video needs a key
// frame; the readers ask for it (no I/O here: callers hold the call's
// lock).
func (t *track) setPaused(on bool) {
	if t.paused.Swap(on) && !on {
		for _, l := range *t.layers.Load() {
			l.askKey.Store(true)
		}
	}
}

// addSubscriber starts forwarding to s, unless its participant is
// leaving: checked under t.mu, which dropSubscriber takes too, so a
// subscription bound while its owner leaves is never left behind.
func (t *track) addSubscriber(s *subscriber) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.owner.stopped() {
		return
	}
	old := *t.subs.Load()
	next := append(append(make([]*subscriber, 0, len(old)+1), old...), s)
	t.subs.Store(&next)
}

// removeSubscribers removes the subscriptions for which drop is true, at
// once, so nothing more is written to them.
func (t *track) removeSubscribers(drop func(*subscriber) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.subs.Load()
	next := make([]*subscriber, 0, len(old))
	for _, x := range old {
		if !drop(x) {
			next = append(next, x)
		}
	}
	t.subs.Store(&next)
}

func (t *track) removeSubscriber(s *subscriber) {
	t.removeSubscribers(func(x *subscriber) bool { return x == s })
}

// dropSubscriber removes every subscription of owner, a participant who
// is leaving (their owner closes the PeerConnection afterwards).
func (t *track) dropSubscriber(owner *peer) {
	t.removeSubscribers(func(x *subscriber) bool { return x.owner == owner })
}

// requestKeyframe asks the publisher for a key frame on this layer (PLI):
// at once, or when the limiter's interval is over (the reader sends it
// then), unless a key frame comes first.
func (l *layer) requestKeyframe() {
	if l != nil && l.kf != nil && l.kf.want(time.Now()) {
		l.sendPLI()
	}
}

func (l *layer) sendPLI() {
	_ = l.t.pub.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(l.remote.SSRC())}})
}

// stripExtensions drops the publisher's header extensions before a packet
// is forwarded: their ids were negotiated with the publisher and would
// mean other things to a subscriber (and MID, RID and transport-wide
// numbers belong to the publisher's transport).
func stripExtensions(pkt *rtp.Packet) {
	pkt.Header.Extension = false
	pkt.Header.Extensions = pkt.Header.Extensions[:0]
	pkt.Header.ExtensionProfile = 0
}
