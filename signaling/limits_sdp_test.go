package signaling

import "strings"

// Browser offers written by hand following the format Chrome and Firefox
// produce (unified plan, BUNDLE, trickle ICE), trimmed of some extension
// lines. They are not captured from a browser: the Chromium test of the
// SFU checks real ones end to end.

// chromeOffer is HAND-WRITTEN: Chrome's shape with a microphone and a
// camera sent in three simulcast layers (a=rid, a=simulcast), with the
// long codec list Chrome offers (VP8, VP9, H.264 in several profiles, AV1,
// RTX, RED, ULPFEC).
var chromeOffer = limCRLF(`v=0
o=- 7321844736213590458 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=extmap-allow-mixed
a=msid-semantic: WMS 6b2f0c51-5a2e-4d5e-9d43-2b9a8e1f3c07
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:Xc4q
a=ice-pwd:2bB0kS1n5m6VxDq9T7wYp3Lr
a=ice-options:trickle
a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendrecv
a=msid:6b2f0c51-5a2e-4d5e-9d43-2b9a8e1f3c07 0e6d1c7b-38f4-4f0e-a0a1-5a3b7c9d2e11
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:1706204101 cname:q3F8mH2lQ1Z7sVd0
a=ssrc:1706204101 msid:6b2f0c51-5a2e-4d5e-9d43-2b9a8e1f3c07 0e6d1c7b-38f4-4f0e-a0a1-5a3b7c9d2e11
m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 102 103 104 105 106 107 45 46 116 117 118
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:Xc4q
a=ice-pwd:2bB0kS1n5m6VxDq9T7wYp3Lr
a=ice-options:trickle
a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08
a=setup:actpass
a=mid:1
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:13 urn:3gpp:video-orientation
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendrecv
a=msid:6b2f0c51-5a2e-4d5e-9d43-2b9a8e1f3c07 9a0f3e25-7c61-4b8d-8e2f-1d4c6b5a3f90
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=rtpmap:100 VP9/90000
a=fmtp:100 profile-id=2
a=rtpmap:101 rtx/90000
a=fmtp:101 apt=100
a=rtpmap:102 H264/90000
a=rtcp-fb:102 nack pli
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=rtpmap:104 H264/90000
a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f
a=rtpmap:105 rtx/90000
a=fmtp:105 apt=104
a=rtpmap:106 H264/90000
a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:107 rtx/90000
a=fmtp:107 apt=106
a=rtpmap:45 AV1/90000
a=fmtp:45 level-idx=5;profile=0;tier=0
a=rtpmap:46 rtx/90000
a=fmtp:46 apt=45
a=rtpmap:116 red/90000
a=rtpmap:117 rtx/90000
a=fmtp:117 apt=116
a=rtpmap:118 ulpfec/90000
a=rid:q send
a=rid:h send
a=rid:f send
a=simulcast:send q;h;f
`)

// firefoxOffer is HAND-WRITTEN: Firefox's shape with a microphone and a
// camera (no simulcast), braced-UUID msids and mids "0", "1".
var firefoxOffer = limCRLF(`v=0
o=mozilla...THIS_IS_SDPARTA-128.0 4294967295 0 IN IP4 0.0.0.0
s=-
t=0 0
a=fingerprint:sha-256 0A:5C:62:1E:8D:77:13:9B:AF:41:C2:D3:60:7E:55:19:44:AB:02:9E:F7:61:3D:8C:A5:B0:12:E4:77:6F:C9:38
a=group:BUNDLE 0 1
a=ice-options:trickle
a=msid-semantic:WMS *
m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101
c=IN IP4 0.0.0.0
a=sendrecv
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1
a=fmtp:101 0-15
a=ice-pwd:7b3e2f9d1c4a5b6e8f0a1b2c3d4e5f60
a=ice-ufrag:1f2e3d4c
a=mid:0
a=msid:{5f1c2b3a-4d5e-6f70-8192-a3b4c5d6e7f8} {0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9}
a=rtcp-mux
a=rtpmap:109 opus/48000/2
a=rtpmap:9 G722/8000/1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=setup:actpass
a=ssrc:2861730512 cname:{c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f}
m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127 97 98 105 106 123 122 119
c=IN IP4 0.0.0.0
a=sendrecv
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:5 urn:ietf:params:rtp-hdrext:toffset
a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1
a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1
a=fmtp:120 max-fs=12288;max-fr=60
a=fmtp:124 apt=120
a=fmtp:121 max-fs=12288;max-fr=60
a=fmtp:125 apt=121
a=fmtp:127 apt=126
a=fmtp:98 apt=97
a=fmtp:105 profile-level-id=640c1f;level-asymmetry-allowed=1;packetization-mode=1
a=fmtp:106 apt=105
a=fmtp:119 apt=122
a=ice-pwd:7b3e2f9d1c4a5b6e8f0a1b2c3d4e5f60
a=ice-ufrag:1f2e3d4c
a=mid:1
a=msid:{5f1c2b3a-4d5e-6f70-8192-a3b4c5d6e7f8} {7e8f9a0b-1c2d-3e4f-5a6b-7c8d9e0f1a2b}
a=rtcp-fb:120 nack
a=rtcp-fb:120 nack pli
a=rtcp-fb:120 ccm fir
a=rtcp-fb:120 goog-remb
a=rtcp-fb:120 transport-cc
a=rtcp-fb:126 nack
a=rtcp-fb:126 nack pli
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:120 VP8/90000
a=rtpmap:124 rtx/90000
a=rtpmap:121 VP9/90000
a=rtpmap:125 rtx/90000
a=rtpmap:126 H264/90000
a=rtpmap:127 rtx/90000
a=rtpmap:97 H264/90000
a=rtpmap:98 rtx/90000
a=rtpmap:105 H264/90000
a=rtpmap:106 rtx/90000
a=rtpmap:123 ulpfec/90000
a=rtpmap:122 red/90000
a=rtpmap:119 rtx/90000
a=setup:actpass
a=ssrc:3711902216 cname:{c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f}
a=ssrc:1843277193 cname:{c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f}
a=ssrc-group:FID 3711902216 1843277193
`)

func limCRLF(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// limSDPHead is the session part of a minimal description for synthetic
// cases; sections are appended to it.
const limSDPHead = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"

// limSection is a minimal media section of kind sending in dir (no
// direction line when dir is ""), offering the payload types of rtpmaps
// ("96 VP8/90000") with their fmtp lines ("96 packetization-mode=1").
func limSection(kind, dir string, rtpmaps []string, fmtps ...string) string {
	var pts []string
	for _, r := range rtpmaps {
		pt, _, _ := strings.Cut(r, " ")
		pts = append(pts, pt)
	}
	s := "m=" + kind + " 9 UDP/TLS/RTP/SAVPF " + strings.Join(pts, " ") + "\r\nc=IN IP4 0.0.0.0\r\n"
	if dir != "" {
		s += "a=" + dir + "\r\n"
	}
	for _, r := range rtpmaps {
		s += "a=rtpmap:" + r + "\r\n"
	}
	for _, f := range fmtps {
		s += "a=fmtp:" + f + "\r\n"
	}
	return s
}
