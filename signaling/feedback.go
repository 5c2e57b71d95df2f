package signaling

import (
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// readRTCP reads one subscriber's feedback until its sender stops:
// key-frame requests go to the publisher of the layer it receives
// (coalesced), NACKs are answered from that layer's cache on the
// original SSRC (no RTX), and REMB estimates choose its layer.
func (s *subscriber) readRTCP() {
	var buf [packetCacheMTU]byte
	var second int64 // the unix second resent counts
	sent := 0        // packets resent in it
	resend := func(seq uint16) {
		if now := time.Now().Unix(); now != second {
			second, sent = now, 0
		}
		if sent < maxResendsPerSecond {
			sent++
			s.resend(seq, buf[:])
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
				s.t.layer(s.cur.Load()).requestKeyframe()
			case *rtcp.TransportLayerNack:
				nackSeqs(p, resend)
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				s.estimate.Store(uint64(p.Bitrate))
				s.t.choose(s)
			}
		}
	}
}

// maxResendsPerSecond caps what one subscriber's NACKs may make the
// server resend: about 3 Mbit/s of video, far above what loss on a 500
// kbit/s track asks for, so a client cannot turn a small RTCP packet
// into the whole cache again and again.
const maxResendsPerSecond = 300

// resend answers a NACK for out, a sequence number as the subscriber saw
// it: mapped back to the source packet in the current layer's cache and
// rewritten as it was first sent.
func (s *subscriber) resend(out uint16, buf []byte) {
	s.mu.Lock() // the layer and the mapping must agree (no switch between)
	l := s.t.layer(s.cur.Load())
	src, tsOff, ok := s.rw.source(out)
	s.mu.Unlock()
	if !ok || l == nil || l.cache == nil {
		return
	}
	n, ok := l.cache.get(src, buf)
	if !ok {
		return
	}
	var pkt rtp.Packet
	if pkt.Unmarshal(buf[:n]) != nil {
		return
	}
	stripExtensions(&pkt)
	pkt.SequenceNumber = out
	pkt.Timestamp -= tsOff
	_ = s.local.WriteRTP(&pkt)
}
