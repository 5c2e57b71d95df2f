package signaling

import (
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// A new subscriber starts on a key frame at once: the forwarder replays
// the publisher's stream from the last key frame in the cache, instead
// of forwarding from the middle of a frame and waiting for the key frame
// a PLI brings (up to the limiter's 500 ms when someone joined just
// before; measured in BENCHMARKS.md).

// maxReplay is the most packets replayed to a new subscriber: about 2 s
// of video at 500 kbit/s. A key frame further back is too old to show
// (the subscriber would see the past fast-forwarded): it gets a PLI's
// key frame instead.
const maxReplay = 256

// boundTrack is a subscriber's local track that says when pion binds it
// to the subscriber's connection (the answer to the offer that carries
// it is applied): before that, whatever is written to it is lost.
type boundTrack struct {
	*webrtc.TrackLocalStaticRTP
	once    sync.Once
	onBound func()
}

func (b *boundTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	p, err := b.TrackLocalStaticRTP.Bind(ctx)
	if err == nil {
		b.once.Do(b.onBound)
	}
	return p, err
}

// bound puts s into its track's forwarder, once its local track is bound:
// the first packet the forwarder handles for it replays from the cached
// key frame, and without one the publisher is asked for a key frame.
func (s *subscriber) bound() {
	if !s.owner.whenConnected(s) {
		return // added by connectedNow
	}
	s.start()
}

// start puts s into its forwarder, replaying from the cached key frame.
func (s *subscriber) start() {
	s.fresh.Store(true)
	s.t.addSubscriber(s)
	l := s.t.layer(s.want.Load())
	if l == nil || l.cache == nil {
		return
	}
	if _, ok := l.cache.lastKeyframe(); !ok {
		l.requestKeyframe()
	}
}

// replay sends fresh subscriber s the cached packets of this layer from
// the last key frame through upto (the packet being forwarded, already
// cached), numbered as any. It returns false, doing nothing, when there is
// no key frame to start from; then s is forwarded as usual and waits for
// the one its bound asked for.
func (l *layer) replay(s *subscriber, upto uint16, now time.Time) bool {
	from, ok := l.cache.lastKeyframe()
	if !ok || upto-from >= maxReplay {
		if ok {
			l.requestKeyframe()
		}
		return false
	}
	s.fresh.Store(false)
	for seq := from; ; seq++ {
		if n, ok := l.cache.get(seq, l.replayBuf[:]); ok && l.replayPkt.Unmarshal(l.replayBuf[:n]) == nil {
			stripExtensions(&l.replayPkt)
			if out, ts, ok := s.number(l.idx, seq, l.replayPkt.Timestamp, seq == from, now); ok {
				l.replayPkt.SequenceNumber, l.replayPkt.Timestamp = out, ts
				_ = s.local.WriteRTP(&l.replayPkt)
			}
		}
		if seq == upto {
			return true
		}
	}
}

// whenConnected reports whether the peer's media transport is up, so
// that what is written to s now reaches it; if not, s waits for
// connectedNow (a track bound with the first answer would lose the
// replayed key frame in the DTLS handshake).
func (p *peer) whenConnected(s *subscriber) bool {
	p.connMu.Lock()
	defer p.connMu.Unlock()
	if !p.connected {
		p.unstarted = append(p.unstarted, s)
	}
	return p.connected
}

// isConnected reports whether the media transport has come up.
func (p *peer) isConnected() bool {
	p.connMu.Lock()
	defer p.connMu.Unlock()
	return p.connected
}

// connectedNow starts the subscriptions that waited for the transport.
func (p *peer) connectedNow() {
	p.connMu.Lock()
	p.connected = true
	waiting := p.unstarted
	p.unstarted = nil
	p.connMu.Unlock()
	for _, s := range waiting {
		s.start()
	}
}
