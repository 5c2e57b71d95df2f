package signaling

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pion/webrtc/v4"
)

// limitErrors are the documented refusals of checkOffer and
// checkCandidate; their messages are fixed, so none repeats the input.
var limitErrors = []*Error{
	ErrBadSDP, ErrSDPTooLarge, ErrSDPType, ErrDataChannel, ErrMediaKind,
	ErrTooManyTracks, ErrTooManySections, ErrTooManyRIDs, ErrUnsupportedCodec,
	ErrBadCandidate, ErrCandidateTooLarge, ErrBadSDPMid, ErrBadMLineIndex,
}

// checkRefusal fails unless err is nil or one of limitErrors.
func checkRefusal(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, e := range limitErrors {
		if err == e { //nolint:errorlint // sentinel values
			return
		}
	}
	t.Fatalf("error %T %v is not one of the documented refusals", err, err)
}

// FuzzCheckOffer: no input panics; an accepted description has at most
// MaxSendTracks sending sections and no application section.
func FuzzCheckOffer(f *testing.F) {
	f.Add(limPionOffer(f), true)
	f.Add(limPionAnswer(f), false)
	f.Add(chromeOffer, true)
	f.Add(firefoxOffer, true)
	f.Add(limSDPHead+limSection("video", "sendonly", []string{"96 VP8/90000"})+"a=simulcast:send 1;2,3\r\na=rid:1 send\r\n", true)
	f.Add(limSDPHead+limSection("video", "", []string{"102 H264/90000"}, "102 packetization-mode=1;profile-level-id=42e01f"), true)
	f.Add(limSDPHead+"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n", true)
	if raw, err := os.ReadFile(filepath.Join("testdata", "chromium156-first-offer.sdp")); err == nil {
		f.Add(string(raw), true)
	}
	f.Fuzz(func(t *testing.T, raw string, offer bool) {
		kind := webrtc.SDPTypeAnswer
		if offer {
			kind = webrtc.SDPTypeOffer
		}
		desc, err := checkOffer(raw, kind, 0)
		checkRefusal(t, err)
		if err != nil {
			if desc != nil {
				t.Fatal("refused but returned a description")
			}
			return
		}
		sending := 0
		for _, m := range desc.MediaDescriptions {
			if m.MediaName.Media != "audio" && m.MediaName.Media != "video" {
				t.Fatalf("accepted a %q limSection", m.MediaName.Media)
			}
			dir := direction(m.Attributes, direction(desc.Attributes, "sendrecv"))
			_, bundleOnly := m.Attribute("bundle-only")
			if (m.MediaName.Port.Value != 0 || bundleOnly) && (dir == "sendrecv" || dir == "sendonly") {
				sending++
			}
		}
		if sending > MaxSendTracks {
			t.Fatalf("accepted %d sending sections", sending)
		}
	})
}

// FuzzCheckCandidate: no input panics; an accepted non-empty candidate
// parses, is within MaxCandidateBytes and names its section.
func FuzzCheckCandidate(f *testing.F) {
	for _, c := range browserCandidates {
		f.Add(c, "0", true, uint16(0), true)
	}
	f.Add("", "", false, uint16(0), false)
	f.Add("candidate:1 1 udp 1 192.0.2.1 70000 typ host", "0", true, uint16(3), true)
	f.Add("candidate:1 1 tcp 1 ::1 9 typ host tcptype passive ufrag a", "{x}", true, uint16(1), false)
	f.Add("candidate:1 1 udp 1 192.0.2.1 5000 typ relay raddr 0.0.0.0 rport 0", "1", false, uint16(1), true)
	f.Fuzz(func(t *testing.T, raw, mid string, hasMid bool, index uint16, hasIndex bool) {
		c := Candidate{Candidate: raw}
		if hasMid {
			c.SDPMid = &mid
		}
		if hasIndex {
			c.SDPMLineIndex = &index
		}
		err := checkCandidate(c, 2)
		checkRefusal(t, err)
		if err != nil || raw == "" {
			return
		}
		if len(raw) > MaxCandidateBytes || c.SDPMid == nil && c.SDPMLineIndex == nil ||
			c.SDPMLineIndex != nil && *c.SDPMLineIndex >= 2 || c.SDPMid != nil && len(*c.SDPMid) > 64 {
			t.Fatalf("accepted %+v", c)
		}
	})
}
