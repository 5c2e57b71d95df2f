package signaling

import (
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// readRTCP reads one subscriber's feedback until its sender stops:
// key-frame requests go to the publisher of the layer it receives
// (coalesced), NACKs are answered from that layer's cache on the
// original SSRC (no RTX), and REMB estimates choose its layer.
func (s *subscriber) readRTCP() {
	var buf [packetCacheMTU]byte
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
				nackSeqs(p, func(seq uint16) { s.resend(seq, buf[:]) })
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				s.estimate.Store(uint64(p.Bitrate))
				s.t.choose(s)
			}
		}
	}
}

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
