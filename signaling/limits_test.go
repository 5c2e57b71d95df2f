package signaling

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

// wantSDP runs checkOffer on raw as an offer and compares the error.
func wantSDP(t *testing.T, name, raw string, want *Error) {
	t.Helper()
	desc, err := checkOffer(raw, webrtc.SDPTypeOffer, 0)
	if want == nil {
		if err != nil {
			t.Errorf("%s: got %v, want accepted", name, err)
		} else if desc == nil || len(desc.MediaDescriptions) == 0 {
			t.Errorf("%s: accepted without a parsed description", name)
		}
		return
	}
	if err != want { //nolint:errorlint // the refusals are sentinel values
		t.Errorf("%s: got %v, want %v", name, err, want)
	}
	if desc != nil {
		t.Errorf("%s: refused but returned a description", name)
	}
}

func TestCheckOfferPion(t *testing.T) {
	wantSDP(t, "audio and video", limPionOffer(t), nil)

	pc := limPeer(t, nil)
	limAddTrack(t, pc, limOpus, "mic")
	limAddSimulcast(t, pc, "l", "m", "h")
	wantSDP(t, "simulcast with 3 layers", limOfferOf(t, pc), nil)

	pc = limPeer(t, nil)
	limAddSimulcast(t, pc, "a", "b", "c", "d")
	wantSDP(t, "simulcast with 4 layers", limOfferOf(t, pc), ErrTooManyRIDs)

	pc = limPeer(t, nil)
	limAddTrack(t, pc, limOpus, "mic")
	for i := range 3 {
		limAddTrack(t, pc, limVP8, "video"+string(rune('0'+i)))
	}
	wantSDP(t, "audio, camera, screen, second screen", limOfferOf(t, pc), nil)

	pc = limPeer(t, nil)
	for i := range 6 {
		limAddTrack(t, pc, limVP8, "video"+string(rune('0'+i)))
	}
	wantSDP(t, "six video senders", limOfferOf(t, pc), ErrTooManyTracks)

	av1 := &webrtc.MediaEngine{}
	if err := av1.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: limAV1, PayloadType: 45}, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	pc = limPeer(t, av1)
	limAddTrack(t, pc, limAV1, "camera")
	wantSDP(t, "AV1 only", limOfferOf(t, pc), ErrUnsupportedCodec)

	pc = limPeer(t, av1)
	limAddRecvonly(t, pc, webrtc.RTPCodecTypeVideo, 3)
	wantSDP(t, "AV1 only, receiving", limOfferOf(t, pc), nil)

	pc = limPeer(t, nil)
	limAddTrack(t, pc, limOpus, "mic")
	if _, err := pc.CreateDataChannel("chat", nil); err != nil {
		t.Fatal(err)
	}
	wantSDP(t, "data channel", limOfferOf(t, pc), ErrDataChannel)
}

// A full session's renegotiated offer: this client's four tracks and a
// receive section for each of the others' four, 52 in all; one more is
// refused, unless the session's limit is higher.
func TestCheckOfferSections(t *testing.T) {
	pc := limPeer(t, nil)
	limAddTrack(t, pc, limOpus, "mic")
	limAddTrack(t, pc, limVP8, "camera")
	limAddTrack(t, pc, limVP8, "screen")
	limAddTrack(t, pc, limOpus, "screen-audio")
	limAddRecvonly(t, pc, webrtc.RTPCodecTypeVideo, DefaultMaxParticipants*2)
	limAddRecvonly(t, pc, webrtc.RTPCodecTypeAudio, DefaultMaxParticipants*2)
	full := limOfferOf(t, pc)
	if len(full) > MaxSDPBytes {
		t.Fatalf("a full session's offer is %d bytes, over MaxSDPBytes", len(full))
	}
	wantSDP(t, "52 sections", full, nil)

	limAddRecvonly(t, pc, webrtc.RTPCodecTypeVideo, 1)
	over := limOfferOf(t, pc)
	wantSDP(t, "53 sections", over, ErrTooManySections)
	if _, err := checkOffer(over, webrtc.SDPTypeOffer, DefaultMaxParticipants+1); err != nil {
		t.Errorf("53 sections with a limit of 13 participants: %v", err)
	}
}

func TestCheckOfferAnswer(t *testing.T) {
	answer := limPionAnswer(t)
	if _, err := checkOffer(answer, webrtc.SDPTypeAnswer, 0); err != nil {
		t.Errorf("pion answer: %v", err)
	}
	for _, kind := range []webrtc.SDPType{webrtc.SDPTypePranswer, webrtc.SDPTypeRollback, webrtc.SDPTypeUnknown} {
		if _, err := checkOffer(answer, kind, 0); err != ErrSDPType { //nolint:errorlint // sentinel
			t.Errorf("kind %v: got %v, want ErrSDPType", kind, err)
		}
	}
}

