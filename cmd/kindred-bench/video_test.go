package main

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestVideoFrames checks the synthetic VP8: packets of at most
// rtpPayloadMax, the marker on each frame's last, a key frame that the
// subscriber's check (and the SFU's, which reads the same header) takes
// for one, and the publisher's index at the end of every payload.
func TestVideoFrames(t *testing.T) {
	cfg := &videoConfig{people: 3, videoKbps: 500, fps: 30, audioKbps: 32, keyEvery: 2 * time.Second}
	p, err := newPublisher(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	var got []rtp.Packet
	p.writeVideo = func(pkt *rtp.Packet) error {
		c := *pkt
		c.Payload = append([]byte(nil), pkt.Payload...)
		got = append(got, c)
		return nil
	}
	delta, key := p.frameSizes()
	// 59 deltas and one key frame in 2 s average 500 kbit/s.
	if avg := float64(59*delta+key) * 8 / 2; avg < 495_000 || avg > 505_000 {
		t.Errorf("delta %d, key %d bytes: %.0f bit/s", delta, key, avg)
	}
	// 59 deltas of 2,016 bytes (2 packets) and a key frame of 6,048 (6)
	// in 2 s.
	if r := videoPacketRate(cfg); math.Abs(r-62) > 1e-9 || delta != 2016 || key != 6048 {
		t.Errorf("delta %d, key %d bytes, %g packets/s; want 2016, 6048, 62", delta, key, r)
	}
	buf := make([]byte, rtpPayloadMax)
	next := p.writeFrame(buf, 65534, 0, 1, key, true)
	nKey := len(got)
	p.writeFrame(buf, next, 3000, 2, delta, false)
	total := 0
	for i, pkt := range got {
		total += len(pkt.Payload)
		last := i == nKey-1 || i == len(got)-1
		if len(pkt.Payload) > rtpPayloadMax || pkt.Marker != last || pkt.SequenceNumber != uint16(65534+i) {
			t.Errorf("packet %d: %d bytes, marker %v, seq %d", i, len(pkt.Payload), pkt.Marker, pkt.SequenceNumber)
		}
		if idx := binary.BigEndian.Uint32(pkt.Payload[len(pkt.Payload)-markerBytes:]); idx != 7 {
			t.Errorf("packet %d names publisher %d", i, idx)
		}
		if isVP8Keyframe(pkt.Payload) != (i == 0) {
			t.Errorf("packet %d: key frame start %v", i, !(i == 0))
		}
	}
	if total != key+delta || nKey != (key+rtpPayloadMax-1)/rtpPayloadMax {
		t.Errorf("%d bytes in %d+%d packets; want %d", total, nKey, len(got)-nKey, key+delta)
	}
}

// TestVideoSequenceGaps checks loss and duplicate counting across a
// wrap of the 16-bit sequence number, with a late retransmission.
func TestVideoSequenceGaps(t *testing.T) {
	epoch := time.Now()
	tr := &rtrack{}
	for _, seq := range []uint16{65533, 65534, 1, 2, 2, 65535, 5, 65532} {
		tr.observe(seq, epoch.UnixNano(), epoch, 2)
	}
	s := tr.stats()
	// 65532..5 is 10 numbers; received 65532-65535, 1, 2, 5 (7), one 2
	// twice; missing 0, 3, 4; 65535 and 65532 came after higher ones.
	if s.dups != 1 || s.packets != 8 || s.lost() != 3 || s.late != 2 || s.perSec[0] != 8 {
		t.Errorf("dups %d, packets %d, lost %d, late %d, per second %v; want 1, 8, 3, 2, [8 …]", s.dups, s.packets, s.lost(), s.late, s.perSec)
	}
}
