package signaling

import (
	"strings"
	"testing"
)

func limPtr[T any](v T) *T { return &v }

func TestCheckCandidateGathered(t *testing.T) {
	cands, sections := limGathered(t)
	if len(cands) < 2 {
		t.Fatalf("pion gathered %d candidates (with the end), want at least one", len(cands))
	}
	for _, c := range cands {
		if err := checkCandidate(c, sections); err != nil {
			t.Errorf("%q: %v", c.Candidate, err)
		}
		if err := checkCandidate(c, -1); err != nil {
			t.Errorf("%q, sections unknown: %v", c.Candidate, err)
		}
	}
}

// Browser candidates, HAND-WRITTEN in the forms Chrome and Firefox hand
// to JavaScript (mDNS host names, srflx and relay with raddr, ICE-TCP,
// IPv6, Chrome's trailing generation/ufrag/network-id/network-cost).
var browserCandidates = []string{
	"candidate:2403599523 1 udp 2113937151 6f1c0e4a-3b2d-4c5e-8f90-a1b2c3d4e5f6.local 53112 typ host generation 0 ufrag Xc4q network-cost 999",
	"candidate:842163049 1 udp 1677729535 203.0.113.7 61532 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag Xc4q network-id 1 network-cost 10",
	"candidate:1947523011 1 udp 41885439 198.51.100.20 50316 typ relay raddr 203.0.113.7 rport 61532 generation 0 ufrag Xc4q network-id 1",
	"candidate:3591634452 1 tcp 1518280447 192.0.2.10 9 typ host tcptype active generation 0 ufrag Xc4q network-id 1",
	"candidate:0 1 UDP 2122252543 2001:db8::5 49203 typ host",
	"candidate:1 1 TCP 2105524479 192.0.2.10 9 typ host tcptype active",
	"candidate:3 1 UDP 1686052863 203.0.113.7 49203 typ srflx raddr 192.0.2.10 rport 49203",
}

func TestCheckCandidateBrowsers(t *testing.T) {
	for _, raw := range browserCandidates {
		if err := checkCandidate(Candidate{Candidate: raw, SDPMid: limPtr("0"), SDPMLineIndex: limPtr[uint16](0)}, 2); err != nil {
			t.Errorf("%q: %v", raw, err)
		}
		// Only one of sdpMid and sdpMLineIndex is enough; the prefix is
		// optional.
		if err := checkCandidate(Candidate{Candidate: strings.TrimPrefix(raw, "candidate:"), SDPMid: limPtr("{7e8f9a0b-1c2d}")}, 2); err != nil {
			t.Errorf("%q with a braced sdpMid: %v", raw, err)
		}
	}
}

func TestCheckCandidateRefused(t *testing.T) {
	good := browserCandidates[0]
	long := good + " " + strings.Repeat("x", MaxCandidateBytes)
	cases := []struct {
		name string
		c    Candidate
		want *Error
	}{
		{"too long", Candidate{Candidate: long, SDPMid: limPtr("0")}, ErrCandidateTooLarge},
		{"garbage", Candidate{Candidate: "candidate:garbage", SDPMid: limPtr("0")}, ErrBadCandidate},
		{"binary", Candidate{Candidate: "candidate:\x00\xff\x01 1 udp", SDPMid: limPtr("0")}, ErrBadCandidate},
		{"bad priority", Candidate{Candidate: "candidate:1 1 udp high 192.0.2.1 5000 typ host", SDPMid: limPtr("0")}, ErrBadCandidate},
		{"bad address", Candidate{Candidate: "candidate:1 1 udp 1 not-an-ip 5000 typ host", SDPMid: limPtr("0")}, ErrBadCandidate},
		{"port over 65535", Candidate{Candidate: "candidate:1 1 udp 1 192.0.2.1 70000 typ host", SDPMid: limPtr("0")}, ErrBadCandidate},
		{"unknown type", Candidate{Candidate: "candidate:1 1 udp 1 192.0.2.1 5000 typ bogus", SDPMid: limPtr("0")}, ErrBadCandidate},
		{"no typ", Candidate{Candidate: "candidate:1 1 udp 1 192.0.2.1 5000", SDPMid: limPtr("0")}, ErrBadCandidate},
		{"bad tcptype", Candidate{Candidate: "candidate:1 1 tcp 1 192.0.2.1 9 typ host tcptype sideways", SDPMid: limPtr("0")}, ErrBadCandidate},
		{"neither mid nor index", Candidate{Candidate: good}, ErrBadSDPMid},
		{"mid too long", Candidate{Candidate: good, SDPMid: limPtr(strings.Repeat("m", 65))}, ErrBadSDPMid},
		{"mid empty", Candidate{Candidate: good, SDPMid: limPtr("")}, ErrBadSDPMid},
		{"mid with a space", Candidate{Candidate: good, SDPMid: limPtr("0 1")}, ErrBadSDPMid},
		{"mid with a newline", Candidate{Candidate: good, SDPMid: limPtr("0\r\na=x")}, ErrBadSDPMid},
		{"index past the sections", Candidate{Candidate: good, SDPMLineIndex: limPtr[uint16](2)}, ErrBadMLineIndex},
		{"index, sections unknown", Candidate{Candidate: good, SDPMLineIndex: limPtr[uint16](7)}, nil},
		{"end, index past the sections", Candidate{SDPMLineIndex: limPtr[uint16](9)}, ErrBadMLineIndex},
	}
	for _, c := range cases {
		sections := 2
		if c.name == "index, sections unknown" {
			sections = -1 // unknown: not checked
		}
		err := checkCandidate(c.c, sections)
		if c.want == nil && err != nil || c.want != nil && err != c.want { //nolint:errorlint // sentinels
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "192.0.2") {
			t.Errorf("%s: the message echoes the candidate: %v", c.name, err)
		}
	}
	// The longest candidate allowed still parses as one.
	exact := good + " x-pad " + strings.Repeat("p", MaxCandidateBytes-len(good)-7)
	if err := checkCandidate(Candidate{Candidate: exact, SDPMid: limPtr("0")}, 2); err != nil || len(exact) != MaxCandidateBytes {
		t.Errorf("a candidate of exactly %d bytes (%d): %v", MaxCandidateBytes, len(exact), err)
	}
}

// The end of candidates: an empty candidate, with or without a mid.
func TestCheckCandidateEnd(t *testing.T) {
	for _, c := range []Candidate{{}, {SDPMid: limPtr("0")}, {SDPMid: limPtr("")}, {SDPMLineIndex: limPtr[uint16](1)}} {
		if err := checkCandidate(c, 2); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