// Offers captured from headless Chromium 156 (RTCPeerConnection, no
// camera needed): a first offer with a microphone and a camera in three
// simulcast layers, and the offer the same client makes in a full session
// (DefaultMaxParticipants, everyone sharing a screen with audio) when it
// starts sharing its own: 48 sections, 145 KB.
func TestCheckOfferChromium(t *testing.T) {
	for _, name := range []string{"chromium156-first-offer.sdp", "chromium156-full-offer.sdp"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		wantSDP(t, name, string(raw), nil)
	}
	full, _ := os.ReadFile(filepath.Join("testdata", "chromium156-full-offer.sdp"))
	if len(full) <= 64<<10 {
		t.Errorf("the full-session offer is %d bytes; it was captured to show that 64 KiB is too small", len(full))
	}
}

func TestCheckOfferBrowsers(t *testing.T) {
	wantSDP(t, "Chrome", chromeOffer, nil)
	wantSDP(t, "Firefox", firefoxOffer, nil)
	wantSDP(t, "Chrome, LF line ends", strings.ReplaceAll(chromeOffer, "\r\n", "\n"), nil)

	// Chrome with its VP8 and baseline H.264 payload types removed from
	// the camera's m= line: VP9, H.264 main/mode 0 and AV1 are not
	// forwarded.
	noVP8 := strings.Replace(chromeOffer, "96 97 98 99 100 101 102 103 104 105 106 107", "98 99 100 101 103 104 105 107", 1)
	wantSDP(t, "Chrome without VP8 and baseline H.264", noVP8, ErrUnsupportedCodec)
	// The same as a receive-only section is fine.
	wantSDP(t, "Chrome without VP8, receiving", strings.Replace(noVP8, "a=sendrecv", "a=recvonly", 2), nil)

	// Firefox's camera with only H.264 High (640c1f).
	highOnly := strings.Replace(firefoxOffer, "120 124 121 125 126 127 97 98 105 106 123 122 119", "105 106", 1)
	wantSDP(t, "Firefox with H.264 High only", highOnly, ErrUnsupportedCodec)
	// Firefox's camera with only packetization-mode 0 baseline.
	wantSDP(t, "Firefox with mode 0 only",
		strings.Replace(firefoxOffer, "120 124 121 125 126 127 97 98 105 106 123 122 119", "97 98", 1), ErrUnsupportedCodec)
}

