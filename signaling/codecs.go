package signaling

import "strings"

// isKeyframe reports whether an RTP payload of the codec mime (as in
// webrtc.RTPCodecCapability.MimeType, any case) starts a key frame: the
// packet the cache marks (markKeyframe), where a new subscriber's replay
// and a simulcast switch may begin. For H.264 it is true for each packet
// of a key frame's SPS and IDR slices (markKeyframe keeps the first of
// one frame). It reads only the payload descriptor and headers, never
// decodes, and returns false for anything it cannot parse, for audio and
// for unknown codecs: a false "no" costs a PLI, a false "yes" starts a
// subscriber on a frame it cannot decode.
func isKeyframe(mime string, payload []byte) bool {
	switch {
	case strings.EqualFold(mime, "video/VP8"):
		return vp8Keyframe(payload)
	case strings.EqualFold(mime, "video/H264"):
		return h264Keyframe(payload)
	case strings.EqualFold(mime, "video/VP9"):
		return vp9Keyframe(payload)
	}
	return false
}

// VP8 payload descriptor bits (RFC 7741 §4.2).
const (
	vp8X = 0x80 // extended control bits present
	vp8S = 0x10 // start of a VP8 partition
	vp8I = 0x80 // PictureID present
	vp8L = 0x40 // TL0PICIDX present
	vp8T = 0x20 // TID present
	vp8K = 0x10 // KEYIDX present (shares the TID/KEYIDX byte with T)
	vp8M = 0x80 // 15-bit PictureID
)

// vp8StartCode begins every key frame's data after the 3-byte frame tag
// (RFC 6386 §9.1); checking it too rejects a stray P=0 bit.
var vp8StartCode = [3]byte{0x9d, 0x01, 0x2a}

// vp8Keyframe: the payload descriptor (RFC 7741 §4.2) with S=1 and PID=0
// (first packet of the frame's first partition), then a payload header
// (§4.3) whose P bit (inverse key frame flag) is 0, then the start code.
func vp8Keyframe(p []byte) bool {
	if len(p) < 1 || p[0]&vp8S == 0 || p[0]&0x07 != 0 {
		return false
	}
	i := 1
	if p[0]&vp8X != 0 {
		if len(p) < 2 {
			return false
		}
		x := p[1]
		i = 2
		if x&vp8I != 0 {
			if len(p) <= i {
				return false
			}
			if p[i]&vp8M != 0 {
				i++
			}
			i++
		}
		if x&vp8L != 0 {
			i++
		}
		if x&(vp8T|vp8K) != 0 {
			i++
		}
	}
	h := p[min(i, len(p)):]
	return len(h) >= 6 && h[0]&0x01 == 0 && [3]byte(h[3:6]) == vp8StartCode
}

// H.264 NAL unit types (RFC 6184 §5.2, ITU-T H.264 Table 7-1).
const (
	h264IDR  = 5  // coded slice of an IDR picture
	h264SPS  = 7  // sequence parameter set, sent just before an IDR
	h264STAP = 24 // STAP-A aggregation packet
	h264FUA  = 28 // FU-A fragmentation unit
)

// h264KeyNAL: an IDR slice or an SPS. Browsers send SPS and PPS in the
// packet (or packets) before the IDR, so the key frame starts at the SPS.
func h264KeyNAL(t byte) bool { return t == h264IDR || t == h264SPS }

// h264Keyframe: a single NAL unit packet of type IDR or SPS, a STAP-A
// (RFC 6184 §5.7.1) holding one, or the start fragment (S bit) of an
// FU-A (§5.8) carrying one. Other aggregation types are not allowed in
// packetization-mode 1, the one WebRTC uses.
func h264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch t := p[0] & 0x1f; t {
	case h264STAP:
		return stapAKeyframe(p[1:])
	case h264FUA:
		return len(p) >= 2 && p[1]&0x80 != 0 && h264KeyNAL(p[1]&0x1f)
	default:
		return h264KeyNAL(t)
	}
}

// stapAKeyframe walks a STAP-A's units, each a 16-bit size then the NAL
// unit; a size of 0 or past the end makes the packet unreadable (false).
func stapAKeyframe(p []byte) bool {
	for len(p) > 0 {
		if len(p) < 3 {
			return false
		}
		size := int(p[0])<<8 | int(p[1])
		if size == 0 || 2+size > len(p) {
			return false
		}
		if h264KeyNAL(p[2] & 0x1f) {
			return true
		}
		p = p[2+size:]
	}
	return false
}

// VP9 payload descriptor bits (draft-ietf-payload-vp9-16 §4.2).
const (
	vp9I = 0x80 // PictureID present
	vp9P = 0x40 // inter-picture predicted: not a key frame
	vp9L = 0x20 // layer indices present
	vp9B = 0x08 // start of a layer frame
	vp9M = 0x80 // 15-bit PictureID
)

// vp9Keyframe: a descriptor with P clear and B set. When layer indices
// are present the spatial layer must be 0: with spatial layers (SVC) the
// upper layers of a key picture also have P clear, but the key frame
// begins at the base layer.
func vp9Keyframe(p []byte) bool {
	if len(p) < 1 || p[0]&vp9P != 0 || p[0]&vp9B == 0 {
		return false
	}
	if p[0]&vp9L == 0 {
		return true
	}
	i := 1
	if p[0]&vp9I != 0 {
		if len(p) < 2 {
			return false
		}
		i = 2
		if p[1]&vp9M != 0 {
			i = 3
		}
	}
	if len(p) <= i {
		return false
	}
	sid := (p[i] >> 1) & 0x07 // |TID:3|U|SID:3|D|
	return sid == 0
}
