package main

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// The publisher's synthetic media: RTP shaped like a browser's, with
// nothing a decoder could use. The SFU never decodes; what it reads is the
// VP8 payload descriptor and key-frame header (to start subscribers on a
// key frame) and the audio-level extension (who is speaking).

const (
	rtpPayloadMax = 1200 // a video packet's payload, as browsers keep under the MTU
	audioPackets  = 50   // Opus in 20 ms frames
	keyframeScale = 3    // a key frame is this many times a delta frame
	markerBytes   = 4    // the publisher's index ends every payload
	vp8Descriptor = 4    // X, I with a 15-bit PictureID
	vp8KeyHeader  = 10   // frame tag, start code, width and height
)

// publisher sends one participant's audio and video once its
// PeerConnection is connected, until stop.
type publisher struct {
	cfg          *videoConfig
	idx          uint32 // participant index, in every payload
	speakerSlot  int    // which turn of the rotating speaker is ours
	video, audio *webrtc.TrackLocalStaticRTP
	audioExt     atomic.Uint32           // negotiated id of the audio-level extension; 0: none
	writeVideo   func(*rtp.Packet) error // video.WriteRTP; a test's capture

	forceKey  atomic.Bool
	started   atomic.Int64 // unix ns of the first packet sent; 0: not yet
	videoPkts atomic.Int64
	audioPkts atomic.Int64
	keyframes atomic.Int64
	keyReqs   atomic.Int64 // PLIs and FIRs received

	once sync.Once
	stop chan struct{}
	wg   sync.WaitGroup
}

func newPublisher(cfg *videoConfig, idx int) (*publisher, error) {
	p := &publisher{cfg: cfg, idx: uint32(idx), speakerSlot: idx % cfg.people, stop: make(chan struct{})}
	var err error
	p.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", "bench")
	if err != nil {
		return nil, err
	}
	p.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "bench")
	p.writeVideo = p.video.WriteRTP
	return p, err
}

// start begins sending (once); the caller has connected the tracks.
func (p *publisher) start() {
	p.once.Do(func() {
		p.started.Store(time.Now().UnixNano())
		p.wg.Add(2)
		go p.videoLoop()
		go p.audioLoop()
	})
}

// close stops the loops and waits for them; safe if never started.
func (p *publisher) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
}

// readRTCP reads a sender's feedback until its PeerConnection closes (the
// interceptors need it read); key-frame requests force the next frame to
// be one.
func (p *publisher) readRTCP(s *webrtc.RTPSender) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.keyReqs.Add(1)
				p.forceKey.Store(true)
			}
		}
	}
}

// frameSizes returns a delta and a key frame's bytes such that, with a key
// frame every keyframe interval, the average rate is --video-kbps.
func (p *publisher) frameSizes() (delta, key int) {
	perFrame := p.cfg.videoKbps * 1000 / 8 / float64(p.cfg.fps)
	n := max(1, float64(p.cfg.fps)*p.cfg.keyEvery.Seconds())
	d := perFrame * n / (n + keyframeScale - 1)
	minimum := vp8Descriptor + vp8KeyHeader + markerBytes
	return max(minimum, int(d)), max(minimum, int(d)*keyframeScale)
}

// videoPacketRate is the video packets a publisher sends per second
// without key-frame requests: what one forwarded track should carry.
func videoPacketRate(cfg *videoConfig) float64 {
	delta, key := (&publisher{cfg: cfg}).frameSizes()
	every := max(1, int(float64(cfg.fps)*cfg.keyEvery.Seconds()))
	packets := func(size int) int { return (size + rtpPayloadMax - 1) / rtpPayloadMax }
	return float64((every-1)*packets(delta)+packets(key)) / float64(every) * float64(cfg.fps)
}

func (p *publisher) videoLoop() {
	defer p.wg.Done()
	delta, key := p.frameSizes()
	every := max(1, int(float64(p.cfg.fps)*p.cfg.keyEvery.Seconds()))
	tick := time.NewTicker(time.Second / time.Duration(p.cfg.fps))
	defer tick.Stop()
	buf := make([]byte, rtpPayloadMax)
	var seq uint16
	for frame := 0; ; frame++ {
		isKey := frame%every == 0 || p.forceKey.Swap(false)
		size := delta
		if isKey {
			size = key
			p.keyframes.Add(1)
		}
		ts := uint32(frame * 90000 / p.cfg.fps)
		seq = p.writeFrame(buf, seq, ts, uint16(frame), size, isKey)
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}

// writeFrame packetizes one VP8 frame of size bytes into packets of at
// most rtpPayloadMax, the marker on the last, and returns the next
// sequence number.
func (p *publisher) writeFrame(buf []byte, seq uint16, ts uint32, picture uint16, size int, isKey bool) uint16 {
	n := (size + rtpPayloadMax - 1) / rtpPayloadMax
	for i := range n {
		part := size / n
		if i == n-1 {
			part = size - part*(n-1)
		}
		b := buf[:max(part, vp8Descriptor+vp8KeyHeader+markerBytes)]
		clear(b)
		b[0] = 0x80 // X: extended control bits follow
		if i == 0 {
			b[0] |= 0x10 // S: start of the frame's first partition
		}
		b[1] = 0x80 // I: a PictureID follows
		binary.BigEndian.PutUint16(b[2:], 0x8000|picture&0x7fff)
		if i == 0 {
			h := b[vp8Descriptor:]
			h[0] = 0x11 // show_frame, P=1: an inter frame
			if isKey {
				h[0] = 0x10 // P=0: a key frame, then its start code
				h[3], h[4], h[5] = 0x9d, 0x01, 0x2a
				binary.LittleEndian.PutUint16(h[6:], 640)
				binary.LittleEndian.PutUint16(h[8:], 360)
			}
		}
		binary.BigEndian.PutUint32(b[len(b)-markerBytes:], p.idx)
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: i == n-1}, Payload: b}
		if p.writeVideo(&pkt) == nil {
			p.videoPkts.Add(1)
		}
		seq++
	}
	return seq
}

func (p *publisher) audioLoop() {
	defer p.wg.Done()
	size := max(1+markerBytes, int(p.cfg.audioKbps*1000/8/audioPackets))
	buf := make([]byte, size)
	buf[0] = 0xfc // Opus TOC: CELT fullband 20 ms, one frame
	binary.BigEndian.PutUint32(buf[size-markerBytes:], p.idx)
	tick := time.NewTicker(time.Second / audioPackets)
	defer tick.Stop()
	for seq := uint16(0); ; seq++ {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 960}, Payload: buf}
		if id := p.audioExt.Load(); id != 0 {
			// RFC 6464: V=1 and the level in -dBov. Speakers take turns
			// every 3 s, so the SFU's speaker detection has work to do.
			level := byte(90)
			if int(time.Now().Unix()/3)%p.cfg.people == p.speakerSlot {
				level = 20
			}
			_ = pkt.Header.SetExtension(uint8(id), []byte{0x80 | level})
		}
		if p.audio.WriteRTP(&pkt) == nil {
			p.audioPkts.Add(1)
		}
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}
