package signaling

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/webrtc/v4"
)

// dropper loses the first copy of every incoming video packet whose
// sequence number is 7 mod 50, as a lossy network would. Registered
// before the NACK generator, so the generator sees the gap and asks the
// SFU to resend.
type dropper struct {
	interceptor.NoOp
	mu      sync.Mutex
	dropped map[uint16]bool // seq -> dropped once
}

func (d *dropper) NewInterceptor(string) (interceptor.Interceptor, error) { return d, nil }

func (d *dropper) BindRemoteStream(info *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	if info.MimeType != webrtc.MimeTypeVP8 {
		return r
	}
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		for {
			n, attr, err := r.Read(b, a)
			if err != nil || n < 4 {
				return n, attr, err
			}
			seq := binary.BigEndian.Uint16(b[2:4])
			d.mu.Lock()
			drop := seq%50 == 7 && !d.dropped[seq]
			if drop {
				d.dropped[seq] = true
			}
			d.mu.Unlock()
			if !drop {
				return n, attr, err
			}
		}
	})
}

func (d *dropper) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.dropped)
}

// A packet lost between the SFU and a subscriber is retransmitted from
// the SFU's cache when the subscriber's NACK arrives.
func TestLostPacketResentOnNACK(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, clients := startCall(t, s, false)
	d := &dropper{dropped: map[uint16]bool{}}
	rx, _ := join(t, s, info.ID, "rx", false)
	rx.waitEvent(EvJoined, 5*time.Second)
	rx.interceptors = func(m *webrtc.MediaEngine, reg *interceptor.Registry) {
		reg.Add(d)
		gen, err := nack.NewGeneratorInterceptor(nack.GeneratorInterval(20 * time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		reg.Add(gen)
		m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
	}
	// The loss is simulated after SRTP has seen the packet, so the
	// resent copy would be refused as a replay; on a real network the
	// lost packet never reaches SRTP.
	rx.settings = func(se *webrtc.SettingEngine) { se.DisableSRTPReplayProtection(true) }
	rx.start()
	clients["rx"] = rx
	key := streamIDs(t, s, info.ID)["h"] + "/" + LabelCamera
	eventually(t, 10*time.Second, "two packets lost and resent", func() bool {
		if d.count() < 2 {
			return false
		}
		d.mu.Lock()
		lost := make([]uint16, 0, len(d.dropped))
		for seq := range d.dropped {
			lost = append(lost, seq)
		}
		d.mu.Unlock()
		rx.mu.Lock()
		defer rx.mu.Unlock()
		got := 0
		for _, seq := range lost {
			if rx.seqs[key][seq] {
				got++
			}
		}
		return got >= 2
	})
}

// The server sends transport-wide congestion feedback for what a
// publisher sends (so the publisher's browser adapts its uplink), and
// forwards packets without the publisher's header extensions (their ids
// mean nothing to a subscriber).
func TestUplinkFeedbackAndCleanForwarding(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, pub, sub := pubSub(t, s, "conv-twcc", "a", func(pub *testClient) {
		pub.interceptors = func(m *webrtc.MediaEngine, reg *interceptor.Registry) {
			if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, reg); err != nil {
				t.Fatal(err)
			}
		}
	}, nil)
	eventually(t, 10*time.Second, "the publisher gets transport-wide feedback", func() bool {
		pub.mu.Lock()
		defer pub.mu.Unlock()
		return pub.tccs > 0
	})
	flowing(t, map[string]*testClient{"a": sub}, streamIDs(t, s, info.ID), "a", "h", LabelCamera)
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.withExt != 0 {
		t.Fatalf("%d forwarded packets carried the publisher's header extensions", sub.withExt)
	}
}

// A subscriber who joins while a publisher sends delta frames starts on
// the last key frame, replayed from the cache, without waiting for a new
// one: the first packet it reads is a key frame.
func TestNewSubscriberStartsOnCachedKeyframe(t *testing.T) {
	s := newTestSFU(t, Config{})
	info, err := s.Start("conv-replay", Person{User: "h", Name: "Host"}, false)
	if err != nil {
		t.Fatal(err)
	}
	inCall(t, s, info.ID, "h", true, func(pub *testClient) { pub.keyEvery = 40 }) // a key frame every 800 ms
	// The key frames sent before h's transport was up are lost: the test
	// is about joining once the node has one to start from.
	eventually(t, 10*time.Second, "the node caches a key frame of h's camera", func() bool {
		return cachedKeyframe(s, info.ID, "h", LabelCamera)
	})
	for i, u := range []string{"a", "b", "c"} {
		time.Sleep(time.Duration(100+150*i) * time.Millisecond) // land mid-way between key frames
		sub := inCall(t, s, info.ID, u, false, nil)
		key := streamIDs(t, s, info.ID)["h"] + "/" + LabelCamera
		eventually(t, 5*time.Second, u+" reads h's camera", func() bool {
			sub.mu.Lock()
			defer sub.mu.Unlock()
			_, ok := sub.firstKey[key]
			return ok
		})
		sub.mu.Lock()
		first := sub.firstKey[key]
		sub.mu.Unlock()
		if !first {
			t.Fatalf("%s's first packet of h's camera was a delta frame, not the cached key frame", u)
		}
	}
}

// cachedKeyframe reports whether the node holds a key frame of user's
// track label, for a new subscriber to start on.
func cachedKeyframe(s *SFU, session, user, label string) bool {
	c := s.call(session)
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, tr := range c.tracks {
		if tr.pub.user != user || tr.label != label {
			continue
		}
		if l := tr.layer(0); l != nil && l.cache != nil {
			_, ok := l.cache.lastKeyframe()
			return ok
		}
	}
	return false
}
