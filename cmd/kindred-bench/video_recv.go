package main

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// The subscriber's side: each remote track is read by its own goroutine,
// which records when its first packet and first key frame came, packets
// per second of the run, and sequence gaps.

// seqWindow is how far back a late packet (a retransmission) is still told
// apart from a duplicate.
const seqWindow = 1024

// trackStats are one remote track's figures.
type trackStats struct {
	video   bool
	pub     int   // publisher's index, from the payload; -1 until a packet came
	firstNs int64 // first packet
	keyNs   int64 // first key frame (video)
	packets int64
	dups    int64
	late    int64   // after a higher sequence number: reordered, or retransmitted on NACK
	perSec  []int32 // packets by second since the run's epoch
	base    uint64  // extended sequence number of the first packet
	highest uint64
}

// lost is the sequence numbers never received between the first and the
// highest.
func (s *trackStats) lost() int64 {
	if s.packets == 0 {
		return 0
	}
	return max(0, int64(s.highest-s.base+1)-(s.packets-s.dups))
}

// rtrack is what one subscriber saw of one remote track.
type rtrack struct {
	mu sync.Mutex
	trackStats
	seen     [seqWindow / 64]uint64
	lastPLI  int64
	notFirst bool
}

// stats is a consistent copy of the figures.
func (t *rtrack) stats() trackStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.trackStats
	s.perSec = append([]int32(nil), t.perSec...)
	return s
}

// observe records one packet (under t.mu).
func (t *rtrack) observe(seq uint16, now int64, epoch time.Time, secs int) {
	if !t.notFirst {
		t.notFirst = true
		t.base = 1 << 32 // room below for packets older than the first
		t.base += uint64(seq)
		t.highest = t.base
		t.firstNs = now
		t.perSec = make([]int32, secs)
		t.mark(t.base)
	} else {
		ext := uint64(int64(t.highest) + int64(int16(seq-uint16(t.highest))))
		switch {
		case ext > t.highest:
			for s := t.highest + 1; s <= ext && s <= t.highest+seqWindow; s++ {
				t.seen[s%seqWindow/64] &^= 1 << (s % 64)
			}
			t.highest = ext
			t.mark(ext)
		case ext+seqWindow <= t.highest:
			// Too old to tell; counted as received.
		case t.seen[ext%seqWindow/64]&(1<<(ext%64)) != 0:
			t.dups++
		default:
			t.late++
			t.mark(ext)
		}
		t.base = min(t.base, ext)
	}
	t.packets++
	if i := int(time.Duration(now-epoch.UnixNano()) / time.Second); i >= 0 && i < len(t.perSec) {
		t.perSec[i]++
	}
}

func (t *rtrack) mark(ext uint64) { t.seen[ext%seqWindow/64] |= 1 << (ext % 64) }

// readTrack reads tr until its PeerConnection closes. A video track that
// does not start on a key frame gets a PLI (at most every 500 ms until one
// comes), as a browser's decoder asks.
func (p *participant) readTrack(tr *webrtc.TrackRemote) {
	t := &rtrack{trackStats: trackStats{video: tr.Kind() == webrtc.RTPCodecTypeVideo, pub: -1}}
	p.mu.Lock()
	p.tracks = append(p.tracks, t)
	p.mu.Unlock()
	buf := make([]byte, 1500)
	var h rtp.Header
	epoch, secs := p.run.epoch, p.run.seconds
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		now := time.Now().UnixNano()
		hl, err := h.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		payload := buf[hl:n]
		t.mu.Lock()
		t.observe(h.SequenceNumber, now, epoch, secs)
		if t.pub < 0 && len(payload) >= markerBytes {
			t.pub = int(binary.BigEndian.Uint32(payload[len(payload)-markerBytes:]))
		}
		askKey := false
		if t.video && t.keyNs == 0 {
			if isVP8Keyframe(payload) {
				t.keyNs = now
			} else if now-t.lastPLI > int64(500*time.Millisecond) {
				t.lastPLI, askKey = now, true
			}
		}
		t.mu.Unlock()
		if askKey {
			_ = p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(tr.SSRC())}})
		}
	}
}

// isVP8Keyframe reads the VP8 payload descriptor (RFC 7741 §4.2) and says
// whether the packet starts a key frame (P=0 and the start code, RFC 6386
// §9.1).
func isVP8Keyframe(p []byte) bool {
	if len(p) == 0 || p[0]&0x10 == 0 || p[0]&0x07 != 0 {
		return false
	}
	i := 1
	if p[0]&0x80 != 0 && len(p) > 1 {
		x := p[1]
		i = 2
		if x&0x80 != 0 { // PictureID, 7 or 15 bits
			if len(p) > 2 && p[2]&0x80 != 0 {
				i++
			}
			i++
		}
		if x&0x40 != 0 { // TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // TID/KEYIDX
			i++
		}
	}
	if len(p) < i+6 {
		return false
	}
	h := p[i:]
	return h[0]&0x01 == 0 && h[3] == 0x9d && h[4] == 0x01 && h[5] == 0x2a
}