func TestCheckOfferSynthetic(t *testing.T) {
	opus := []string{"111 opus/48000/2"}
	vp8 := []string{"96 VP8/90000"}
	h264 := []string{"102 H264/90000"}
	cases := []struct {
		name string
		raw  string
		want *Error
	}{
		{"no direction means sendrecv", limSDPHead + limSection("video", "", []string{"98 VP9/90000"}), ErrUnsupportedCodec},
		{"session-level recvonly", limSDPHead + "a=recvonly\r\n" + limSection("video", "", []string{"98 VP9/90000"}), nil},
		{"media level beats session level", limSDPHead + "a=recvonly\r\n" + limSection("video", "sendonly", []string{"98 VP9/90000"}), ErrUnsupportedCodec},
		{"inactive", limSDPHead + limSection("video", "inactive", []string{"98 VP9/90000"}), nil},
		{"rejected limSection", limSDPHead + strings.Replace(limSection("video", "sendrecv", []string{"98 VP9/90000"}), " 9 ", " 0 ", 1), nil},
		{"bundle-only limSection", limSDPHead + strings.Replace(limSection("video", "sendrecv", []string{"98 VP9/90000"}), " 9 ", " 0 ", 1) + "a=bundle-only\r\n", ErrUnsupportedCodec},
		{"opus in a video limSection", limSDPHead + limSection("video", "sendonly", opus), ErrUnsupportedCodec},
		{"VP8 in an audio limSection", limSDPHead + limSection("audio", "sendonly", vp8), ErrUnsupportedCodec},
		{"opus at 8 kHz", limSDPHead + limSection("audio", "sendonly", []string{"111 opus/8000/2"}), ErrUnsupportedCodec},
		{"rtpmap not on the m= line", limSDPHead + strings.Replace(limSection("video", "sendonly", vp8), "SAVPF 96", "SAVPF 97", 1), ErrUnsupportedCodec},
		{"lower-case vp8", limSDPHead + limSection("video", "sendonly", []string{"96 vp8/90000"}), nil},
		{"H.264 constrained baseline", limSDPHead + limSection("video", "sendonly", h264, "102 packetization-mode=1;profile-level-id=42E034"), nil},
		// Constraint flags other than the two browsers offer.
		{"H.264 42c01f", limSDPHead + limSection("video", "sendonly", h264, "102 packetization-mode=1;profile-level-id=42c01f"), ErrUnsupportedCodec},
		{"H.264 no fmtp", limSDPHead + limSection("video", "sendonly", h264), ErrUnsupportedCodec},
		{"H.264 main", limSDPHead + limSection("video", "sendonly", h264, "102 packetization-mode=1;profile-level-id=4d001f"), ErrUnsupportedCodec},
		{"H.264 bad hex", limSDPHead + limSection("video", "sendonly", h264, "102 packetization-mode=1;profile-level-id=42zz1f"), ErrUnsupportedCodec},
		{"text limSection", limSDPHead + "m=text 9 RTP/AVP 98\r\n", ErrMediaKind},
		{"data channel, rejected", limSDPHead + "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n", ErrDataChannel},
		{"four a=rid lines", limSDPHead + limSection("video", "sendonly", vp8) + "a=rid:a send\r\na=rid:b send\r\na=rid:c send\r\na=rid:d send\r\n", ErrTooManyRIDs},
		{"simulcast alternatives", limSDPHead + limSection("video", "sendonly", vp8) + "a=simulcast:send 1;2,3;4\r\n", ErrTooManyRIDs},
		{"three SSRC layers with RTX and FEC", limSDPHead + limSection("video", "sendonly", vp8) + ssrcLines(7), nil},
		{"eight SSRCs", limSDPHead + limSection("video", "sendonly", vp8) + ssrcLines(8), ErrTooManyRIDs},
		{"no sections", limSDPHead, nil},
	}
	for _, c := range cases {
		_, err := checkOffer(c.raw, webrtc.SDPTypeOffer, 0)
		if c.want == nil && err != nil || c.want != nil && err != c.want { //nolint:errorlint // sentinels
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

// ssrcLines gives n distinct SSRCs, two attribute lines each as Chrome
// writes them.
func ssrcLines(n int) string {
	var b strings.Builder
	for i := range n {
		ssrc := strings.Repeat(string(rune('1'+i)), 9)
		b.WriteString("a=ssrc:" + ssrc + " cname:x\r\na=ssrc:" + ssrc + " msid:s t\r\n")
	}
	return b.String()
}

func TestCheckOfferMalformed(t *testing.T) {
	offer := limPionOffer(t)
	wantSDP(t, "empty", "", ErrBadSDP)
	wantSDP(t, "truncated in the origin", offer[:12], ErrBadSDP)
	wantSDP(t, "no version line", strings.TrimPrefix(offer, "v=0\r\n"), ErrBadSDP)
	video := strings.Index(offer, "m=video")
	cut := video + strings.Index(offer[video:], "\r\n") + 2
	wantSDP(t, "truncated after the camera's m= line", offer[:cut], ErrUnsupportedCodec)

	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.IntN(256))
	}
	wantSDP(t, "binary garbage", string(garbage), ErrBadSDP)

	pad := func(n int) string { return offer + "a=x-pad:" + strings.Repeat("A", n) + "\r\n" }
	exact := pad(MaxSDPBytes - len(pad(0)))
	wantSDP(t, "padded to exactly MaxSDPBytes", exact, nil)
	wantSDP(t, "one byte over MaxSDPBytes", exact+"a", ErrSDPTooLarge)
	wantSDP(t, "65 KiB of padding", pad(65<<10), nil)
	wantSDP(t, "1 MiB of padding", pad(1<<20), ErrSDPTooLarge)

	// Every prefix of a real offer is accepted or refused with one of the
	// documented errors, whose messages are fixed.
	for n := range len(offer) {
		_, err := checkOffer(offer[:n], webrtc.SDPTypeOffer, 0)
		if err == nil {
			continue
		}
		checkRefusal(t, err)
	}
}

// pion's log messages never carry a participant's address or ICE ufrag.
func TestRedactAddrs(t *testing.T) {
	for in, want := range map[string]string{
		"dropping candidate with ufrag WjljkugltSEArdPr because": "dropping candidate with <addr> because",
		"Failed to ping 192.0.2.7:53211 -> 10.0.0.1:8443":        "Failed to ping <addr> -> <addr>",
		"remote [2001:db8::1]:4000 closed":                       "remote <addr> closed",
		"no candidate pairs":                                     "no candidate pairs",
	} {
		if got := redactAddrs(in); got != want {
			t.Errorf("redactAddrs(%q) = %q, want %q", in, got, want)
		}
	}
}
